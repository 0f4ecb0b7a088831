"""Claude Code's live session registry: ``<config dir>/sessions/<pid>.json``, live records only.

Every running Claude Code process writes one file named after its pid (pid, sessionId, cwd,
startedAt, version, kind, entrypoint, name, parkedJobId, procStart; newer versions also status and
updatedAt). The format is undocumented, so each field is parsed on its own (wrong type: None;
unknown fields ignored) and a file that cannot be read or parsed is skipped, never fatal.

Files outlive crashes, and pids get reused, so a record counts only while :func:`pid_alive`
says its process is alive *and* is the process that wrote it (start stamp or start time). All
functions do file I/O: callers run them on the io lane.
"""

from __future__ import annotations

import json
import logging
import math
import os
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from trayapp.core.sessions import RegistryRecord
from trayapp.store.files import read_capped

log = logging.getLogger(__name__)

SUBDIR = "sessions"
MAX_FILE_BYTES = 64 * 1024  # a record is about 300 bytes
MAX_TEXT = 512  # longest name, kind, version... kept
MAX_PATH = 4096
# A process must have started no later than this after the ``startedAt`` it wrote: a reused pid
# always belongs to a process started after the writer exited. (No bound the other way:
# registration comes 1-8 s after the start, 181 s seen under load, and may be rewritten later.)
START_SLACK = timedelta(seconds=5)
# Two readings of one start time in different units (ticks, wall clock) agree within this.
STAMP_SLACK = timedelta(seconds=2)
_EPOCH_S = (1e9, 1e10)  # epoch seconds between 2001 and 2286 (and the same in milliseconds)

_CONTROL = dict.fromkeys([*range(0x20), *range(0x7F, 0xA0)])  # Unicode category Cc
_btime_cache: list[Any] = []  # [monotonic time read, boot time]
_logged: set[tuple[str, int, int]] = set()  # files already reported as unreadable (one log each)


class RegistryFileError(ValueError):
    """A registry file that is not a usable record (the message says why)."""


def registry_dirs(config_dirs: Sequence[Path]) -> list[Path]:
    """The folders to watch for registry changes (they may not exist yet)."""
    seen: dict[Path, None] = {}
    for directory in config_dirs:
        seen.setdefault(Path(directory) / SUBDIR, None)
    return list(seen)


def read_registry(config_dirs: Sequence[Path]) -> list[RegistryRecord]:
    """The records of every live Claude Code process under the given config dirs (blocking)."""
    records: list[RegistryRecord] = []
    for folder in registry_dirs(config_dirs):
        try:
            paths = sorted(p for p in folder.iterdir() if p.suffix == ".json")
        except OSError:
            continue  # no registry (yet): an older Claude Code, or none ran here
        for path in paths:
            try:
                record = parse_record(read_capped(path, MAX_FILE_BYTES), path=path, config_dir=folder.parent)
            except (OSError, RegistryFileError) as exc:  # UnsafeFileError: a FIFO, too large
                _log_once(path, exc)
                continue
            if pid_alive(record.pid, record.proc_start, record.started_at):
                records.append(record)
    return records


def load_json(raw: bytes) -> Any:
    """Strict JSON: UTF-8, no NaN/Infinity, nothing after the value."""
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise RegistryFileError(f"not JSON: {exc}") from None


def load_object(raw: bytes) -> dict[str, Any]:
    """Strict JSON holding one object."""
    data = load_json(raw)
    if not isinstance(data, dict):
        raise RegistryFileError("not a JSON object")
    return data


def parse_record(raw: bytes, *, path: Path, config_dir: Path) -> RegistryRecord:
    """One registry file; the pid must be a positive integer equal to the file's name."""
    data = load_object(raw)
    pid = data.get("pid")
    if type(pid) is not int or pid <= 0 or path.stem != str(pid):
        raise RegistryFileError(f"pid {pid!r} does not name this file")
    proc_start = data.get("procStart")
    if type(proc_start) is int:
        proc_start = str(proc_start)
    return RegistryRecord(
        pid=pid,
        config_dir=str(config_dir),
        path=str(path),
        session_id=text_field(data.get("sessionId")),
        cwd=text_field(data.get("cwd"), MAX_PATH),
        started_at=epoch_ms(data.get("startedAt")),
        version=text_field(data.get("version")),
        kind=text_field(data.get("kind")),
        entrypoint=text_field(data.get("entrypoint")),
        name=text_field(data.get("name")),
        parked_job_id=text_field(data.get("parkedJobId")),
        proc_start=text_field(proc_start, 64),
        status=text_field(data.get("status")),
        updated_at=epoch_ms(data.get("updatedAt")),
    )


def text_field(value: Any, limit: int = MAX_TEXT) -> str | None:
    """A string without control characters, trimmed and cut to ``limit``; anything else None."""
    if not isinstance(value, str):
        return None
    value = value[: limit * 2].translate(_CONTROL).strip()
    return value[:limit] or None


