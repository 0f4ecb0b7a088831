"""Commands started together on a new data folder all get the same correct totals (issue 20).

Two `report` commands on a fresh folder crashed one of them in 10 of 10 cold pairs: both ran the
schema migration ("table files already exists") or both began a cold load ("a cold load needs an
empty ledger"). Migrations now re-check the version under SQLite's write lock, and one scan at a
time per ledger runs under an inter-process lock; the others wait and find a warm ledger.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

CASES = Path(__file__).resolve().parents[2] / "fixtures" / "transcripts" / "cases"


def test_four_cold_reports_at_once_agree(tmp_path: Path) -> None:
    config = tmp_path / "claude"
    shutil.copytree(CASES, config)
    for round_ in range(4):
        env = {
            **os.environ,
            "CLAUDE_WATCH_HOME": str(tmp_path / f"home-{round_}"),
            "CLAUDE_CONFIG_DIR": str(config),
        }
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "trayapp", "report", "daily", "--json"],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
            )
            for _ in range(4)
        ]
        results = [p.communicate(timeout=120) for p in procs]
        errors = [
            err.decode(errors="replace")[-400:]
            for p, (_, err) in zip(procs, results, strict=True)
            if p.returncode
        ]
        assert errors == [], f"round {round_}"
        totals = {json.dumps(json.loads(out)["totals"], sort_keys=True) for out, _ in results}
        assert len(totals) == 1, totals
