"""The window scheduler inside the tray app: at each planned anchor, if no 5-hour window is open,
one reminder ("Start your 5-hour window now?", with "Start now" and "Skip"), or for an anchor set to
auto-start, the guarded and verified start (``services/window_start``), its outcome notified once.

A tick runs every :data:`TICK_SECONDS` on the asyncio loop (not a Qt timer) and on every usage state
the app receives. Each tick asks the pure plan (:func:`core.schedule.due_between`) which anchors
passed since the previous tick. The previous tick is persisted, so anchors that passed while the
computer slept or the app was not running are noticed too: within the grace (15 min) they fire once,
later they are logged as skipped without a notification. A suspend shows up as a wall clock that
moved much further than the monotonic one; it is logged (``asyncio.sleep`` runs on the monotonic
clock, so the first tick after a wake comes within one interval).

Whether a window is open comes from the freshest source the app has: the usage service's latest
state (its 5-hour ``resets_at``, which already merges status line captures and polls). Each anchor
occurrence is marked handled in ``scheduler.json`` before anything goes out, so a restart never
repeats it. Blocking work (the plan file, the attempts log, the memory) runs on the io lane.

Signals:
    plan_changed(object): the :class:`~trayapp.core.schedule.Plan` now in force (loaded or saved).
    attempts_changed(object): the recent :class:`~trayapp.core.schedule.Attempt` list, oldest first.
    start_running(bool): a start (automatic or by hand) began / ended.
    timer_synced(bool, str): the OS timer followed a saved plan (ok, what it did).
    state_seen(object): each usage state the scheduler was given (the panel follows it: the popup
        may be built before the usage service exists).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from PySide6.QtCore import QObject, Signal

from trayapp import runtime
from trayapp.core.alert_policy import in_quiet_hours, parse_quiet_hours
from trayapp.core.clock import Clock
from trayapp.core.models import AccountState, Alert
from trayapp.core.schedule import (
    AnchorMode,
    Attempt,
    Due,
    Outcome,
    Plan,
    due_between,
    validate,
    window_key,
    window_open,
)
from trayapp.services import scheduler_memory as memory_io
from trayapp.services.scheduler_memory import SchedulerMemory, anchor_key
from trayapp.services.scheduler_notices import SKIP, START, outcome_notice, reminder

log = logging.getLogger(__name__)

TICK_SECONDS = 30.0
SLEEP_GAP = timedelta(seconds=90)  # wall clock ahead of the monotonic one by more: a suspend
MAX_ATTEMPTS_SHOWN = 50
# Before the first usage reading, whether a window is open is unknown: anchors wait (they are not
# lost: the last tick stays put) for at most this long after the load, then a missing reading
# counts as a closed window (signed out, offline: a reminder is still better than nothing).
FIRST_STATE_WAIT = 120.0
# A tick with nothing due saves its time at most this often (a handled anchor is saved at once, so
# a crash between saves repeats nothing; it only looks again at a few quiet minutes).
SAVE_EVERY = 300.0


@dataclass(frozen=True, slots=True)
class SchedulerPorts:
    """The scheduler's outside world, injected (real store functions in the app, the same in tests).

    The four plain functions block (files) and run on the io lane; ``start_window(anchor_id)`` is the
    guarded, verified start (a coroutine; it runs ``claude -p`` or, in demo mode, simulates it).
    ``start_logs`` says whether ``start_window`` appends its attempt to the log itself;
    ``sync_timer(plan)`` (blocking) makes the OS timer follow a saved plan: (ok, what it did).
    """

    load_plan: Callable[[], Plan]
    save_plan: Callable[[Plan], None]
    append_attempt: Callable[[Attempt], None]
    read_attempts: Callable[[int], list[Attempt]]
    start_window: Callable[[str | None], Awaitable[Attempt]]
    start_logs: bool = False
    sync_timer: Callable[[Plan], tuple[bool, str]] | None = None  # the OS timer follows the plan


class SchedulerService(QObject):
    """Ticks, decides per due anchor, reminds or starts, logs every attempt."""

    plan_changed = Signal(object)
    attempts_changed = Signal(object)
    start_running = Signal(bool)
    state_seen = Signal(object)
    timer_synced = Signal(bool, str)

    def __init__(
        self,
        ports: SchedulerPorts,
        dispatcher: Any,
        clock: Clock,
        get_setting: Callable[[str], Any],
        window_state: Callable[[], AccountState | None],
        *,
        alerts_paused: Callable[[], bool] = lambda: False,
        tz: ZoneInfo | None = None,
        memory_path: Path | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.ports = ports
        self.dispatcher = dispatcher
        self.clock = clock
        self.get_setting = get_setting
        self.window_state = window_state
        self.alerts_paused = alerts_paused
        self.tz = tz or memory_io.local_zone()
        self.memory_path = memory_path or memory_io.memory_file()
        self.plan = Plan()
        self.attempts: list[Attempt] = []
        self.memory = SchedulerMemory()
        self._last_mono: float | None = None
        self._loaded_mono: float | None = None
        self._saved_mono: float | None = None
        self._lock = asyncio.Lock()
        self._loop_task: asyncio.Task[None] | None = None
        self._starting = False
        self.ticks = 0
        self.wakes = 0  # suspends noticed (tests, doctor)

    # ----- life cycle
    async def load(self) -> None:
        """Read the plan, the memory and the recent attempts (io lane); announce them."""
        self.plan = await runtime.run_blocking(self.ports.load_plan, lane="io")
        self.memory = await runtime.run_blocking(memory_io.load, self.memory_path, lane="io")
        await self._reload_attempts()
        self._loaded_mono = self.clock.monotonic()
        self.plan_changed.emit(self.plan)

    def start(self, interval: float = TICK_SECONDS) -> None:
        """Tick every ``interval`` seconds on the running loop (idempotent)."""
        if self._loop_task is None or self._loop_task.done():
            self._loop_task = runtime.spawn(self._run(interval), "window scheduler", group=self)

    async def stop(self) -> None:
        if self._loop_task is not None:
            self._loop_task.cancel()
            self._loop_task = None
        await runtime.drain(2.0, group=self, cancel_after=True)
        if self.memory.last_tick is not None:
            await self._save_memory()  # the last look, for the next start

    async def _run(self, interval: float) -> None:
        health = runtime.LoopHealth("window scheduler")
        while True:
            wait = interval
            try:
                await self.tick()
                health.succeeded()
            except Exception as exc:
                wait = max(interval, health.failed(exc))
            await asyncio.sleep(wait)

    def on_state(self, state: AccountState) -> None:
        """A new usage state: tick now (a window that closed early, a wake the poller saw first)."""
        self.state_seen.emit(state)
        runtime.try_spawn(self.tick(), "window scheduler tick", group=self)

    # ----- the tick
    async def tick(self) -> list[Due]:
        """Handle every anchor due since the previous tick; returns them (tests)."""
        async with self._lock:
            now, mono = self.clock.now(), self.clock.monotonic()
            waited = mono - (self._loaded_mono if self._loaded_mono is not None else mono)
            state = self.window_state()
            if (state is None or state.snapshot is None) and waited < FIRST_STATE_WAIT:
                if self.memory.last_tick is None:  # a first run still starts counting from now
                    self.memory = replace(self.memory, last_tick=now)
                return []  # the first state's arrival ticks again
            last = self.memory.last_tick
            if last is not None and self._last_mono is not None:
                gap = (now - last) - timedelta(seconds=mono - self._last_mono)
                if gap > SLEEP_GAP:
                    self.wakes += 1
                    log.info("window scheduler: woke after about %d min asleep", gap.total_seconds() // 60)
            self._last_mono = mono
            self.ticks += 1
            dues = due_between(self.plan, last, now, self.tz) if last is not None else []
            self.memory = replace(self.memory, last_tick=now)
            for due in dues:
                await self._handle(due, now)
            if dues or self._saved_mono is None or mono - self._saved_mono >= SAVE_EVERY:
                await self._save_memory()
            return dues

    async def _handle(self, due: Due, now: datetime) -> None:
        key = anchor_key(due.anchor.id, due.at)
        if key in self.memory.handled:
            return
        self.memory = self.memory.handle(key, now)
        await self._save_memory()  # before anything goes out: a restart never repeats it
        if due.missed:
            minutes = int(due.late.total_seconds() // 60)
            await self._log(Attempt(now, due.anchor.id, Outcome.SKIPPED, f"missed by {minutes} min"))
            return
        resets_at, utilization = self._five_hour()
        if window_open(resets_at, now):
            log.info("anchor %s: a window is open until %s; nothing to do", due.anchor.id, resets_at)
            return
        quiet = in_quiet_hours(
            now, parse_quiet_hours(str(self.get_setting("alerts.quiet_hours") or "")), self.tz
        )
        if quiet and not due.anchor.in_quiet_hours:
            outcome = Outcome.REFUSED if due.anchor.mode is AnchorMode.AUTO else Outcome.SKIPPED
            await self._log(
                Attempt(now, due.anchor.id, outcome, "quiet hours", window_key=window_key(resets_at))
            )
            return
        if due.anchor.mode is AnchorMode.AUTO and due.anchor.id not in self.memory.demoted:
            runtime.spawn(self.start_now(due.anchor.id, key=key, auto=True), f"auto start {key}", group=self)
            return
        if self.alerts_paused():
            await self._log(Attempt(now, due.anchor.id, Outcome.SKIPPED, "alerts paused"))
            return
        alert = reminder(due.anchor, due.at, key, now, self.tz, utilization)
        await self._log(
            Attempt(now, due.anchor.id, Outcome.REMINDED, alert.body, window_key=window_key(resets_at))
        )
        self._send(alert)

    def _five_hour(self) -> tuple[datetime | None, float]:
        state = self.window_state()
        snapshot = state.snapshot if state is not None else None
        window = snapshot.window("five_hour") if snapshot is not None else None
        return (window.resets_at, window.utilization) if window is not None else (None, 0.0)

    # ----- actions
    def on_action(self, name: str, alert: Alert) -> None:
        """A reminder's button (desktop channel): "Start now" runs the guarded start once, "Skip"
        logs the anchor as skipped."""
        anchor_id = alert.extra.get("anchor_id") or None
        key = alert.extra.get("anchor_key") or alert.key
        if name == START:
            runtime.spawn(self.start_now(anchor_id, key=key), f"start from {alert.key}", group=self)
        elif name == SKIP:
            attempt = Attempt(self.clock.now(), anchor_id, Outcome.SKIPPED, "skipped by you")
            runtime.spawn(self._log(attempt), f"skip {alert.key}", group=self)

    @property
    def starting(self) -> bool:
        return self._starting

    async def start_now(
        self, anchor_id: str | None = None, *, key: str = "", auto: bool = False
    ) -> Attempt | None:
        """The guarded, verified start, once at a time (None when one is already running). Its
        outcome is logged and notified: verified quietly (desktop only), a window that did not open
        as one warning (an auto-start anchor then reminds until a start verifies)."""
        if self._starting:
            log.info("a window start is already running")
            return None
        self._starting = True
        self.start_running.emit(True)
        try:
            attempt = await self.ports.start_window(anchor_id)
        except Exception as exc:  # the start never raises by contract; be sure
            log.exception("window start failed")
            attempt = Attempt(
                self.clock.now(), anchor_id, Outcome.FAILED, f"internal error: {type(exc).__name__}"
            )
            await self._log(attempt)
        else:
            await self._log(attempt, logged=self.ports.start_logs)
        finally:
            self._starting = False
            self.start_running.emit(False)
        demoted = False
        if attempt.outcome is Outcome.VERIFIED and self.memory.demoted:
            self.memory = replace(self.memory, demoted=frozenset())
            await self._save_memory()
        elif auto and anchor_id and attempt.outcome in (Outcome.NOT_OPENED, Outcome.FAILED):
            self.memory = replace(self.memory, demoted=self.memory.demoted | {anchor_id})
            demoted = True
            await self._save_memory()
        if auto and attempt.outcome is Outcome.REFUSED:
            return attempt  # the guard said no (open window, status, limits): logged, not notified
        notice = outcome_notice(attempt, key or f"manual@{attempt.at.isoformat()}", self.clock.now(), demoted)
        if notice is not None and not self.alerts_paused():
            warning = attempt.outcome in (Outcome.NOT_OPENED, Outcome.FAILED)
            self._send(notice, only=None if warning else ["desktop"])  # a quiet note stays on this desktop
        return attempt

    # ----- the plan
    async def save_plan(self, plan: Plan) -> Plan:
        """Validate (:class:`~trayapp.core.schedule.PlanError` names the rule), save on the io lane,
        announce. An anchor moved or removed forgets its failed auto start."""
        plan = validate(plan)
        await runtime.run_blocking(self.ports.save_plan, plan, lane="io")
        self.plan = plan
        ids = {a.id for a in plan.anchors}
        if self.memory.demoted - ids:
            self.memory = replace(self.memory, demoted=self.memory.demoted & ids)
            await self._save_memory()
        self.plan_changed.emit(plan)
        if self.ports.sync_timer is not None:
            ok, message = await runtime.run_blocking(self.ports.sync_timer, plan, lane="io")
            if message:
                (log.info if ok else log.warning)("OS timer: %s", message)
            self.timer_synced.emit(ok, message)
        return plan

    # ----- helpers
    def _send(self, alert: Alert, only: list[str] | None = None) -> None:
        log.info("scheduler alert %s: %s", alert.key, alert.title)
        coro = self.dispatcher.dispatch(alert, only=only) if only else self.dispatcher.dispatch(alert)
        if runtime.try_spawn(coro, f"alert {alert.key}", group=self) is None:
            log.warning("no event loop: scheduler alert delivery skipped")

    async def _log(self, attempt: Attempt, *, logged: bool = False) -> None:
        log.info(
            "window attempt %s %s: %s", attempt.anchor_id or "by hand", attempt.outcome.value, attempt.detail
        )
        if not logged:
            try:
                await runtime.run_blocking(self.ports.append_attempt, attempt, lane="io")
            except OSError as exc:
                log.warning("could not log the window attempt: %s", exc)
        await self._reload_attempts(fallback=attempt)

    async def _reload_attempts(self, fallback: Attempt | None = None) -> None:
        try:
            self.attempts = await runtime.run_blocking(
                self.ports.read_attempts, MAX_ATTEMPTS_SHOWN, lane="io"
            )
        except (OSError, ValueError) as exc:
            log.warning("could not read the window attempts: %s", exc)
            if fallback is not None:
                self.attempts = [*self.attempts, fallback][-MAX_ATTEMPTS_SHOWN:]
        self.attempts_changed.emit(list(self.attempts))

    async def _save_memory(self) -> None:
        self._saved_mono = self.clock.monotonic()
        try:
            await runtime.run_blocking(memory_io.save, self.memory, self.memory_path, lane="io")
        except OSError as exc:
            log.error("could not save the scheduler memory to %s: %s", self.memory_path, exc)
