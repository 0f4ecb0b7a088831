"""Polls the status line captures for live Claude Code sessions while someone is looking.

The popup's live-sessions panel lists the sessions whose latest capture is at most
:data:`LIVE_FOR` old (:func:`trayapp.sources.statusline_capture.live_sessions`). Reading the
capture files is disk I/O, so :class:`LiveSessionsService` reads them on the runtime's ``io``
lane, every :data:`REFRESH_SECONDS` between :meth:`~LiveSessionsService.start` (the panel was
shown) and :meth:`~LiveSessionsService.stop` (hidden), and announces each list on the loop
thread. Nothing is read while the popup is closed.

A reader that fails (an unreadable capture folder, a bug) is reported to a
:class:`~trayapp.runtime.LoopHealth` ("live sessions reader": logged once, counted, shown by
``doctor``), the panel gets an empty list, and the reader is not asked again before the backoff
has passed (5 s doubling to 5 min), even if the popup is closed and opened again meanwhile.

Signals:
    sessions_changed(list): the live sessions (``LiveSession``), most recently active first.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, timedelta

from PySide6.QtCore import QObject, Signal

from trayapp import runtime
from trayapp.core.clock import Clock, SystemClock
from trayapp.runtime import LoopHealth
from trayapp.sources.statusline_capture import LiveSession, live_sessions

log = logging.getLogger(__name__)

LIVE_FOR = timedelta(minutes=5)
REFRESH_SECONDS = 5.0


class LiveSessionsService(QObject):
    """Reads the live sessions on the io lane while started (see the module docstring).

    ``reader`` replaces the capture reader (tests); ``health`` the loop's failure bookkeeping.
    """

    sessions_changed = Signal(list)

    def __init__(
        self,
        clock: Clock | None = None,
        reader: Callable[[], Sequence[LiveSession]] | None = None,
        interval: float = REFRESH_SECONDS,
        health: LoopHealth | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.clock = clock or SystemClock()
        self.reader = reader or self.read_captures
        self.interval = interval
        self.health = health or LoopHealth("live sessions reader")
        self._task: asyncio.Task[None] | None = None
        self._retry_at = 0.0  # time.monotonic() before which a failed reader is not asked again

    def read_captures(self) -> list[LiveSession]:
        """The sessions captured within :data:`LIVE_FOR` (file I/O: a worker thread only)."""
        return live_sessions(self.clock.now().astimezone(UTC), LIVE_FOR)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Read now and every ``interval`` seconds until :meth:`stop`. Without a running event
        loop (a widget test) nothing happens."""
        if not self.running:
            self._task = runtime.try_spawn(self._run(), "live sessions", group=self)

    def stop(self) -> None:
        """Stop reading (a read under way finishes on its thread; its answer is dropped)."""
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def refresh(self) -> list[LiveSession] | None:
        """Read once and announce the result; None (and nothing read) while backing off."""
        if time.monotonic() < self._retry_at:
            return None
        try:
            sessions = list(await runtime.run_blocking(self.reader, lane="io"))
        except Exception as exc:  # logged once and backed off, not retried every few seconds
            self._retry_at = time.monotonic() + self.health.failed(exc)
            self.sessions_changed.emit([])
            return None
        self.health.succeeded()
        self.sessions_changed.emit(sessions)
        return sessions

    async def _run(self) -> None:
        while True:
            await self.refresh()  # returns at once while backing off
            await asyncio.sleep(self.interval)
