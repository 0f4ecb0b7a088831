"""A run's ``rate_limit_event`` as a free, fresh usage reading for the usage engine.

Every agent run reports Claude Code's rate-limit state. When an event carries a utilization
(only sometimes: anthropics/claude-code#78476), it is a current reading of that window that cost
no request. :class:`RateLimitReadings` keeps the latest one per window and is a *local source*
of the usage engine (``engine.local_sources.append(readings)``, a callable ``(now) ->
UsageSnapshot | None``): a reading younger than the poll interval stands in for a poll, exactly
like a status line capture. Events without a utilization change nothing here (the queue still
holds on their status).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from trayapp.core.models import Source, UsageSnapshot, Window, WindowKind
from trayapp.core.stream_json import RateLimitEvent

_WINDOWS = {
    "five_hour": (WindowKind.FIVE_HOUR, timedelta(hours=5)),
    "seven_day": (WindowKind.WEEKLY, timedelta(days=7)),
}


class RateLimitReadings:
    """The latest window readings from runs' rate-limit events (see the module docstring)."""

    def __init__(self) -> None:
        self._windows: dict[str, Window] = {}
        self._at: datetime | None = None

    def feed(self, event: RateLimitEvent, now: datetime) -> bool:
        """Take one event; returns whether it was a reading (a known window with a utilization)."""
        kind = _WINDOWS.get(event.rate_limit_type or "")
        if kind is None or event.utilization is None:
            return False
        from trayapp.sources.usage_parse import window_label

        window_id = event.rate_limit_type or ""
        self._windows[window_id] = Window(
            window_id, window_label(window_id), kind[0], event.utilization, event.resets_at, kind[1]
        )
        self._at = now
        return True

    def __call__(self, now: datetime) -> UsageSnapshot | None:
        if self._at is None or not self._windows:
            return None
        windows = tuple(w for w in self._windows.values() if w.resets_at is None or w.resets_at > now)
        if not windows:
            return None
        return UsageSnapshot(fetched_at=self._at, source=Source.AGENT, windows=windows)
