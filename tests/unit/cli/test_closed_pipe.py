"""A reader that closes the pipe early (``claude-watch report | head``) ends the command quietly.

Each command runs as a real child process whose stdout is a pipe closed before it writes, so
its first write (or the interpreter's flush at exit) meets EPIPE: without the guard in
``trayapp.__main__.main`` that prints a BrokenPipeError traceback and "Exception ignored".
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest


@pytest.mark.parametrize(
    "args",
    [
        ["config", "list"],
        ["doctor", "--json"],
        ["status", "--demo", "--json"],
        ["report", "daily", "--no-scan"],
        ["export", "csv", "--what", "daily", "--out", "-", "--no-scan"],
    ],
    ids=lambda a: " ".join(a),
)
def test_closed_pipe_ends_quietly(args: list[str], tmp_path: Path) -> None:
    env = {**os.environ, "CLAUDE_WATCH_HOME": str(tmp_path / "home"), "CLAUDE_CONFIG_DIR": str(tmp_path)}
    with subprocess.Popen(
        [sys.executable, "-m", "trayapp", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    ) as proc:
        assert proc.stdout is not None
        assert proc.stderr is not None
        proc.stdout.close()  # the reader is gone before the command writes anything
        started = time.monotonic()
        err = proc.stderr.read().decode(errors="replace")
        code = proc.wait(timeout=60)
    assert "Traceback" not in err, err
    assert "BrokenPipeError" not in err, err
    assert code == 141, (code, err, time.monotonic() - started)
