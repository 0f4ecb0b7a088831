"""``claude-watch schedule list|add|remove|pause|resume|timer [--json]``: the window plan.

The plan (``config/schedule.json``) holds 1 to 4 daily anchors at least 5 hours apart, on chosen
weekdays: at each one, when no 5-hour window is open, the tray app reminds you (the default) or,
for an ``--auto`` anchor, starts one with a single verified headless run (``window start``).

- ``add HH:MM [--days mon-fri|sat,sun|all] [--auto] [--in-quiet-hours]`` adds (or replaces) an
  anchor; ``add --preset work_day|24_7|night_owl`` replaces the anchors with a preset's.
- ``remove HH:MM`` (or ``remove all``); ``pause --today`` (until midnight) or ``pause --until
  DATE`` (resumes at the start of DATE, local time); ``resume``.
- ``timer on|off|status``: the OS timer that runs auto anchors while the app is not running.

Every command prints the plan afterwards; ``--json`` prints ``{"schema_version": 1, "plan":
{...as in schedule.json...}, "preset_label", "next_anchor": {"id", "at"}|null, "coverage":
{"HH:MM": "..."}, "os_timer": [files], "error": str|null}``. Exit status 0, 2 when the change
breaks the plan's rules (the message says which) or the plan file cannot be read.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from trayapp.core.schedule import Plan
    from trayapp.store.schedule_store import ScheduleStore

SCHEMA_VERSION = 1


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "schedule",
        help="plan your 5-hour windows: daily anchors to remind or auto-start (list/add/remove/pause)",
        description="Plan daily anchors (at least 5 h apart) at which a 5-hour window should be open.",
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    def action(name: str, help_text: str) -> argparse.ArgumentParser:
        a: argparse.ArgumentParser = actions.add_parser(name, help=help_text, description=help_text)
        a.add_argument("--json", action="store_true", help="machine-readable output")
        a.set_defaults(func=run)
        return a

    action("list", "show the plan, what each anchor buys and the next anchor")
    add = action("add", "add an anchor (HH:MM) or lay out a preset")
    add.add_argument("at", nargs="?", metavar="HH:MM", help="local time of day")
    add.add_argument("--days", default="all", help="mon-fri, sat,sun, all (default), or a list")
    add.add_argument("--auto", action="store_true", help="start the window automatically (verified)")
    add.add_argument("--in-quiet-hours", action="store_true", help="may act during alerts.quiet_hours")
    add.add_argument("--preset", choices=["work_day", "24_7", "night_owl"], help="replace the anchors")
    rm = action("remove", "remove the anchor at HH:MM (or all)")
    rm.add_argument("at", metavar="HH:MM|all")
    pause = action("pause", "pause the plan for today or until a date")
    when = pause.add_mutually_exclusive_group(required=True)
    when.add_argument("--today", action="store_true", help="until midnight")
    when.add_argument("--until", metavar="YYYY-MM-DD", help="resume at the start of this day")
    action("resume", "end a pause")
    timer = action("timer", "the OS timer for auto anchors while the app is not running")
    timer.add_argument("state", choices=["on", "off", "status"])


def run(args: argparse.Namespace) -> int:
    import sys

    from trayapp.core.schedule import PlanError
    from trayapp.services.scheduler_memory import local_zone
    from trayapp.store.schedule_store import ScheduleStore

    store, tz = ScheduleStore(), local_zone()
    plan = store.load_plan()
    if store.error and args.action != "list":
        print(f"Not changed: {store.error}", file=sys.stderr)
        return 2
    note = ""
    try:
        if args.action == "timer":
            plan, note = _timer(store, args.state, plan)
        elif args.action != "list":
            plan = store.save_plan(_changed(args, plan, tz))
            note = _refresh_timer(plan)
    except PlanError as exc:
        print(f"Not changed: {exc}", file=sys.stderr)
        return 2
    _print(store, plan, tz, args.json, note)
    return 0


def _changed(args: argparse.Namespace, plan: Plan, tz: ZoneInfo) -> Plan:
    from dataclasses import replace
    from datetime import UTC, date, datetime, time, timedelta

    from trayapp.core import schedule as sc

    if args.action == "add":
        if args.preset:
            return sc.from_preset(args.preset, plan)
        if not args.at:
            raise sc.PlanError("add needs a time (HH:MM) or --preset")
        mode = sc.AnchorMode.AUTO if args.auto else sc.AnchorMode.REMIND
        anchor = sc.Anchor(sc.parse_at(args.at), sc.parse_days(args.days), mode, bool(args.in_quiet_hours))
        return sc.with_anchor(plan, anchor)
    if args.action == "remove":
        if args.at == "all":
            return replace(plan, anchors=(), preset="custom")
        return sc.without_anchor(plan, sc.parse_at(args.at).strftime("%H:%M"))
    if args.action == "pause":
        today = datetime.now(tz).date()
        if args.today:
            day = today + timedelta(days=1)
        else:
            try:
                day = date.fromisoformat(args.until)
            except ValueError:
                raise sc.PlanError(f"{args.until!r} is not a date (YYYY-MM-DD)") from None
            if day <= today:
                raise sc.PlanError(f"{args.until} is not after today")
        return replace(plan, paused_until=datetime.combine(day, time(0), tz).astimezone(UTC))
    return replace(plan, paused_until=None)  # resume


def _refresh_timer(plan: Plan) -> str:
    """With the OS timer on, its timers follow the plan."""
    from trayapp.platform import os_timer

    if not plan.os_timer and not os_timer.installed():
        return ""
    report = os_timer.install(plan) if plan.os_timer else os_timer.uninstall()
    return report.message


def _timer(store: ScheduleStore, state: str, plan: Plan) -> tuple[Plan, str]:
    from dataclasses import replace

    from trayapp.core.schedule import PlanError
    from trayapp.platform import os_timer

    if state == "status":
        files = os_timer.installed()
        word = "on" if plan.os_timer else "off"
        return plan, f"OS timer: {word}, {len(files)} file(s) installed." if files else f"OS timer: {word}."
    plan = store.save_plan(replace(plan, os_timer=state == "on"))
    report = os_timer.install(plan) if plan.os_timer else os_timer.uninstall()
    if not report.ok:
        raise PlanError(report.message)
    return plan, report.message


def plan_json(store: ScheduleStore, plan: Plan, tz: ZoneInfo) -> dict[str, Any]:
    from datetime import UTC, datetime

    from trayapp.core.schedule import coverage, next_anchor, preset_label
    from trayapp.platform import os_timer
    from trayapp.store.schedule_store import plan_to_json

    now = datetime.now(UTC)
    upcoming = next_anchor(plan, now, tz)
    today = now.astimezone(tz).date()
    return {
        "schema_version": SCHEMA_VERSION,
        "plan": plan_to_json(plan),
        "preset_label": preset_label(plan),
        "next_anchor": {"id": upcoming[0].id, "at": upcoming[1].isoformat()} if upcoming else None,
        "coverage": {a.id: coverage(a, today, tz) for a in plan.anchors},
        "os_timer": [str(p) for p in os_timer.installed()],
        "error": store.error,
    }


def _print(store: ScheduleStore, plan: Plan, tz: ZoneInfo, as_json: bool, note: str) -> None:
    import json

    data = plan_json(store, plan, tz)
    if as_json:
        print(json.dumps(data, indent=2), flush=True)
        return
    from datetime import datetime

    from trayapp.core.schedule import format_days

    lines = [f"Plan: {data['preset_label']}" + ("" if plan.enabled else " (off)")]
    if plan.os_timer:
        lines.append("OS timer: on (auto anchors run even when the app is not running)")
    if plan.paused_until is not None and plan.paused_until > datetime.now(plan.paused_until.tzinfo):
        lines.append(f"Paused until {plan.paused_until.astimezone(tz):%a %d %b %H:%M}")
    for anchor in sorted(plan.anchors, key=lambda a: a.id):
        flags = [format_days(anchor.days), anchor.mode.value] + (
            ["in quiet hours"] if anchor.in_quiet_hours else []
        )
        lines.append(f"  {data['coverage'][anchor.id]}  [{', '.join(flags)}]")
    if not plan.anchors:
        lines.append("  no anchors (`claude-watch schedule add 07:00 --days mon-fri`)")
    upcoming = data["next_anchor"]
    if upcoming:
        at = datetime.fromisoformat(upcoming["at"]).astimezone(tz)
        lines.append(f"Next anchor: {upcoming['id']} on {at:%a %d %b}")
    if any(a.mode.value == "auto" for a in plan.anchors):
        lines.append("Auto-start runs `claude -p` once per window; headless use may be billed separately.")
    if store.error:
        lines.append(store.error)
    if note:
        lines.append(note)
    print("\n".join(lines), flush=True)
