"""Qt face of the usage engine: signals for the tray, popup and alert policy.

A thin wrapper: :class:`UsageService` runs :class:`~trayapp.services.usage_engine.UsageEngine`
in one asyncio task on the qasync loop (no QTimer: the engine's policy decides when, and the
loop wakes at least every :data:`TICK` seconds so sleep/wake and credential changes are noticed
quickly). Every poll result arrives as a value through ``state_changed``; nothing here touches
widgets, and blocking work (credential reads, the timeline query) runs in worker threads.

Several accounts (issue 16): :meth:`UsageService.add_account` adds an engine per account. One loop
polls them in turn, never two at once and never closer than :func:`~trayapp.core.accounts.min_gap`
apart, their first polls spread over one interval; each engine keeps its own policy (cooldowns and
backoff per token), so one account cooling down never holds another back. ``states`` has every
account's latest state; ``state`` (and ``state_changed``) is the binding account's (the tightest
limit), so every view written for one account works unchanged. With one account nothing differs.

Signals:
    state_changed(object): the binding account's :class:`~trayapp.core.models.AccountState`,
        after every poll.
    account_state_changed(str, object): one account's label and its new state, after its poll.
    default_state_changed(object): the default account's new state, after its poll (what follows
        the default login alone: its login watch).
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

from trayapp.core import accounts as ac
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
    account_state_changed = Signal(str, object)
    default_state_changed = Signal(object)
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
        self.engine: UsageEngine = engine  # the default account's
        self.engines: dict[str, UsageEngine] = {ac.DEFAULT_LABEL: engine}
        self._checked: dict[str, datetime] = {}  # each account's last poll (blocked: re-read pace)
        self._not_before: dict[str, datetime] = {}  # an added account's first poll, staggered
        self._last_poll: datetime | None = None
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
        """The binding account's latest state (the stored snapshot before the first poll)."""
        return self.engines[self.binding_label].state

    @property
    def states(self) -> dict[str, AccountState]:
        """Every account's latest state, by label, in account order."""
        return {label: engine.state for label, engine in self.engines.items()}

    @property
    def binding_label(self) -> str:
        return ac.binding_label(self.states, list(self.engines)) or next(iter(self.engines))

    def next_poll_at(self) -> datetime | None:
        return self.engines[self.binding_label].next_poll_at()

    def add_account(self, label: str, engine: UsageEngine, *, default: bool = False) -> None:
        """Poll ``engine`` as account ``label`` from now on (``default``: it replaces the default
        account's label). Its first poll is staggered after the others'."""
        if default:
            first = next(iter(self.engines))
            self.engines = {label if k == first else k: e for k, e in self.engines.items()}
            if first in self._checked:
                self._checked[label] = self._checked.pop(first)
            self._wake.set()
            return
        self.engines[label] = engine
        # Every account not polled yet gets its place again: added together at start, they
        # spread evenly over one interval from the first one's poll.
        start = self._last_poll or engine.clock.now()
        offsets = ac.stagger_offsets(list(self.engines), engine.interval)
        for other in self.engines:
            if other == label or other in self._not_before:
                self._not_before[other] = start + offsets[other]
        self._wake.set()

    async def remove_account(self, label: str) -> None:
        """Stop polling account ``label`` (never the default); its history stays in the store."""
        engine = self.engines.get(label)
        if engine is None or engine is self.engine:
            return
        async with self._lock:
            del self.engines[label]
        self._checked.pop(label, None)
        self._not_before.pop(label, None)
        await engine.aclose()
        self._wake.set()

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
        for engine in self.engines.values():
            await engine.aclose()

    def refresh_now(self, account: str | None = None) -> asyncio.Task[AccountState]:
        """Fetch now if allowed (throttled to once per 30 s, never during a 429 cooldown), for
        ``account`` (default: the binding account: the others keep their staggered turns).

        Returns the task; its result is the new state (also emitted via ``state_changed``).
        """
        if self._manual is not None and not self._manual.done():
            return self._manual
        label = account if account in self.engines else self.binding_label
        self._manual = spawn(self._poll(manual=True, label=label), name="usage-refresh")
        return self._manual

    def nudge(self) -> None:
        """Look at the schedule again now (the clock jumped: a test's fake clock, a settings change)."""
        self._wake.set()

    def set_interval(self, minutes: int) -> None:
        for engine in self.engines.values():
            engine.set_interval(timedelta(minutes=minutes))
        self._wake.set()

    def _settings_changed(self, keys: list[str], settings: Settings) -> None:
        if "poll.endpoint" in keys:
            for engine in self.engines.values():
                engine.use_endpoint = bool(settings.get("poll.endpoint"))
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
        return self.engines[self.binding_label].repo.history(list(window_ids), since, until)

    async def history_async(
        self, window_ids: Sequence[str], since: datetime, until: datetime | None = None
    ) -> list[tuple[datetime, str, float, datetime | None]]:
        """:meth:`history` off the GUI thread."""
        repo = self.engines[self.binding_label].repo  # the account whose ring is shown
        return await run_blocking(repo.history, list(window_ids), since, until)

    # --- internals ---------------------------------------------------------------------------

    async def _poll(self, manual: bool = False, label: str | None = None) -> AccountState:
        label = label if label is not None else next(iter(self.engines))
        async with self._lock:  # one account at a time, ever
            engine = self.engines.get(label)
            if engine is None:  # removed while waiting for its turn
                return self.state
            state = await engine.poll(manual=manual)
            self._last_poll = self._checked[label] = engine.clock.now()
            self._not_before.pop(label, None)
        several = len(self.engines) > 1
        if several:
            self.account_state_changed.emit(label, state)
        if engine is self.engine:
            self.default_state_changed.emit(state)
        binding = self.state if several else state
        self.state_changed.emit(binding)
        if state.error is not None and state.error is not self._last_emitted_error:
            self.poll_failed.emit(state.error)
        self._last_emitted_error = state.error
        return state

    async def _run(self) -> None:
        label = next(iter(self.engines))
        while True:
            started = time.monotonic()
            try:
                await self._poll(label=label)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a bug in one poll must not stop polling, nor spin
                await self._nap(self._health.failed(exc))
                continue
            self._health.succeeded()
            label = await self._sleep_until_due()
            # Belt and braces: whatever the policy says, this loop never turns faster than once a
            # second (the policy's own steps are minutes; this only stops a runaway bug).
            spare = MIN_TURN - (time.monotonic() - started)
            if spare > 0:
                await asyncio.sleep(spare)

    def _dues(self) -> dict[str, datetime | None]:
        """When each account wants its next poll. Stopped for credentials (None), it is looked at
        again every TICK (the poll re-reads them, without a request); a new account not before
        its staggered start."""
        out: dict[str, datetime | None] = {}
        for label, engine in self.engines.items():
            due = engine.next_poll_at()
            if due is None:
                checked = self._checked.get(label)
                due = checked + timedelta(seconds=TICK) if checked is not None else engine.clock.now()
            start = self._not_before.get(label)
            out[label] = max(due, start) if start is not None else due
        return out

    async def _sleep_until_due(self) -> str:
        """Sleep until the next account's turn; its label."""
        while True:
            gap = ac.min_gap(len(self.engines), self.engine.interval)
            turn = ac.next_turn(self._dues(), self._last_poll, gap)
            # Read after the dues: a never-polled engine is due "now" as of that read, and a now
            # taken before it would put that due forever a moment ahead (an endless chase of naps).
            now = self.engine.clock.now()
            if turn is None:
                await self._nap(TICK)
                continue
            label, due = turn
            wait = (due - now).total_seconds()
            if wait <= 0:
                return label
            await self._nap(min(wait, TICK))
            engine = self.engines.get(label)
            if engine is not None and engine.next_poll_at() is None:
                return label  # stopped for credentials: re-read them after a real TICK
            if self._wake.is_set():
                self._wake.clear()

    async def _nap(self, seconds: float) -> None:
        # A wake that came while a poll ran is not lost: the schedule is looked at again at once
        # (the loop re-reads every account's due time; a spurious wake costs nothing).
        try:
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)
        except TimeoutError:
            pass
        self._wake.clear()
