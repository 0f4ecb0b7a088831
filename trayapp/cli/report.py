"""``claude-watch report {daily,monthly,session,project,blocks}``: local token and cost reports.

Scans Claude Code's transcripts incrementally (a progress bar on stderr during a long first scan),
then prints a table, or with ``--json`` the same fields ccusage prints, so scripts written for
ccusage keep working. Everything is a local estimate: this machine, Claude Code only. A report
reads: its scan brings the ledger up to date and nothing else is written (``today-cost.json`` is
refreshed only by the tray app, see :mod:`trayapp.services.ledger_service`).
"""

from __future__ import annotations

import argparse
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import Any

REPORTS = ("daily", "weekly", "monthly", "session", "project", "blocks")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "report",
        help="token and cost reports from Claude Code transcripts on this machine",
        description="Token and cost reports from this machine's Claude Code transcripts (a local estimate).",
    )
    p.add_argument(
        "kind", nargs="?", default="daily", choices=REPORTS, help="how to group the usage (default: daily)"
    )
    p.add_argument("--json", action="store_true", help="machine-readable output (ccusage field names)")
    p.add_argument("--since", metavar="YYYY-MM-DD", help="first day to include (YYYYMMDD also accepted)")
    p.add_argument("--until", metavar="YYYY-MM-DD", help="last day to include")
    p.add_argument("--timezone", metavar="TZ", help="IANA time zone for days (default: setting, else local)")
    p.add_argument("--cost-mode", choices=("auto", "calculate", "display"), help="how costs are computed")
    p.add_argument("--breakdown", action="store_true", help="one line per model under each row")
    p.add_argument("--no-scan", action="store_true", help="report from the ledger without scanning first")
    p.add_argument(
        "--source",
        choices=("transcripts", "telemetry", "both"),
        default="transcripts",
        help="daily only: Claude Code's telemetry instead, or both with the difference per day and model",
    )
    p.add_argument("--account", metavar="LABEL", help="only this account's transcripts (see `accounts list`)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.source != "transcripts":
        from trayapp.cli import report_telemetry

        return report_telemetry.run(args)
    from trayapp.cli import _report_render as render

    try:
        since = render.parse_day(args.since, "--since")
        until = render.parse_day(args.until, "--until")
        account = None
        if getattr(args, "account", None):
            from trayapp.cli.status_accounts import find_account

            account = find_account(args.account)
        tracker = render.make_tracker(args.timezone, args.cost_mode)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # DiskFull with no ledger to read, or a data folder that cannot be made
        print(f"error: {exc}", file=sys.stderr)
        return 1
    try:
        if args.no_scan and tracker.repo.read_only:  # opened read-only: the disk is full
            print(render.DISK_FULL_NOTE, file=sys.stderr)
        elif not args.no_scan:
            stats = render.scan_with_progress(tracker)
            for note in stats.notes() if stats is not None else ():
                print(f"note: {note}", file=sys.stderr)
        if account is not None:
            from trayapp.cli.status_accounts import account_tracker

            whole, tracker = tracker, account_tracker(tracker, account)
            whole.repo.close()
        out: dict[str, Any] | str
        if args.kind == "blocks":
            out = render.blocks(tracker, since, until, as_json=args.json)
        else:
            out = render.periods(
                tracker, args.kind, since, until, as_json=args.json, breakdown=args.breakdown
            )
    finally:
        tracker.repo.close()
    print(out if isinstance(out, str) else render.dumps_pretty(out))
    return 0
