"""Colour and width as a person sees them: the real CLI in a pseudo-terminal (``pty``), and piped.

In a terminal the level colours are the tray icon's (``core.palette.ICON``, 24-bit with
``COLORTERM=truecolor``, else the nearest xterm-256 colour); piped, with ``NO_COLOR`` or with
the global ``--no-color`` there is not one escape code. Every table fits the terminal's 80
columns (``status`` was 86 wide, reports 159-194).
"""

from __future__ import annotations

import fcntl
import os
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from trayapp.cli.term import Painter, nearest_256, table
from trayapp.core.models import Level
from trayapp.core.palette import ICON

ROOT = Path(__file__).resolve().parents[3]
FIX = ROOT / "tests" / "fixtures" / "transcripts" / "cases" / "projects"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "NO_COLOR", "COLORTERM", "TERM")}
    env.update(PYTHONPATH=str(ROOT), TERM="xterm-256color", **extra)
    return env


def in_pty(args: list[str], env: dict[str, str], columns: int = 80) -> str:
    """Run ``claude-watch ARGS`` with stdout and stderr on a pseudo-terminal ``columns`` wide."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "trayapp", *args],
        stdin=subprocess.DEVNULL, stdout=slave, stderr=slave, env=env, cwd=ROOT,
    )  # fmt: skip
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    proc.wait(timeout=60)
    return b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")


def piped(args: list[str], env: dict[str, str]) -> str:
    r = subprocess.run(
        [sys.executable, "-m", "trayapp", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
    )
    return r.stdout + r.stderr


def truecolour(level: Level) -> str:
    value = ICON.levels[level].lstrip("#")
    return "\x1b[38;2;{};{};{}m".format(*(int(value[i : i + 2], 16) for i in (0, 2, 4)))


@pytest.fixture
def transcripts(claude_dir: Path) -> Path:
    import shutil

    shutil.copytree(FIX, claude_dir / "projects")
    return claude_dir


def test_status_in_a_terminal_has_the_trays_level_colours_and_fits_80_columns() -> None:
    out = in_pty(["status", "--demo"], _env(COLORTERM="truecolor"))
    assert truecolour(Level.OK) in out  # the demo's windows are all below the warning level
    assert "\x1b[1mWindow" in out  # the header in bold
    plain = ANSI.sub("", out)
    assert "5-hour" in plain
    assert max(len(line) for line in plain.splitlines()) <= 80, plain


@pytest.mark.parametrize("columns", [60, 44])
def test_status_in_a_narrow_terminal_gives_up_pace_then_the_bar(columns: int) -> None:
    plain = ANSI.sub("", in_pty(["status", "--demo"], _env(), columns=columns))
    assert max(len(line) for line in plain.splitlines()) <= columns, plain
    rows = [line for line in plain.splitlines() if line.startswith("5-hour")]
    assert rows
    assert "%" in rows[0]  # the limit figure is the last thing to go
    assert ("░" in rows[0] or "█" in rows[0]) == (columns >= 60)


def test_256_colour_terminals_get_the_nearest_xterm_colour() -> None:
    out = in_pty(["status", "--demo"], _env())
    rgb = tuple(int(ICON.levels[Level.OK].lstrip("#")[i : i + 2], 16) for i in (0, 2, 4))
    assert f"\x1b[38;5;{nearest_256(rgb)}m" in out  # type: ignore[arg-type]
    assert "38;2;" not in out


@pytest.mark.parametrize(
    ("args", "extra"),
    [(["status", "--demo"], {"NO_COLOR": "1"}), (["--no-color", "status", "--demo"], {}),
     (["status", "--demo", "--no-color"], {})],
    ids=["NO_COLOR", "--no-color first", "--no-color after the command"],
)  # fmt: skip
def test_no_colour_when_asked(args: list[str], extra: dict[str, str]) -> None:
    out = in_pty(args, _env(COLORTERM="truecolor", **extra))
    assert "5-hour" in out
    assert "\x1b[" not in out


@pytest.mark.parametrize(
    "args",
    [
        ["status", "--demo"],
        ["report"],
        ["report", "session"],
        ["report", "blocks"],
        ["doctor"],
        ["config", "list"],
    ],
    ids=" ".join,
)
def test_piped_output_has_no_escape_codes(args: list[str], transcripts: Path) -> None:
    out = piped(args, _env(COLORTERM="truecolor"))
    assert "\x1b" not in out
    assert out.strip()


@pytest.mark.parametrize(
    "args",
    [["report"], ["report", "session"], ["report", "blocks"], ["report", "--breakdown"], ["doctor"],
     ["config", "list"], ["sessions"]],
    ids=" ".join,
)  # fmt: skip
def test_every_table_fits_an_80_column_terminal(args: list[str], transcripts: Path) -> None:
    out = in_pty(args, _env(COLORTERM="truecolor"))
    assert "Traceback" not in out, out
    plain = ANSI.sub("", out)
    # Paths and URLs are never broken (the hermetic temp paths are long); nothing else may pass.
    wide = [line for line in plain.splitlines() if len(line) > 80 and max(map(len, line.split())) < 40]
    assert not wide, "\n".join(wide)


def test_report_and_doctor_are_coloured_in_a_terminal(transcripts: Path) -> None:
    report = in_pty(["report"], _env(COLORTERM="truecolor"))
    assert "\x1b[1mDate" in report  # bold header
    assert "\x1b[1mTotal" in report  # bold totals
    doctor = in_pty(["doctor"], _env(COLORTERM="truecolor"))
    assert any(truecolour(level) in doctor for level in (Level.OK, Level.WARNING, Level.AT_LIMIT))


# ----- the pieces


def test_nearest_256_colour() -> None:
    assert nearest_256((0, 0, 0)) == 16
    assert nearest_256((255, 255, 255)) == 231
    assert nearest_256((255, 0, 0)) == 196
    assert nearest_256((128, 128, 128)) == 244  # a grey goes to the grey ramp
    assert nearest_256((0x2E, 0xA0, 0x43)) == 35  # the tray's ok green


def test_painter_is_a_no_op_when_off() -> None:
    paint = Painter(enabled=False)
    assert paint.level("37%", "ok") == "37%"
    assert paint.bold("x") == "x"
    on = Painter(enabled=True, truecolor=True)
    assert on.level("37%", "critical") == truecolour(Level.CRITICAL) + "37%\x1b[0m"


def test_table_styles_after_alignment_and_fits() -> None:
    headers = ["Date", "Models", "Input", "Output", "Total"]
    rows = [["2026-03-01", "haiku-4.5, opus-4.8-fast, sonnet-4.5, mystery-9", "1,184", "1,419", "269,703"]]
    full = table(headers, rows, right={2, 3, 4})
    assert len(full.splitlines()[0]) > 40
    fitted = table(headers, rows, right={2, 3, 4}, width=40, squeeze=1, drop=("Input", "Output"))
    assert all(len(line) <= 40 for line in fitted.splitlines()), fitted
    assert "Total" in fitted
    assert "…" in fitted
    styled = table(headers, rows, right={2, 3, 4}, style=lambda r, c, t: f"<{t}>")
    assert ANSI.sub("", styled).replace("<", "").replace(">", "") == full  # widths unchanged


def test_sessions_table_fits_and_colours_the_state(fake_sessions, fake_claude) -> None:  # type: ignore[no-untyped-def]
    from tests.unit.cli.test_sessions_cli import waiting, write_hooks

    long = "a-project-folder-with-a-very-long-name-indeed-and-then-some"
    fake_sessions.spawn("alpha", cwd=f"/work/{long}", name="refactor-the-ledger-writer")
    fake_sessions.spawn("beta")
    write_hooks(os.getpid(), waiting("beta"))  # this test process stands for the running app
    out = in_pty(["sessions"], _env(COLORTERM="truecolor"), columns=60)
    plain = ANSI.sub("", out)
    assert max(len(line) for line in plain.splitlines()) <= 60, plain
    assert "a-project-folder" in plain  # shortened with "…", not left out
    assert truecolour(Level.WARNING) + "Needs you" in out
