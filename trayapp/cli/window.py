"""``claude-watch window status [--json]`` and ``claude-watch window start [--verify] [--json]``.

``status`` says whether a 5-hour window is open (from the freshest reading on disk: a status line
capture or the last stored poll; it never polls), when it resets, the next planned anchor and the
last attempts. ``start`` is the guarded, verified start of
:mod:`trayapp.services.window_start` by hand (the OS timer runs it too, with ``--anchor``): it runs
``claude -p`` once only when no window is open and the guards allow it. Exit status: 0 the window
opened (verified), 1 it did not open (or claude failed), 2 the start was refused (a window is open,
already tried, quiet hours...); the reason is printed either way.

JSON (``--json``): ``status`` prints ``{"schema_version": 1, "open": bool, "resets_at": ISO|null,
"reading_at": ISO|null, "next_anchor": {"id", "at"}|null, "attempts": [...]}``; ``start`` prints
the attempt: ``{"schema_version": 1, "outcome", "detail", "at", "anchor", "window", "extra"}``.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from trayapp.core.schedule import Attempt

SCHEMA_VERSION = 1
EXIT = {"verified": 0, "not_opened": 1, "failed": 1, "refused": 2}


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "window",
        help="is a 5-hour window open; start one now (status/start)",
        description="Show the 5-hour window, or start one with a single headless claude run, verified.",
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    st = actions.add_parser("status", help="open or closed, resets at, next anchor, last attempts")
    st.add_argument("--json", action="store_true", help="machine-readable output")
    st.set_defaults(func=run_status)
    go = actions.add_parser(
        "start",
        help="start a 5-hour window now (exit 0 verified, 1 did not open, 2 refused)",
        description=(
            "Run `claude -p hi --model haiku` once in an empty folder, only when no window is open, "
            "and check that a 5-hour window opened. Headless use may be billed separately: see the "
            "README's Window scheduler section."
        ),
    )
    go.add_argument(
        "--verify",
        action="store_true",
        help="when the run itself does not say, poll the usage once after a short wait to verify",
    )
    go.add_argument("--anchor", metavar="HH:MM", help=argparse.SUPPRESS)  # the OS timer's anchor
    go.add_argument("--json", action="store_true", help="machine-readable output")
    go.set_defaults(func=run_start)


def attempt_json(attempt: Attempt) -> dict[str, Any]:
    from trayapp.store.schedule_store import attempt_dict

    return attempt_dict(attempt)


def attempt_line(attempt: Attempt, tz: Any) -> str:
    who = attempt.anchor_id or "by hand"
    return (
        f"{attempt.at.astimezone(tz):%a %d %b %H:%M}  {who:<7}  {attempt.outcome.value:<10}  {attempt.detail}"
    )


def run_status(args: argparse.Namespace) -> int:
    import json
    from datetime import UTC, datetime

    from trayapp.core.schedule import next_anchor, window_open
    from trayapp.services.scheduler_memory import local_zone
    from trayapp.services.window_start import five_hour_reset, newest_reset, stored_reading
    from trayapp.store.schedule_store import ScheduleStore
    from trayapp.store.usage_repo import UsageRepo

    now, tz = datetime.now(UTC), local_zone()
    repo = UsageRepo.open()
    try:
        reading = stored_reading(now, repo)
    finally:
        repo.close()
    store = ScheduleStore()
    plan, attempts = store.load_plan(), store.attempts(10)
    resets = newest_reset(five_hour_reset(reading), attempts, "default")  # a verified start knows better
    is_open = window_open(resets, now)
    upcoming = next_anchor(plan, now, tz)
    if args.json:
        out = {
            "schema_version": SCHEMA_VERSION,
            "open": is_open,
            "resets_at": resets.isoformat() if resets else None,
            "reading_at": reading.fetched_at.isoformat() if reading else None,
            "next_anchor": {"id": upcoming[0].id, "at": upcoming[1].isoformat()} if upcoming else None,
            "plan_error": store.error,
            "attempts": [attempt_json(a) for a in attempts],
        }
        print(json.dumps(out, indent=2), flush=True)
        return 0
    lines = []
    if reading is None and not is_open:
        lines.append("5-hour window: unknown (no reading yet: run `claude-watch status` or open Claude Code)")
    elif is_open:
        assert resets is not None
        lines.append(
            f"5-hour window: open, resets at {resets.astimezone(tz):%H:%M} ({resets.astimezone(tz):%a})"
        )
    else:
        lines.append("5-hour window: closed (the next message starts one)")
    if reading is not None:
        lines.append(f"Reading from: {reading.fetched_at.astimezone(tz):%a %H:%M} ({reading.source.value})")
    if upcoming:
        anchor, when = upcoming
        lines.append(f"Next anchor:  {anchor.id} on {when.astimezone(tz):%a %d %b} ({anchor.mode.value})")
    else:
        lines.append("Next anchor:  none (`claude-watch schedule add 07:00` plans one)")
    if store.error:
        lines.append(f"Plan: {store.error}")
    if attempts:
        lines.append("Last attempts:")
        lines.extend("  " + attempt_line(a, tz) for a in attempts)
    print("\n".join(lines), flush=True)
    return 0


def run_start(args: argparse.Namespace) -> int:
    import asyncio
    import json
    import sys
    from datetime import UTC, datetime

    from trayapp import settings as st
    from trayapp.core.clock import SystemClock
    from trayapp.core.models import AccountState
    from trayapp.runtime import run_blocking
    from trayapp.services.scheduler_memory import local_zone
    from trayapp.services.usage_engine import create_engine
    from trayapp.services.window_start import StartConfig, start_window, stored_reading
    from trayapp.store.schedule_store import ScheduleStore

    cfg = st.load()
    tz = local_zone()

    async def once() -> Attempt:
        engine = await run_blocking(create_engine, settings=cfg, probe_version=False)
        try:
            reading = await run_blocking(stored_reading, datetime.now(UTC), engine.repo)

            async def poll() -> AccountState:
                return await engine.poll(manual=True)

            return await start_window(
                store=ScheduleStore(),
                clock=SystemClock(),
                tz=tz,
                get_setting=cfg.get,
                state=lambda: AccountState(reading),
                anchor_id=args.anchor,
                poll=poll,
                config=StartConfig(verify=bool(args.verify)),
                from_timer=args.anchor is not None,
            )
        finally:
            await engine.aclose()
            engine.repo.close()

    attempt = asyncio.run(once())
    code = EXIT.get(attempt.outcome.value, 1)
    if args.json:
        print(json.dumps({"schema_version": SCHEMA_VERSION, **attempt_json(attempt)}, indent=2), flush=True)
    else:
        words = {0: "Window started", 1: "No window", 2: "Not started"}[code]
        print(f"{words}: {attempt.detail}", file=sys.stdout if code == 0 else sys.stderr, flush=True)
    return code
