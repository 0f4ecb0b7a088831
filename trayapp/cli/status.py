"""``claude-watch status [--json | --format FMT] [--watch] [--demo]``: the account's limits.

The table (``text``) fetches from the usage endpoint unless the policy forbids it (a 429 cooldown
remembered from an earlier run, or another fetch less than 30 s ago), in which case the stored
snapshot is shown with its age. ``--json`` (``--format json``) first asks the running app's local
API, so a script does not add a second poller while the app runs, and fetches like the table
otherwise. The status-bar formats (``waybar``, ``polybar``, ``i3blocks``) and every ``--watch``
never fetch: they read the app's API or, with no app, the stored reading, marked stale when it is
old (:mod:`trayapp.cli.status_api`; the lines are :mod:`trayapp.cli.status_formats`). Exit codes:
0 fresh numbers; 1 an error and no numbers at all; 3 numbers shown but stale (the latest attempt
failed, or they are old); 2 bad command line (argparse). The bar formats exit 0 whenever they print
a line (bars hide or flag a module that fails; staleness is in the line itself).
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a status bar runs this often)
if TYPE_CHECKING:
    from typing import Any

EXIT_OK = 0
EXIT_NO_DATA = 1
EXIT_STALE = 3


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "status",
        help="show your Claude limits now",
        description="Fetch and show the 5-hour and weekly limits. Exit codes: 0 fresh, 1 error and no "
        "data, 3 stale data shown (rate-limited, offline, throttled). The status-bar formats (waybar, "
        "polybar, i3blocks) and --watch read the running app, else the stored reading, and exit 0.",
    )
    p.add_argument("--json", action="store_true", help="print machine-readable JSON (same as --format json)")
    p.add_argument(
        "--format",
        dest="status_format",
        choices=("waybar", "polybar", "i3blocks", "json", "text"),
        help="output for a status bar (waybar JSON, polybar or i3blocks lines), JSON or text; the bar "
        "formats read the running app or the stored reading and never fetch",
    )
    p.add_argument(
        "--watch",
        action="store_true",
        help="keep running and print one line per change, from the running app (a bar's continuous mode)",
    )
    p.add_argument("--demo", dest="status_demo", action="store_true", help="use the simulated demo account")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    fmt = args.status_format or ("json" if args.json else "text")
    if args.json and fmt != "json":
        print(f"claude-watch status: --json and --format {fmt} disagree", file=sys.stderr)
        return 2
    if args.watch:
        from trayapp.cli.status_api import watch

        try:
            watch(fmt, lambda line: print(line, flush=True))
        except KeyboardInterrupt:
            return 130  # runs until the bar closes the pipe (trayapp.__main__) or the user stops it
        return EXIT_OK
    if fmt in ("waybar", "polybar", "i3blocks") or (fmt == "json" and not _demo(args)):
        from trayapp.cli.status_api import ApiUnavailable, fetch_status, stored_document
        from trayapp.cli.status_formats import now_utc, render

        try:
            doc = fetch_status()
        except ApiUnavailable:
            if fmt == "json":
                return _fetch_and_show(args, fmt)
            doc = stored_document(now_utc())
        print(render(fmt, doc, now_utc()), flush=True)
        if fmt != "json":
            return EXIT_OK
        return EXIT_NO_DATA if doc.get("fetched_at") is None else EXIT_STALE if doc.get("stale") else EXIT_OK
    return _fetch_and_show(args, fmt)


def _demo(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "status_demo", False) or getattr(args, "demo", False))


def _fetch_and_show(args: argparse.Namespace, fmt: str) -> int:
    """Today's ``status``: poll through the engine (the policy may show the stored snapshot)."""
    import asyncio

    from trayapp.services.usage_engine import create_engine

    demo = None
    if _demo(args):
        from trayapp.demo import start_demo

        demo = start_demo(rate_limit_every=0)
    try:
        engine = create_engine(demo=demo)

        async def once() -> Any:
            try:
                return await engine.poll(manual=True)
            finally:
                await engine.aclose()

        state = asyncio.run(once())
        now = engine.clock.now()
    finally:
        if demo is not None:
            demo.stop()
    import json

    text = json.dumps(to_json(state, now), indent=2) if fmt == "json" else render(state, now)
    print(text, flush=True)  # a closed pipe ends quietly in trayapp.__main__.main
    if state.snapshot is None:
        return EXIT_NO_DATA
    return EXIT_STALE if state.stale else EXIT_OK


def to_json(state: Any, now: datetime) -> dict[str, Any]:
    """The documented ``--json`` shape (extra keys may be added, none removed); the local API
    serves the same document, so it lives in ``services/api_docs``."""
    from trayapp.services.api_docs import status_json

    return status_json(state, now)


def bar(percent: float, width: int = 20) -> str:
    filled = max(0, min(width, round(percent / 100 * width)))
    return "█" * filled + "░" * (width - filled)


def render(state: Any, now: datetime) -> str:
    """The human table, in the popup's wording (``core.humanize``)."""
    from trayapp.core.humanize import extra_usage_text, format_age, format_countdown

    lines: list[str] = []
    account = state.account
    who = [x for x in ((account.plan if account else None), (account.email if account else None)) if x]
    if account and account.organization:
        who.append(account.organization)
    lines.append("Claude Watch" + "".join(f" · {x}" for x in who))
    snap = state.snapshot
    if snap is None:
        lines.append("No usage data yet.")
    elif not state.windows:
        lines.append("This plan reports no usage windows (credit-based plan).")
    else:
        lines.append("")
        lines.append(f"{'Window':<22} {'Used':>5}  {'':<20}  {'Resets in':<12} {'Pace':>9}  {'At reset':>8}")
        lines.append("─" * 86)
        for ws in state.windows:
            w = ws.window
            pace = f"{ws.burn_rate_per_hour:.1f} %/h" if ws.burn_rate_per_hour is not None else "—"
            proj = f"{ws.projected_at_reset:.0f}%" if ws.projected_at_reset is not None else "—"
            ttr = format_countdown(ws.time_to_reset)
            mark = " ◀" if state.binding is ws and len(state.windows) > 1 else ""
            used = f"{w.utilization:>4.0f}%"
            lines.append(
                f"{w.label[:22]:<22} {used}  {bar(w.utilization)}  {ttr:<12} {pace:>9}  {proj:>8}{mark}"
            )
            if ws.projected_full_at is not None:
                left = format_countdown(ws.projected_full_at - now)
                lines.append(f"{'':<22}        at this pace 100% in {left}, before the reset")
    if snap is not None and snap.extra_usage is not None and snap.extra_usage.is_enabled:
        e = snap.extra_usage
        pct = f" ({e.utilization:.1f}%)" if e.utilization is not None else ""
        lines.append(f"\nExtra usage: {extra_usage_text(e)}{pct}")
    if snap is not None:
        lines.append(
            f"\nSource: {snap.source}, {format_age(state.age_seconds)}" + (" (stale)" if state.stale else "")
        )
    if state.error is not None:
        retry = ""
        if state.error.retry_at is not None:
            retry = f" Next try in {format_countdown(state.error.retry_at - now)}."
        lines.append(f"Problem: {state.error.message}{retry}")
    for notice in state.notices:
        lines.append(f"Note: {notice}")
    return "\n".join(lines)
