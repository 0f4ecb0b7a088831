"""A run's ``rate_limit_event`` as a free, fresh usage reading for the usage engine.

Every agent run reports Claude Code's rate-limit state. When an event carries a utilization
(only sometimes: anthropics/claude-code#78476), it is a current reading of that window that cost
no request. :class:`RateLimitReadings` keeps the latest one per window and is a *local source*
of the usage engine (a callable ``(now) -> UsageSnapshot | None`` in ``engine.local_sources``;
:func:`route_readings` wires it): a reading younger than the poll interval stands in for a poll,
exactly like a status line capture. Events without a utilization change nothing here (the queue still
holds on their status).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

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


def route_readings(
    listeners: list[Callable[[RateLimitEvent], None]], engine: Any, now: Callable[[], datetime]
) -> Callable[[], None]:
    """Wire a queue's rate-limit events (``queue.on_rate_limit``) into ``engine`` (a
    :class:`~trayapp.services.usage_engine.UsageEngine`: the default account's, whose
    credentials the runs use) as a local source; returns the undo."""
    readings = RateLimitReadings()

    def feed(event: RateLimitEvent) -> None:
        readings.feed(event, now())

    listeners.append(feed)
    engine.local_sources.append(readings)

    def undo() -> None:
        if feed in listeners:
            listeners.remove(feed)
        if readings in engine.local_sources:
            engine.local_sources.remove(readings)

    return undo
