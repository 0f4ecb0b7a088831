"""Write statusline captures to disk, atomically and without locks.

Layout under ``<state dir>/statusline/``:

* ``sessions/<session id>.json``: the latest capture of one Claude Code session, plus a small
  day ledger (``today``) from which today's local cost is summed.
* ``rate-limits.json``: the newest ``rate_limits`` seen from any session, with its capture time
  and the Claude Code version.

Every file is written with ``trayapp.store.files.atomic_write`` (a unique temp name moved into
place with ``os.replace``; that module imports only ``os``, so it costs this command nothing), so
a reader sees the old file or the new one, never a torn one, and ten sessions rendering at once
cannot corrupt anything. ``rate-limits.json`` is compare-and-replace: a writer only replaces it
when its capture is newer, and re-checks after the rename. A lost race there cannot lose a
reading either, because each session file carries its own ``rate_limits`` and readers
(``trayapp.sources.statusline_capture``) take the newest of all of them. No locks are taken:
the command must never wait.
"""

from __future__ import annotations

import json
import os
import time

from trayapp.store.files import atomic_write

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

SUBDIR = "statusline"
SESSIONS = "sessions"
LATEST = "rate-limits.json"
KEEP_SESSIONS_DAYS = 7


def capture_dir(state_dir: str) -> str:
    return os.path.join(state_dir, SUBDIR)


def safe_name(session_id: str) -> str:
    """A file-name-safe form of a session id (UUIDs pass through unchanged)."""
    cleaned = "".join(c if (c.isascii() and (c.isalnum() or c in "-_.")) else "_" for c in session_id)
    cleaned = cleaned.strip(".")[:120]
    return cleaned or "unknown"


