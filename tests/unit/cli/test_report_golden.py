"""Every ``report`` and ``export csv`` output on the fixture trees, compared with golden files in
``tests/fixtures/report-golden/``: the start-up work on the warm path (lazy imports, slots classes
instead of dataclasses, a cheaper today-cost update) must not change a single value or line.

The golden files were written by the code at commit 4d801de, before that work. After an intended
change of output, rewrite them from the current code with
``CLAUDE_WATCH_WRITE_GOLDEN=1 .venv/bin/python -m pytest tests/unit/cli/test_report_golden.py``
and review the diff. JSON is compared as data (floats to 1e-9 relative, since a different summation
order may move the last bit), tables and CSV as text.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.fixtures_ledger import FIX
from trayapp.__main__ import main

GOLDEN = Path(__file__).parents[2] / "fixtures" / "report-golden"
TREES = {
    "cases": FIX / "cases" / "projects",
    "ccusage": FIX / "ccusage" / "fixtures" / "claude" / "projects",
}
STATS_CACHE = {
    "version": 4,
    "lastComputedDate": "2026-03-03",
    "dailyModelTokens": [
        {"date": "2026-01-15", "tokensByModel": {"claude-opus-4-5": 3037, "<synthetic>": 5}},
        {"date": "2026-03-01", "tokensByModel": {"claude-sonnet-4-5": 99}},
    ],
}
UTC = ("--timezone", "UTC")
RUNS: dict[str, tuple[str, list[str]]] = {
    "cases-daily.json": ("cases", ["report", "daily", "--json", *UTC]),
    "cases-daily-calculate.json": ("cases", ["report", "daily", "--json", "--cost-mode", "calculate", *UTC]),
    "cases-daily-display.json": ("cases", ["report", "daily", "--json", "--cost-mode", "display", *UTC]),
    "cases-daily-berlin.json": ("cases", ["report", "daily", "--json", "--timezone", "Europe/Berlin"]),
    "cases-daily-range.json": (
        "cases",
        ["report", "daily", "--json", "--since", "20260302", "--until", "2026-03-02", *UTC],
    ),  # fmt: skip
    "cases-monthly.json": ("cases", ["report", "monthly", "--json", *UTC]),
    "cases-session.json": ("cases", ["report", "session", "--json", *UTC]),
    "cases-project.json": ("cases", ["report", "project", "--json", *UTC]),
    "cases-blocks.json": ("cases", ["report", "blocks", "--json", *UTC]),
    "cases-daily.txt": ("cases", ["report", "daily", "--breakdown", *UTC]),
    "cases-monthly.txt": ("cases", ["report", "monthly", *UTC]),
    "cases-session.txt": ("cases", ["report", "session", *UTC]),
    "cases-project.txt": ("cases", ["report", "project", "--breakdown", *UTC]),
    "cases-blocks.txt": ("cases", ["report", "blocks", *UTC]),
    "cases-export-daily.csv": ("cases", ["export", "csv", "--what", "daily", "--out", "-", *UTC]),
    "cases-export-sessions.csv": ("cases", ["export", "csv", "--what", "sessions", "--out", "-", *UTC]),
    "stats-daily.json": ("cases+stats", ["report", "daily", "--json", *UTC]),
    "stats-daily.txt": ("cases+stats", ["report", "daily", *UTC]),
    "ccusage-daily.json": ("ccusage", ["report", "daily", "--json", *UTC]),
    "ccusage-session.json": ("ccusage", ["report", "session", "--json", *UTC]),
    "ccusage-daily.txt": ("ccusage", ["report", "daily", "--breakdown", *UTC]),
}


def _same(a: Any, b: Any, where: str = "$") -> None:
    if isinstance(a, float) or isinstance(b, float):
        assert isinstance(a, int | float), where
        assert isinstance(b, int | float), where
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12), f"{where}: {a!r} != {b!r}"
    elif isinstance(a, dict):
        assert isinstance(b, dict), where
        assert list(a) == list(b), f"{where}: keys {list(a)} != {list(b)}"
        for k in a:
            _same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list), where
        assert len(a) == len(b), f"{where}: lengths differ"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{where}[{i}]")
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


@pytest.mark.parametrize("name", sorted(RUNS))
def test_output_matches_golden(
    name: str, claude_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)  # tables fit COLUMNS when it is set: the full width here
    tree, argv = RUNS[name]
    shutil.copytree(TREES[tree.split("+")[0]], claude_dir / "projects")
    if tree.endswith("+stats"):
        (claude_dir / "stats-cache.json").write_text(json.dumps(STATS_CACHE), encoding="utf-8")
    assert main(argv) == 0
    out = capsys.readouterr().out
    golden = GOLDEN / name
    if os.environ.get("CLAUDE_WATCH_WRITE_GOLDEN") == "1":
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_bytes(out.encode("utf-8"))
    expected = golden.read_bytes().decode("utf-8")  # bytes: the CSV's CRLF line ends are compared too
    if name.endswith(".json"):
        _same(json.loads(out), json.loads(expected))
        assert out.startswith("{\n  ")
        assert out.endswith("}\n")
    else:
        assert out == expected
