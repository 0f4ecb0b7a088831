"""Qt face of the usage engine: signals for the tray, popup and alert policy.

A thin wrapper: :class:`UsageService` runs :class:`~trayapp.services.usage_engine.UsageEngine`
in one asyncio task on the qasync loop (no QTimer: the engine's policy decides when, and the
loop wakes at least every :data:`TICK` seconds so sleep/wake and credential changes are noticed
quickly). Every poll result arrives as a value through ``state_changed``; nothing here touches
widgets, and blocking work (credential reads, the timeline query) runs in worker threads.

Signals:
    state_changed(object): a new :class:`~trayapp.core.models.AccountState` after every poll.
    poll_failed(object): the :class:`~trayapp.core.models.FetchError` when an attempt failed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from trayapp.core.clock import Clock
from trayapp.core.models import AccountState
from trayapp.runtime import LoopHealth, run_blocking, spawn
from trayapp.services.usage_engine import UsageEngine, create_engine
from trayapp.settings import Settings

if TYPE_CHECKING:
    from trayapp.demo import DemoHandle

log = logging.getLogger(__name__)

TICK = 30.0  # seconds between policy checks while idle
MIN_TURN = 1.0  # seconds: the loop's floor, whatever the policy says


class UsageService(QObject):
    state_changed = Signal(object)
    poll_failed = Signal(object)

    def __init__(
        self,
        engine: UsageEngine,
        *,
        settings: Settings | None = None,
        parent: QObject | None = None,
    ) -> None:
        """Drive ``engine``; with ``settings``, follow ``poll.interval_minutes`` as they change."""
        super().__init__(parent)
        self._unfollow: Callable[[], None] | None = None
        if settings is not None:
            self._unfollow = settings.subscribe(
                ("poll.interval_minutes", "poll.endpoint"), self._settings_changed
            )
        self.engine: UsageEngine = engine
        self._task: asyncio.Task[None] | None = None
        self._manual: asyncio.Task[AccountState] | None = None
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._last_emitted_error: object = None
        self._health = LoopHealth("usage service loop")

    @classmethod
    def from_settings(
        cls, settings: Settings | None = None, *, clock: Clock | None = None, demo: DemoHandle | None = None
    ) -> UsageService:
        """The standard engine built from ``settings`` (None: load them). Blocking: it opens the
        database; the app builds the engine on a worker thread instead (``create_engine``)."""
        engine = create_engine(demo=demo, clock=clock, settings=settings)
        return cls(engine, settings=settings)

    @property
    def state(self) -> AccountState:
        """The latest state (the stored snapshot before the first poll)."""
        return self.engine.state

    def next_poll_at(self) -> datetime | None:
        return self.engine.next_poll_at()

    def start(self) -> None:
        """Start polling on the running asyncio (qasync) loop; emits the stored state first."""
        if self._task is not None and not self._task.done():
            return
        self.state_changed.emit(self.engine.state)
        self._task = spawn(self._run(), name="usage-service")

    async def stop(self) -> None:
        """Stop polling and close the HTTP client; safe to call twice."""
        if self._unfollow is not None:
            self._unfollow()
            self._unfollow = None
        for task in (self._task, self._manual):
            if task is not None and not task.done():
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    pass
                except Exception:
                    log.exception("usage task failed while stopping")
        self._task = self._manual = None
        await self.engine.aclose()

    def refresh_now(self) -> asyncio.Task[AccountState]:
        """Fetch now if allowed (throttled to once per 30 s, never during a 429 cooldown).

        Returns the task; its result is the new state (also emitted via ``state_changed``).
        """
        if self._manual is not None and not self._manual.done():
            return self._manual
        self._manual = spawn(self._poll(manual=True), name="usage-refresh")
        return self._manual

    def set_interval(self, minutes: int) -> None:
        self.engine.set_interval(timedelta(minutes=minutes))
        self._wake.set()

    def _settings_changed(self, keys: list[str], settings: Settings) -> None:
        if "poll.endpoint" in keys:
            self.engine.use_endpoint = bool(settings.get("poll.endpoint"))
            log.info("usage endpoint polling %s", "on" if self.engine.use_endpoint else "off")
        if "poll.interval_minutes" in keys:
            minutes = int(settings.get("poll.interval_minutes"))
            self.set_interval(minutes)
            log.info("usage polling every %d minutes from now on", minutes)

    def history(
        self, window_ids: Sequence[str], since: datetime, until: datetime | None = None
    ) -> list[tuple[datetime, str, float, datetime | None]]:
        """Timeline rows ``(time, window_id, utilization, resets_at)``, oldest first.

        Synchronous and fast (an index range scan: 90 days of 5-minute samples for two windows
        reads in milliseconds, see ``bench/bench_status.py``); :meth:`history_async` runs the same
        query in a worker thread.
        """
        return self.engine.repo.history(list(window_ids), since, until)

    async def history_async(
        self, window_ids: Sequence[str], since: datetime, until: datetime | None = None
    ) -> list[tuple[datetime, str, float, datetime | None]]:
        """:meth:`history` off the GUI thread."""
        return await run_blocking(self.engine.repo.history, list(window_ids), since, until)

    # --- internals ---------------------------------------------------------------------------

    async def _poll(self, manual: bool = False) -> AccountState:
        async with self._lock:
            state = await self.engine.poll(manual=manual)
        self.state_changed.emit(state)
        if state.error is not None and state.error is not self._last_emitted_error:
            self.poll_failed.emit(state.error)
        self._last_emitted_error = state.error
        return state

    async def _run(self) -> None:
        while True:
            started = time.monotonic()
            try:
                await self._poll()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a bug in one poll must not stop polling, nor spin
                await self._nap(self._health.failed(exc))
                continue
            self._health.succeeded()
            await self._sleep_until_due()
            # Belt and braces: whatever the policy says, this loop never turns faster than once a
            # second (the policy's own steps are minutes; this only stops a runaway bug).
            spare = MIN_TURN - (time.monotonic() - started)
            if spare > 0:
                await asyncio.sleep(spare)

    async def _sleep_until_due(self) -> None:
        while True:
            due = self.engine.next_poll_at()
            now = self.engine.clock.now()
            # None: stopped until the credentials change; the poll re-reads them every TICK.
            wait = TICK if due is None else (due - now).total_seconds()
            if wait <= 0 or due is None:
                if due is None:
                    await self._nap(TICK)
                return
            await self._nap(min(wait, TICK))
            if self._wake.is_set():
                self._wake.clear()

    async def _nap(self, seconds: float) -> None:
        self._wake.clear()
        try:
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)
        except TimeoutError:
            pass