def read_json(path: str) -> dict[str, Any] | None:
    """A JSON object from ``path``, or None when missing, unreadable, torn or not an object."""
    try:
        with open(path, "rb") as fh:
            data = json.loads(fh.read(1024 * 1024))
    except (OSError, ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def write_json(path: str, data: dict[str, Any]) -> None:
    """Write ``data`` as compact JSON to ``path``, atomically and private (0600)."""
    atomic_write(path, json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8", "replace"))


def _captured_at(data: dict[str, Any] | None) -> float:
    value = data.get("captured_at") if data else None
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def local_day(now: float, tz: str = "") -> tuple[str, float]:
    """(``YYYY-MM-DD``, epoch of that day's midnight) in ``tz`` (IANA name) or the local zone."""
    if tz:
        try:
            from datetime import datetime
            from zoneinfo import ZoneInfo

            dt = datetime.fromtimestamp(now, ZoneInfo(tz))
            midnight = dt.replace(hour=0, minute=0, second=0, microsecond=0)
            return dt.strftime("%Y-%m-%d"), midnight.timestamp()
        except Exception:
            pass  # an invalid zone: the settings dialog reports it; fall back to local time
    t = time.localtime(now)
    local_midnight = time.mktime((t.tm_year, t.tm_mon, t.tm_mday, 0, 0, 0, 0, 0, -1))
    return time.strftime("%Y-%m-%d", t), local_midnight


def day_ledger(
    prev: dict[str, Any] | None, capture: dict[str, Any], day: str, day_start: float
) -> dict[str, Any]:
    """How much of this session's cost belongs to ``day``: ``{"day", "base", "carry"}``.

    ``base`` is the session cost when the day began (or when first seen, for a session already
    running before midnight); ``carry`` keeps what was spent before a ``/clear`` reset the
    session's cost counter to zero.
    """
    cost = capture.get("cost_usd") or 0.0
    ledger = prev.get("today") if prev else None
    prev_cost = prev.get("cost_usd") if prev else None
    if isinstance(ledger, dict) and ledger.get("day") == day and isinstance(prev_cost, int | float):
        base = float(ledger.get("base") or 0.0)
        carry = float(ledger.get("carry") or 0.0)
        if cost < prev_cost:  # the counter restarted (/clear): keep today's part of the old run
            carry += max(0.0, prev_cost - base)
            base = 0.0
        return {"day": day, "base": base, "carry": carry}
    if isinstance(prev_cost, int | float) and prev is not None:
        # Seen yesterday: everything after the last reading of yesterday is today's.
        return {"day": day, "base": float(prev_cost) if prev_cost <= cost else 0.0, "carry": 0.0}
    duration_s = (capture.get("duration_ms") or 0.0) / 1000
    started = capture["captured_at"] - duration_s
    # A session first seen after midnight counts from zero; one already running before is
    # counted from now on, since its cost cannot be split.
    return {"day": day, "base": 0.0 if started >= day_start else cost, "carry": 0.0}


def ledger_cost(capture: dict[str, Any], day: str) -> float:
    ledger = capture.get("today")
    cost = capture.get("cost_usd")
    if not isinstance(ledger, dict) or ledger.get("day") != day or not isinstance(cost, int | float):
        return 0.0
    try:
        return float(ledger.get("carry") or 0.0) + max(0.0, cost - float(ledger.get("base") or 0.0))
    except (TypeError, ValueError):
        return 0.0


def limits_at(prev: dict[str, Any] | None, capture: dict[str, Any]) -> float:
    """When the capture's ``rate_limits`` were last seen to be new.

    Claude Code re-renders an idle session (``refreshInterval``, mode changes) with the numbers
    of its last API response, which may be hours old. Unchanged numbers and no new API time
    since the previous capture mean nothing new was learned, so the earlier time is kept and
    the reading ages honestly instead of looking fresh.
    """
    now: float = capture["captured_at"]
    if prev is None or not capture.get("rate_limits"):
        return now
    before = prev.get("limits_at")
    same = prev.get("rate_limits") == capture["rate_limits"]
    idle = prev.get("api_duration_ms") == capture.get("api_duration_ms")
    if same and idle and isinstance(before, int | float) and not isinstance(before, bool) and before <= now:
        return float(before)
    return now


def config_dir_of_process() -> str | None:
    """The Claude Code config folder of the session that runs us (its ``CLAUDE_CONFIG_DIR``, which
    the status line command inherits; None: the default ``~/.claude``), so the app can file the
    capture under its account."""
    raw = os.environ.get("CLAUDE_CONFIG_DIR", "").strip()
    return raw.split(",")[0].strip() or None if raw else None


def write_session(state_dir: str, capture: dict[str, Any], day: str, day_start: float) -> dict[str, Any]:
    """Store ``capture`` as its session's file (unless a newer one is already there); return it."""
    capture.setdefault("config_dir", config_dir_of_process())
    directory = os.path.join(capture_dir(state_dir), SESSIONS)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    path = os.path.join(directory, safe_name(capture["session_id"]) + ".json")
    prev = read_json(path)
    if prev is not None and _captured_at(prev) > capture["captured_at"]:
        return prev  # an overlapping newer run of the same session already wrote
    capture["today"] = day_ledger(prev, capture, day, day_start)
    capture["limits_at"] = limits_at(prev, capture)
    write_json(path, capture)
    return capture


def update_latest(state_dir: str, capture: dict[str, Any]) -> bool:
    """Replace ``rate-limits.json`` when ``capture`` is newer; True when it was written."""
    if not capture.get("rate_limits"):
        return False
    directory = capture_dir(state_dir)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    path = os.path.join(directory, LATEST)
    record = {
        "schema": 1,
        "captured_at": capture.get("limits_at", capture["captured_at"]),
        "session_id": capture.get("session_id"),
        "version": capture.get("version"),
        "rate_limits": capture["rate_limits"],
        "config_dir": capture.get("config_dir", config_dir_of_process()),
    }
    written = False
    for _ in range(3):
        if _captured_at(read_json(path)) >= record["captured_at"]:
            return written
        write_json(path, record)
        written = True
    return written


def read_latest(state_dir: str) -> dict[str, Any] | None:
    return read_json(os.path.join(capture_dir(state_dir), LATEST))


def today_cost(state_dir: str, day: str, day_start: float) -> float:
    """Sum of today's cost over every session captured today."""
    total = 0.0
    try:
        entries = list(os.scandir(os.path.join(capture_dir(state_dir), SESSIONS)))
    except OSError:
        return 0.0
    for entry in entries:
        if not entry.name.endswith(".json") or entry.name.startswith("."):
            continue
        try:
            if entry.stat().st_mtime < day_start:
                continue
        except OSError:
            continue
        data = read_json(entry.path)
        if data is not None:
            total += ledger_cost(data, day)
    return total


def prune(state_dir: str, now: float) -> None:
    """Drop session files unseen for a week and stray temp files; runs at most once a day."""
    directory = os.path.join(capture_dir(state_dir), SESSIONS)
    stamp = os.path.join(capture_dir(state_dir), ".pruned")
    try:
        if now - os.stat(stamp).st_mtime < 86400:
            return
    except FileNotFoundError:
        pass
    except OSError:
        return
    try:
        with open(stamp, "wb"):
            pass
        for folder in (directory, capture_dir(state_dir)):
            for entry in os.scandir(folder):
                if not entry.is_file() or entry.name in (LATEST, ".pruned"):
                    continue
                age = now - entry.stat().st_mtime
                if age > KEEP_SESSIONS_DAYS * 86400 or (entry.name.endswith(".tmp") and age > 3600):
                    try:
                        os.unlink(entry.path)
                    except FileNotFoundError:
                        pass
    except OSError:
        pass
