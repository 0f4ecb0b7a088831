"""Bring the terminal that runs a process to the front, where the desktop lets us (best effort).

"Open" on a session (the popup's Sessions panel, a "needs you" notification) should land the user
in the terminal where Claude Code waits. Claude Code's registry gives the session's pid; its
terminal is the nearest ancestor that owns a top-level window. On Linux under X11 (and XWayland)
:func:`focus_terminal` walks the parent chain through ``/proc/<pid>/stat`` and asks the window
manager for a window whose ``_NET_WM_PID`` is one of those pids: ``wmctrl -lp`` then
``wmctrl -ia`` when wmctrl is installed, otherwise ``xdotool search --pid`` then
``windowactivate`` (or, with a window manager that has no ``_NET_ACTIVE_WINDOW``, raise and
focus). Anything missing (no display, neither tool, a session inside tmux or over ssh whose
ancestors own no window, a tool that fails or hangs) answers False and the caller shows the
session in the popup instead. It never raises for those.

Blocking: it starts child processes (each capped at :data:`TIMEOUT` seconds and
:data:`MAX_OUTPUT` bytes). From the event loop await :func:`focus_terminal_off_thread`, which
runs it on the ``io`` lane.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from trayapp import runtime

log = logging.getLogger(__name__)

PROC = Path("/proc")
MAX_DEPTH = 32  # parent links followed; a real chain (terminal, shell, claude) is under ten
TIMEOUT = 2.0
MAX_OUTPUT = 1 << 20
MAX_STAT = 4096


def parent_pid(pid: int, proc: Path = PROC) -> int | None:
    """The parent of ``pid`` from ``<proc>/<pid>/stat``, or None (gone, unreadable, malformed).

    The second field (the command name, in parentheses) may hold spaces and parentheses itself,
    so the fields are read after the last ``)``.
    """
    try:
        with open(proc / str(pid) / "stat", "rb") as f:
            raw = f.read(MAX_STAT)
    except OSError:
        return None
    text = raw.decode("ascii", "replace")
    close = text.rfind(")")
    if close < 0:
        return None
    fields = text[close + 1 :].split()
    if len(fields) < 2 or not fields[1].isdigit():
        return None
    return int(fields[1])


def ancestors(pid: int, proc: Path = PROC) -> list[int]:
    """``pid`` and its parents, nearest first, up to (not including) pid 1; empty when ``pid``
    is not running. Stops at a loop or after :data:`MAX_DEPTH` links."""
    if pid <= 1 or parent_pid(pid, proc) is None:
        return []
    chain = [pid]
    while len(chain) < MAX_DEPTH:
        parent = parent_pid(chain[-1], proc)
        if parent is None or parent <= 1 or parent in chain:
            break
        chain.append(parent)
    return chain


def parse_wmctrl(text: str) -> list[tuple[str, int]]:
    """``(window id, pid)`` for each line of ``wmctrl -lp`` (``0x03a00003  0 4242 host title``);
    lines that do not parse and windows without a pid (0) are skipped."""
    windows: list[tuple[str, int]] = []
    for line in text.splitlines():
        parts = line.split(None, 3)
        if len(parts) < 3 or not parts[0].startswith("0x"):
            continue
        try:
            int(parts[0], 16)
            wpid = int(parts[2])
        except ValueError:
            continue
        if wpid > 0:
            windows.append((parts[0], wpid))
    return windows


def parse_window_ids(text: str) -> list[str]:
    """The decimal window ids ``xdotool search`` prints, one a line; anything else skipped."""
    return [line.strip() for line in text.splitlines() if line.strip().isdigit()]


def _run(argv: list[str]) -> str | None:
    """Run a tool, return its output (capped), or None when it failed, hung or could not start.

    The tool runs in its own process group, killed whole after :data:`TIMEOUT` seconds (a child
    it left behind would otherwise hold the pipe open).
    """
    try:
        child = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError as exc:
        log.debug("focus: %s did not start: %s", argv[0], exc)
        return None
    try:
        out, _ = child.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        log.debug("focus: %s took longer than %s s", argv[:2], TIMEOUT)
        with contextlib.suppress(OSError):
            os.killpg(child.pid, signal.SIGKILL)
        child.communicate()
        return None
    if child.returncode != 0:
        log.debug("focus: %s exited %s", argv[:2], child.returncode)
        return None
    return out[:MAX_OUTPUT].decode("utf-8", "replace")


def _focus_wmctrl(wmctrl: str, chain: list[int]) -> bool:
    listing = _run([wmctrl, "-lp"])
    if listing is None:
        return False
    windows = parse_wmctrl(listing)
    for pid in chain:
        for wid, wpid in windows:
            if wpid == pid and _run([wmctrl, "-ia", wid]) is not None:
                return True
    return False


def _focus_xdotool(xdotool: str, chain: list[int]) -> bool:
    for pid in chain:
        found = _run([xdotool, "search", "--onlyvisible", "--pid", str(pid)])
        for wid in parse_window_ids(found or ""):
            if _run([xdotool, "windowactivate", wid]) is not None:
                return True
            # No _NET_ACTIVE_WINDOW (a bare X server, some tiling WMs): raise and focus instead.
            if (
                _run([xdotool, "windowraise", wid]) is not None
                and _run([xdotool, "windowfocus", wid]) is not None
            ):
                return True
    return False


def focus_terminal(
    pid: int,
    *,
    proc: Path = PROC,
    which: Callable[[str], str | None] = shutil.which,
) -> bool:
    """Bring the window of ``pid``'s nearest windowed ancestor to the front; True when a tool
    said it did. Best effort (see the module docstring); never raises for a missing desktop.

    macOS and Windows answer False for now: macOS would need the Accessibility permission
    (or AppleScript per terminal app), and Windows lets only the foreground process move the
    foreground window (``AllowSetForegroundWindow`` from the app the user clicked in).
    """
    if not sys.platform.startswith("linux") or not os.environ.get("DISPLAY"):
        return False
    chain = ancestors(pid, proc)
    if not chain:
        return False
    wmctrl = which("wmctrl")
    if wmctrl and _focus_wmctrl(wmctrl, chain):
        return True
    xdotool = which("xdotool")
    return bool(xdotool) and _focus_xdotool(str(xdotool), chain)


async def focus_terminal_off_thread(pid: int | None) -> bool:
    """:func:`focus_terminal` on the runtime's ``io`` lane (False for an unknown pid)."""
    if pid is None:
        return False
    return await runtime.run_blocking(focus_terminal, pid, lane="io")
