"""Builds the window scheduler's service for the tray app: its ports onto the schedule store (the
plan file and the attempts log, :mod:`trayapp.store.schedule_store`) and onto the guarded, verified
start (:mod:`trayapp.services.window_start`), or in demo mode a simulated start that never runs
``claude``. The popup panel and the Settings page are attached by :mod:`trayapp.features.scheduler`
(the feature module listed in :mod:`trayapp.app_features`), which calls :func:`build_service`.
"""

from __future__ import annotations

import asyncio
import logging
import subprocess
from collections.abc import Awaitable, Callable
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from trayapp.core.clock import Clock
from trayapp.core.models import AccountState
from trayapp.core.schedule import Anchor, AnchorMode, Attempt, Outcome, Plan
from trayapp.services.scheduler_memory import local_zone
from trayapp.services.scheduler_service import SchedulerPorts, SchedulerService

if TYPE_CHECKING:
    from trayapp.store.schedule_store import ScheduleStore

log = logging.getLogger(__name__)

DEMO_START_SECONDS = 1.5  # long enough to see "Starting…" in the demo


def simulated_start(clock: Clock, tz: ZoneInfo) -> Callable[[str | None], Awaitable[Attempt]]:
    """Demo mode's start: nothing runs, a verified outcome after a short pause, labelled simulated."""

    async def start(anchor_id: str | None) -> Attempt:
        await asyncio.sleep(DEMO_START_SECONDS)
        now = clock.now()
        resets = (now + timedelta(hours=5)).astimezone(tz).strftime("%H:%M")
        detail = f"simulated in demo mode (no claude run): resets at {resets}"
        return Attempt(now, anchor_id, Outcome.VERIFIED, detail, extra={"simulated": "1"})

    return start


Start = Callable[[str | None], Awaitable[Attempt]]


def real_start(
    store: ScheduleStore,
    clock: Clock,
    tz: ZoneInfo,
    get_setting: Callable[[str], Any],
    state: Callable[[], AccountState | None],
    poll: Callable[[], Awaitable[AccountState | None]] | None,
) -> Start:
    """The guarded, verified start of :mod:`trayapp.services.window_start` (it logs its attempt)."""

    async def one_poll() -> AccountState:
        fresh = await poll() if poll is not None else None
        return fresh if fresh is not None else AccountState(snapshot=None)

    async def start(anchor_id: str | None) -> Attempt:
        from trayapp.services.window_start import start_window

        return await start_window(
            store=store,
            clock=clock,
            tz=tz,
            get_setting=get_setting,
            state=state,
            anchor_id=anchor_id,
            poll=one_poll if poll is not None else None,
        )

    return start


def sync_os_timer(plan: Plan) -> tuple[bool, str]:
    """The OS timer follows the plan (installed for its auto anchors when ``plan.os_timer``, removed
    when off), as ``claude-watch schedule`` does; nothing to do: ("", ok)."""
    from trayapp.platform import os_timer

    if not plan.os_timer and not os_timer.installed():
        return True, ""
    try:
        report = os_timer.install(plan) if plan.os_timer else os_timer.uninstall()
    except (OSError, subprocess.SubprocessError) as exc:
        return False, f"the OS timer could not be changed: {exc}"
    return report.ok, report.message


def ports_for(store: ScheduleStore, start: Start, start_logs: bool, timer: bool = False) -> SchedulerPorts:
    def save_plan(plan: Plan) -> None:
        store.save_plan(plan)

    return SchedulerPorts(
        load_plan=store.load_plan,
        save_plan=save_plan,
        append_attempt=store.append,
        read_attempts=lambda limit: store.attempts(limit),
        start_window=start,
        start_logs=start_logs,
        sync_timer=sync_os_timer if timer else None,
    )


def seed_demo(store: ScheduleStore, now: datetime, tz: ZoneInfo) -> bool:
    """Demo mode's plan and today's history, when the (temporary) demo folders have none: anchors at
    07:00, 12:00 (auto-start) and 17:00 every day, and the starts of today that already passed
    (07:00 verified, simulated). Returns whether it seeded."""
    if store.load_plan().anchors:
        return False
    plan = Plan((Anchor(time(7, 0)), Anchor(time(12, 0), mode=AnchorMode.AUTO), Anchor(time(17, 0))))
    store.save_plan(plan)
    today = now.astimezone(tz).date()
    morning = datetime.combine(today, time(7, 1), tz)
    if morning < now and not store.attempts(1):
        resets = (morning + timedelta(hours=5)).strftime("%H:%M")
        detail = f"simulated in demo mode (no claude run): resets at {resets}"
        store.append(Attempt(morning, "07:00", Outcome.VERIFIED, detail, extra={"simulated": "1"}))
    return True


def build_service(
    *,
    demo: bool,
    clock: Clock,
    get_setting: Callable[[str], Any],
    dispatcher: Any,
    state: Callable[[], AccountState | None],
    alerts_paused_until: Callable[[], datetime | None],
    poll: Callable[[], Awaitable[AccountState | None]] | None = None,
    tz: ZoneInfo | None = None,
) -> SchedulerService:
    """The app's scheduler (nothing read yet: :meth:`SchedulerService.load` does that on the io
    lane when the feature starts). ``state()`` is the app's latest usage state; ``poll()`` one
    usage poll, for a start whose reading is not fresh and to verify a start."""
    from trayapp.store.schedule_store import ScheduleStore

    zone = tz or local_zone()
    store = ScheduleStore()
    if demo:
        start, start_logs = simulated_start(clock, zone), False
    else:
        start, start_logs = real_start(store, clock, zone, get_setting, state, poll), True

    def alerts_paused() -> bool:
        until = alerts_paused_until()
        return until is not None and until > clock.now()

    return SchedulerService(
        ports_for(store, start, start_logs, timer=not demo),  # a demo never touches the system
        dispatcher,
        clock,
        get_setting,
        state,
        alerts_paused=alerts_paused,
        tz=zone,
    )