def epoch_ms(value: Any) -> datetime | None:
    """Epoch milliseconds (a JSON number) as an aware datetime; None when absent or absurd."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    seconds = value / 1000
    return datetime.fromtimestamp(seconds, UTC) if _EPOCH_S[0] <= seconds <= _EPOCH_S[1] else None


# -- liveness ------------------------------------------------------------------------------------


def pid_alive(pid: int, proc_start: str | None, started_at: datetime | None) -> bool:
    """Whether ``pid`` is alive and is the process that wrote the record (not a reused pid).

    In order: the process must exist (``os.kill(pid, 0)``, EPERM counting as alive; Windows:
    ``OpenProcess``). Then, where its start can be read (Linux ``/proc``, Windows
    ``GetProcessTimes``): ``procStart`` decides when its format is known (Linux clock ticks since
    boot, or an epoch/ISO time); otherwise the process must have started no later than
    ``startedAt`` + :data:`START_SLACK`. When neither can be checked, existing is enough.
    """
    if pid <= 0:
        return False
    if sys.platform == "win32":
        exists, started = _windows_process(pid)
        ticks: int | None = None
    else:
        exists, ticks, started = _signal_alive(pid), None, None
        stat = _linux_stat(pid) if exists else None
        if stat is not None:
            exists = stat[0] not in ("Z", "X")  # a zombie has exited; only its parent has not reaped it
            ticks, started = stat[1], _tick_time(stat[1])
    if not exists:
        return False
    if ticks is not None and proc_start == str(ticks):
        return True  # the common case on Linux, settled without the wall clock
    if started is not None and proc_start is not None:
        verdict = _stamp_matches(proc_start, ticks, started)
        if verdict is not None:
            return verdict
    if started is not None and started_at is not None:
        return started <= started_at + START_SLACK
    return True


def _stamp_matches(stamp: str, ticks: int | None, started: datetime) -> bool | None:
    """True/False when ``procStart`` can be compared with the process's start; None when its
    format is unknown."""
    if stamp.isdigit() and len(stamp) <= 20:
        n = int(stamp)
        if ticks is not None and n == ticks:
            return True
        for scale in (1, 1000):  # epoch seconds, epoch milliseconds
            if _EPOCH_S[0] <= n / scale <= _EPOCH_S[1]:
                return abs(datetime.fromtimestamp(n / scale, UTC) - started) <= STAMP_SLACK
        return False if ticks is not None and n <= _uptime_ticks() else None
    try:
        when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    return abs(when - started) <= STAMP_SLACK


def _signal_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except PermissionError:
        return True  # someone else's process, but it exists
    except (OSError, OverflowError):
        return False
    return True


def _clock_ticks() -> int:
    if sys.platform == "win32":
        return 100  # unused there: no /proc
    try:
        return os.sysconf("SC_CLK_TCK")
    except (AttributeError, ValueError, OSError):
        return 100


def _linux_stat(pid: int) -> tuple[str, int] | None:
    """(state letter, start in clock ticks since boot) from ``/proc/<pid>/stat``; None where
    there is no ``/proc``. The command name may hold spaces and parentheses: fields are counted
    after its last ")"."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text("ascii", "replace")
        fields = stat[stat.rindex(")") + 2 :].split()
        return fields[0], int(fields[19])  # fields 3 and 22
    except (OSError, ValueError, IndexError):
        return None


def _tick_time(ticks: int) -> datetime | None:
    btime = _boot_time()
    return None if btime is None else datetime.fromtimestamp(btime + ticks / _clock_ticks(), UTC)


def _boot_time() -> int | None:
    """``btime`` from ``/proc/stat`` (a large file on big machines: read once a minute)."""
    now = time.monotonic()
    if _btime_cache and now - _btime_cache[0] < 60:
        cached: int | None = _btime_cache[1]
        return cached
    btime = None
    try:
        for line in Path("/proc/stat").read_text("ascii", "replace").splitlines():
            if line.startswith("btime "):
                btime = int(line.split()[1])
                break
    except (OSError, ValueError, IndexError):
        pass
    _btime_cache[:] = [now, btime]
    return btime


def _uptime_ticks() -> int:
    try:
        return int(float(Path("/proc/uptime").read_text("ascii").split()[0]) * _clock_ticks())
    except (OSError, ValueError, IndexError):
        return 0


if sys.platform == "win32":  # untested here: kept small; Linux CI covers the logic above
    import ctypes
    from ctypes import wintypes

    def _windows_process(pid: int) -> tuple[bool, datetime | None]:
        """(exists, start time) through OpenProcess + GetProcessTimes."""
        kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return ctypes.get_last_error() == 5, None  # ERROR_ACCESS_DENIED: exists
        try:
            code = wintypes.DWORD()
            if kernel32.GetExitCodeProcess(handle, ctypes.byref(code)) and code.value != 259:
                return False, None  # exited (259 = STILL_ACTIVE)
            times = [wintypes.FILETIME() for _ in range(4)]
            if not kernel32.GetProcessTimes(handle, *(ctypes.byref(t) for t in times)):
                return True, None
            hundred_ns = (times[0].dwHighDateTime << 32) | times[0].dwLowDateTime
            return True, datetime(1601, 1, 1, tzinfo=UTC) + timedelta(microseconds=hundred_ns // 10)
        finally:
            kernel32.CloseHandle(handle)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _log_once(path: Path, exc: Exception) -> None:
    try:
        st = path.stat()
        key = (str(path), st.st_size, st.st_mtime_ns)
    except OSError:
        key = (str(path), -1, -1)
    if key in _logged:
        return
    if len(_logged) > 256:
        _logged.clear()
    _logged.add(key)
    log.debug("session registry: skipped %s: %s", path, exc)
