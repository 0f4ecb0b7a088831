"""Helpers for the statusline tests: run the command in-process or as a real child process."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

FIXTURES = Path(__file__).parents[1] / "fixtures" / "statusline"
EXAMPLES = sorted(FIXTURES.glob("*.json"))
# 2026-08-10 10:00 UTC: before the resets in stdin-2.1.220-full.json (five_hour 1786370400).
NOW = 1786356000.0


def run_inprocess(payload: bytes, argv: list[str] | None = None) -> tuple[int, str]:
    from trayapp.statusline.run import main

    out = io.BytesIO()
    rc = main(list(argv or []), stdin=io.BytesIO(payload), stdout=out)
    return rc, out.getvalue().decode("utf-8")


def run_process(
    payload: bytes, argv: list[str] | None = None, env: dict[str, str] | None = None, timeout: float = 30
) -> subprocess.CompletedProcess[bytes]:
    """The real command in a child process (``python -m trayapp statusline``)."""
    return subprocess.run(
        [sys.executable, "-m", "trayapp", "statusline", *(argv or [])],
        input=payload,
        capture_output=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )


def example(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


FULL = FIXTURES / "stdin-2.1.220-full.json"


def write_capture(state: Path, payload: dict, at: float) -> None:
    """Store ``payload`` (Claude Code's status line input) as the session capture taken at ``at``,
    as the statusline command would."""
    from trayapp.statusline import capture, parse

    cap = parse.normalize(payload, at, [])
    day, start = capture.local_day(at)
    capture.write_session(str(state), cap, day, start)
