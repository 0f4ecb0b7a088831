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
a line (bars hide or flag a module that fails; staleness is in the line itself). ``--account LABEL``
and ``--all`` (text or JSON) poll one account or every account: :mod:`trayapp.cli.status_accounts`.
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
    which = p.add_mutually_exclusive_group()
    which.add_argument("--account", metavar="LABEL", help="one account (see `claude-watch accounts list`)")
    which.add_argument(
        "--all", dest="all_accounts", action="store_true", help="every account, one after another"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    fmt = args.status_format or ("json" if args.json else "text")
    if args.json and fmt != "json":
        print(f"claude-watch status: --json and --format {fmt} disagree", file=sys.stderr)
        return 2
    if getattr(args, "account", None) or getattr(args, "all_accounts", False):
        if fmt not in ("json", "text") or args.watch or _demo(args):
            print("claude-watch status: --account and --all go with text or --json only", file=sys.stderr)
            return 2
        from trayapp.cli.status_accounts import show_accounts

        return show_accounts(args.account, fmt)
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
        engine = create_engine(demo=demo)  # with several accounts, the default's captures only

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


BAR_WIDTH = 20
MIN_BAR = 6


def render(state: Any, now: datetime, *, width: int | None = None, paint: Any = None) -> str:
    """The human table, in the popup's wording (``core.humanize``), fitted to ``width`` (default:
    the terminal's, else 80): a narrower bar, then without the pace, the bar and the projection.
    Percentages and bars in the tray's level colours when ``paint`` (a ``cli.term.Painter``,
    default: the one for stdout) is on."""
    from trayapp.cli.term import Painter, terminal_width, wrap
    from trayapp.core.humanize import extra_usage_text, format_age, format_countdown

    width = width or terminal_width() or 80
    paint = paint if paint is not None else Painter()
    lines: list[str] = []
    account = state.account
    who = [x for x in ((account.plan if account else None), (account.email if account else None)) if x]
    if account and account.organization:
        who.append(account.organization)
    lines.append(wrap(paint.bold("Claude Watch") + "".join(f" · {x}" for x in who), width, "  "))
    snap = state.snapshot
    if snap is None:
        lines.append("No usage data yet.")
    elif not state.windows:
        lines.append("This plan reports no usage windows (credit-based plan).")
    else:
        lines.append("")
        lines.extend(_window_table(state, now, width, paint))
    if snap is not None and snap.extra_usage is not None and snap.extra_usage.is_enabled:
        e = snap.extra_usage
        pct = f" ({e.utilization:.1f}%)" if e.utilization is not None else ""
        lines.append("")
        lines.append(wrap(f"Extra usage: {extra_usage_text(e)}{pct}", width, "  "))
    if snap is not None:
        stale = " " + paint.level("(stale)", "stale") if state.stale else ""
        lines.append("")
        lines.append(f"Source: {snap.source}, {format_age(state.age_seconds)}{stale}")
    if state.error is not None:
        retry = ""
        if state.error.retry_at is not None:
            retry = f" Next try in {format_countdown(state.error.retry_at - now)}."
        text = wrap(f"Problem: {state.error.message}{retry}", width, "  ")
        lines.append(paint.level("Problem:", "critical") + text.removeprefix("Problem:"))
    for notice in state.notices:
        lines.append(wrap(f"Note: {notice}", width, "  "))
    return "\n".join(lines)


def _window_table(state: Any, now: datetime, width: int, paint: Any) -> list[str]:
    """The windows' rows: label, used, bar, resets in, pace, at reset (``◀`` marks the binding)."""
    from trayapp.core.humanize import format_countdown

    rows = []
    for ws in state.windows:
        pace = f"{ws.burn_rate_per_hour:.1f} %/h" if ws.burn_rate_per_hour is not None else "—"
        proj = f"{ws.projected_at_reset:.0f}%" if ws.projected_at_reset is not None else "—"
        rows.append((ws, ws.window.label[:22], format_countdown(ws.time_to_reset), pace, proj))
    label_w = max(len("Window"), *(len(r[1]) for r in rows))
    reset_w = max(len("Resets in"), *(len(r[2]) for r in rows))
    pace_w = max(len("Pace"), *(len(r[3]) for r in rows))
    mark_w = 2 if len(state.windows) > 1 else 0
    show = {"pace": True, "proj": True}
    bar_w = BAR_WIDTH

    def total() -> int:
        used = label_w + 1 + 5 + (2 + bar_w if bar_w else 0) + 2 + reset_w
        return used + (2 + pace_w if show["pace"] else 0) + (2 + 8 if show["proj"] else 0) + mark_w

    bar_w = max(MIN_BAR, BAR_WIDTH - max(0, total() - width))
    for step in ("pace", "bar", "proj"):
        if total() <= width:
            break
        if step == "bar":
            bar_w = 0
        else:
            show[step] = False

    def line(label: str, used: str, gauge: str, resets: str, pace: str, proj: str, mark: str) -> str:
        out = f"{label:<{label_w}} {used}"
        if bar_w:
            out += f"  {gauge}"
        out += f"  {resets:<{reset_w}}"
        if show["pace"]:
            out += f"  {pace:>{pace_w}}"
        if show["proj"]:
            out += f"  {proj:>8}"
        return (out + mark).rstrip()

    head = line("Window", " Used", " " * bar_w, "Resets in", "Pace", "At reset", "")
    out = [paint.bold(head), paint.dim("─" * min(width, total()))]
    for ws, label, resets, pace, proj in rows:
        level = ws.level.value
        used = paint.level(f"{ws.window.utilization:>4.0f}%", level)
        gauge = paint.level(bar(ws.window.utilization, bar_w), level) if bar_w else ""
        mark = " ◀" if state.binding is ws and mark_w else ""
        out.append(line(label, used, gauge, resets, pace, proj, mark))
        if ws.projected_full_at is not None:
            left = format_countdown(ws.projected_full_at - now)
            words = f"at this pace 100% in {left}, before the reset"
            indent = " " * min(label_w + 7, max(2, width - len(words)))
            out.append(indent + words)
    return out
