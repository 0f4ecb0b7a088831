"""Read the statusline captures written by ``claude-watch statusline`` (app side).

While Claude Code is open it hands its statusline command the account's ``rate_limits`` on
every render; the command stores them under ``<state dir>/statusline/`` (see
``trayapp.statusline.capture``). This module turns those files into values: a
``UsageSnapshot`` (source ``statusline``) for the usage engine, the newest Claude Code version
seen (for the usage request's User-Agent), and the list of live sessions for the dashboard.
Readers tolerate missing, torn and foreign files: a file that cannot be read is skipped. The
newest reading is taken over ``rate-limits.json`` *and* every session file, so a writer that
lost the compare-and-replace race on the shared file still counts. All functions do file I/O:
call them from a worker thread, not the GUI thread.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from trayapp import paths
from trayapp.core.models import Source, UsageSnapshot, Window, WindowKind, reset_is_plausible
from trayapp.statusline.capture import LATEST, SESSIONS, SUBDIR, read_json
from trayapp.statusline.parse import epoch, percentage
from trayapp.statusline.render import STALE_AFTER

# A capture older than this never counts as the current value, whatever the caller asks.
STALE_LIMIT = timedelta(seconds=STALE_AFTER)
FIVE_HOURS = timedelta(hours=5)
SEVEN_DAYS = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class LiveSession:
    """One Claude Code session as its latest statusline capture describes it."""

    session_id: str
    captured_at: datetime
    project: str  # last path component of the project dir
    project_dir: str | None
    session_name: str | None
    model: str | None
    version: str | None
    context_percent: float | None
    context_tokens: int | None
    context_size: int | None
    cost_usd: float | None
    duration: timedelta | None
    lines_added: int | None
    lines_removed: int | None
    transcript_path: str | None


def capture_dir() -> Path:
    return paths.state_dir() / SUBDIR


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _int(value: Any) -> int | None:
    n = _num(value)
    return None if n is None else int(n)


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _when(data: dict[str, Any]) -> datetime | None:
    at = _num(data.get("captured_at"))
    if at is None:
        return None
    try:
        return datetime.fromtimestamp(at, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _records(directory: Path, newer_than: datetime | None) -> Iterator[dict[str, Any]]:
    """Session capture dicts (and ``rate-limits.json``) modified after ``newer_than``."""
    cutoff = newer_than.timestamp() if newer_than else None
    candidates = [directory / LATEST]
    try:
        with os.scandir(directory / SESSIONS) as it:
            for entry in it:
                if entry.name.endswith(".json") and not entry.name.startswith("."):
                    candidates.append(Path(entry.path))
    except OSError:
        pass
    for path in candidates:
        try:
            if cutoff is not None and path.stat().st_mtime < cutoff - 5:  # 5 s: coarse mtimes
                continue
        except OSError:
            continue
        data = read_json(str(path))
        if data is not None and _when(data) is not None:
            yield data


def _window(window_id: str, entry: Any) -> Window | None:
    if not isinstance(entry, dict):
        return None
    pct = percentage(entry.get("used_percentage"))
    if pct is None:
        return None
    reset = epoch(entry.get("resets_at"))
    resets_at = datetime.fromtimestamp(reset, UTC) if reset is not None else None
    if window_id == "five_hour":
        kind, length = WindowKind.FIVE_HOUR, FIVE_HOURS
    elif window_id == "seven_day":
        kind, length = WindowKind.WEEKLY, SEVEN_DAYS
    elif window_id.startswith("seven_day_"):
        kind, length = WindowKind.WEEKLY_SCOPED, SEVEN_DAYS
    else:
        return None
    from trayapp.sources.usage_parse import window_label

    return Window(window_id, window_label(window_id), kind, pct, resets_at, length)


def snapshot_from(data: dict[str, Any]) -> UsageSnapshot | None:
    """A ``UsageSnapshot`` from one capture (or ``rate-limits.json``) dict, if it has windows.

    Its time is when the numbers were last seen to change (``limits_at``), not the last render.
    """
    when = _when(data)
    at = _num(data.get("limits_at"))
    if when is not None and at is not None and at <= when.timestamp():
        when = datetime.fromtimestamp(at, UTC)
    limits = data.get("rate_limits")
    if when is None or not isinstance(limits, dict):
        return None
    order = {"five_hour": 0, "seven_day": 1}
    windows = [
        w
        for k, v in limits.items()
        if isinstance(k, str) and (w := _window(k, v)) is not None and reset_is_plausible(w.resets_at)
    ]
    if not windows:
        return None
    windows.sort(key=lambda w: (order.get(w.id, 2), w.id))
    return UsageSnapshot(
        fetched_at=when,
        source=Source.STATUSLINE,
        windows=tuple(windows),
        client_version=_str(data.get("version")),
    )


def fresh_snapshot(
    now: datetime,
    max_age: timedelta,
    directory: Path | None = None,
    belongs: Callable[[str | None], bool] | None = None,
) -> UsageSnapshot | None:
    """The newest captured account usage, if younger than ``max_age`` (and 10 minutes).

    ``belongs``: with several accounts, keeps only captures whose ``config_dir`` (the session's
    ``CLAUDE_CONFIG_DIR``, None for the default folder) is the account's."""
    limit = min(max_age, STALE_LIMIT)
    best: UsageSnapshot | None = None
    for data in _records(directory or capture_dir(), now - limit):
        if belongs is not None and not belongs(_str(data.get("config_dir"))):
            continue
        snap = snapshot_from(data)
        if snap is None:
            continue
        age = now - snap.fetched_at
        # A capture from the future (clock skew of a few seconds) is fine, a far one is not.
        if age > limit or age < -timedelta(minutes=1):
            continue
        if best is None or snap.fetched_at > best.fetched_at:
            best = snap
    return best


