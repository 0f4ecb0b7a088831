"""``doctor``'s window scheduler section (issue 15): the plan, the next anchor, the OS timer and the
last 10 start attempts. A plan file that cannot be read, and starts that did not open a window or
failed, are warnings (doctor still exits 0 for them); everything else is information."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from trayapp.cli.doctor import Check
    from trayapp.store.schedule_store import ScheduleStore


def checks(now: datetime) -> list[Check]:
    from trayapp.cli.doctor import INFO, OK, WARN, Check
    from trayapp.core.schedule import format_days, next_anchor, preset_label
    from trayapp.platform import os_timer
    from trayapp.services.scheduler_memory import local_zone
    from trayapp.store.schedule_store import ScheduleStore

    tz = local_zone()
    store = ScheduleStore()
    plan = store.load_plan()
    out: list[Check] = []
    if store.error:
        out.append(
            Check("Window plan", WARN, store.error, "fix or delete the file; `claude-watch schedule list`")
        )
    if not plan.anchors:
        out.append(Check("Window plan", INFO, "no anchors (`claude-watch schedule add 07:00`)"))
        return out + _attempts(store, tz)
    anchors = ", ".join(
        f"{a.id} ({format_days(a.days)}, {a.mode.value})" for a in sorted(plan.anchors, key=lambda a: a.id)
    )
    state = "" if plan.enabled else " (off)"
    if plan.paused_until is not None and plan.paused_until > now:
        state = f" (paused until {plan.paused_until.astimezone(tz):%a %d %b %H:%M})"
    out.append(Check("Window plan", OK, f"{preset_label(plan)}{state}: {anchors}"))
    upcoming = next_anchor(plan, now, tz)
    if upcoming is not None:
        anchor, when = upcoming
        out.append(Check("Next anchor", INFO, f"{anchor.id} on {when.astimezone(tz):%a %d %b} ({tz.key})"))
    timers = os_timer.installed()
    auto = os_timer.timer_anchors(plan)
    if timers:
        out.append(Check("OS timer", INFO, f"on ({len(timers)} file(s) in {timers[0].parent})"))
    elif auto:
        out.append(Check("OS timer", INFO, "off: auto-start anchors run only while the tray app runs"))
    return out + _attempts(store, tz)


def _attempts(store: ScheduleStore, tz: ZoneInfo) -> list[Check]:
    from trayapp.cli.doctor import INFO, WARN, Check
    from trayapp.cli.window import attempt_line
    from trayapp.store.schedule_store import FAILURES

    attempts = store.attempts(10)
    if not attempts:
        return [Check("Start attempts", INFO, "none yet")]
    return [
        Check("Start attempt", WARN if a.outcome in FAILURES else INFO, attempt_line(a, tz))
        for a in reversed(attempts)  # newest first
    ]
