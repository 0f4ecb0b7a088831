"""Child processes in their own process group, signalled and ended whole.

A ``claude`` run starts helpers (shells, MCP servers, ``npm test``); stopping only the child
would orphan them (opcode#9's "stop did not kill the process"). So every child we start leads a
group of its own: a new session on POSIX (its pid is the group id), ``CREATE_NEW_PROCESS_GROUP``
on Windows, where ``taskkill /T`` ends the tree (a Job Object would also catch processes that
leave the tree; not used yet, documented in the README).

Used by the window start (one headless ping) and the agents runner (queued headless runs).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import Any


def popen_group_kwargs() -> dict[str, Any]:
    """Keyword arguments for ``subprocess.Popen`` / ``asyncio.create_subprocess_exec`` that put the
    child at the head of a new process group."""
    if sys.platform == "win32":
        return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
    return {"start_new_session": True}


def signal_group(pgid: int, *, hard: bool, alive: bool = True) -> bool:
    """Send SIGTERM (``hard``: SIGKILL) to the group ``pgid``; Windows: ``taskkill /T [/F]`` on the
    tree of the process ``pgid``, only while ``alive`` (after its exit the pid may be someone
    else's). Returns whether the signal reached a group (False: gone or not ours)."""
    if sys.platform == "win32":
        if not alive:
            return False
        force = ["/F"] if hard else []
        done = subprocess.run(["taskkill", "/T", *force, "/PID", str(pgid)], capture_output=True, check=False)
        return done.returncode == 0
    try:
        os.killpg(pgid, signal.SIGKILL if hard else signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def kill_popen_group(proc: subprocess.Popen[bytes], hard: bool) -> None:
    """Signal the group a ``Popen`` child leads (its pid is the group's id)."""
    signal_group(proc.pid, hard=hard, alive=proc.poll() is None)


def group_alive(pgid: int) -> bool:
    """Whether any process of the group ``pgid`` is still there (POSIX: signal 0 to the group)."""
    if sys.platform == "win32":
        return pid_alive(pgid)
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists (a zombie counts as gone on Linux)."""
    if sys.platform == "win32":
        done = subprocess.run(["tasklist", "/FI", f"PID eq {pid}", "/NH"], capture_output=True, check=False)
        return str(pid) in done.stdout.decode("utf-8", "replace")
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = _proc_stat(pid)
    return stat is None or stat[0] != "Z"


def start_ticks(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (Linux ``/proc/<pid>/stat`` field 22), to
    tell a reused pid from ours; None where unknown (other systems, gone)."""
    stat = _proc_stat(pid)
    if stat is None:
        return None
    try:
        return int(stat[19])
    except (IndexError, ValueError):
        return None


def _proc_stat(pid: int) -> list[str] | None:
    """The fields after the command name of ``/proc/<pid>/stat`` (state first); None off Linux."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            raw = fh.read(4096).decode("ascii", "replace")
    except OSError:
        return None
    end = raw.rfind(")")
    return raw[end + 2 :].split() if end >= 0 else None