def latest_client_version(directory: Path | None = None) -> str | None:
    """The Claude Code version of the newest capture on disk, if any."""
    best: tuple[datetime, str] | None = None
    for data in _records(directory or capture_dir(), None):
        when, version = _when(data), _str(data.get("version"))
        if when is not None and version and (best is None or when > best[0]):
            best = (when, version)
    return best[1] if best else None


def _session(data: dict[str, Any]) -> LiveSession | None:
    when, sid = _when(data), _str(data.get("session_id"))
    if when is None or sid is None:
        return None
    project_dir = _str(data.get("project_dir")) or _str(data.get("cwd"))
    project = os.path.basename(project_dir.rstrip("/\\")) if project_dir else ""
    raw_ctx = data.get("context")
    ctx: dict[str, Any] = raw_ctx if isinstance(raw_ctx, dict) else {}
    duration_ms = _num(data.get("duration_ms"))
    return LiveSession(
        session_id=sid,
        captured_at=when,
        project=project or (project_dir or "?"),
        project_dir=project_dir,
        session_name=_str(data.get("session_name")),
        model=_str(data.get("model_name")) or _str(data.get("model_id")),
        version=_str(data.get("version")),
        context_percent=_num(ctx.get("used_percentage")),
        context_tokens=_int(ctx.get("input_tokens")),
        context_size=_int(ctx.get("size")),
        cost_usd=_num(data.get("cost_usd")),
        duration=timedelta(milliseconds=duration_ms) if duration_ms is not None else None,
        lines_added=_int(data.get("lines_added")),
        lines_removed=_int(data.get("lines_removed")),
        transcript_path=_str(data.get("transcript_path")),
    )


def live_sessions(now: datetime, max_age: timedelta, directory: Path | None = None) -> list[LiveSession]:
    """Sessions captured within ``max_age`` of ``now``, most recently active first."""
    found: dict[str, LiveSession] = {}
    for data in _records(directory or capture_dir(), now - max_age):
        if "session_id" not in data or "today" not in data and "cost_usd" not in data:
            continue  # rate-limits.json, or a foreign file
        session = _session(data)
        if session is None or now - session.captured_at > max_age:
            continue
        prev = found.get(session.session_id)
        if prev is None or session.captured_at > prev.captured_at:
            found[session.session_id] = session
    return sorted(found.values(), key=lambda s: s.captured_at, reverse=True)


def local_source(
    max_age: Callable[[], timedelta] | timedelta,
    directory: Path | None = None,
    belongs: Callable[[str | None], bool] | None = None,
) -> Callable[[datetime], UsageSnapshot | None]:
    """A ``(now) -> UsageSnapshot | None`` callable for the usage engine's ``local_sources``.

    ``max_age`` may be a callable so that a changed poll interval applies without rebuilding;
    ``belongs`` picks one account's captures (see :func:`fresh_snapshot`).
    """

    def source(now: datetime) -> UsageSnapshot | None:
        age = max_age() if callable(max_age) else max_age
        return fresh_snapshot(now, age, directory, belongs)

    return source
