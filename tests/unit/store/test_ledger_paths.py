"""A transcript whose file name is not valid UTF-8 is counted like any other (issue 20).

Python hands such a name over with lone surrogates (PEP 383), which SQLite's TEXT refuses: every
``report`` stopped with "surrogates not allowed". The ledger stores the name's bytes and reads
them back exactly, so a warm rerun recognises the file instead of reading it again.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from trayapp.store.ledger.write import displayable, path_from_db, path_to_db

CASES = Path(__file__).resolve().parents[2] / "fixtures" / "transcripts" / "cases"
RENAMED = "33333333-3333-4333-8333-333333333333.jsonl"


def report_totals(home: Path, config: Path) -> dict[str, float]:
    env = {**os.environ, "CLAUDE_WATCH_HOME": str(home), "CLAUDE_CONFIG_DIR": str(config)}
    done = subprocess.run(
        [sys.executable, "-m", "trayapp", "report", "daily", "--json"],
        capture_output=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    totals: dict[str, float] = json.loads(done.stdout)["totals"]
    return totals


@pytest.mark.skipif(sys.platform == "win32", reason="Windows file names are UTF-16: always text")
def test_a_non_utf8_file_name_is_counted_cold_and_warm(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    shutil.copytree(CASES, plain)
    odd = tmp_path / "odd"
    shutil.copytree(CASES, odd)
    (original,) = odd.rglob(RENAMED)
    os.rename(bytes(original), os.fsencode(original.parent) + b"/\xff\xfe-not-utf8.jsonl")

    expected = report_totals(tmp_path / "home-plain", plain)
    assert report_totals(tmp_path / "home-odd", odd) == expected  # cold: nothing lost
    assert report_totals(tmp_path / "home-odd", odd) == expected  # warm: nothing counted twice


def test_paths_round_trip_through_the_store() -> None:
    odd = os.fsdecode(b"/home/u/.claude/projects/p/\xff\xfe.jsonl")
    assert path_to_db(odd).startswith("fsbytes:")
    assert path_from_db(path_to_db(odd)) == odd
    assert path_to_db("/home/u/é.jsonl") == "/home/u/é.jsonl"  # valid UTF-8 is stored as it is
    assert path_from_db("/home/u/é.jsonl") == "/home/u/é.jsonl"
    assert displayable(os.fsdecode(b"a\xffb")) == "a\ufffdb"
