"""``claude-watch export csv --what daily|sessions|snapshots --out FILE``: spreadsheets of your usage.

``daily`` and ``sessions`` come from the local token ledger (scanned first, like ``report``);
``snapshots`` are the plan-usage windows the app has polled, from the main database. ``--out -``
writes to standard output. This module parses the arguments and prints; the tables and the CSV
writing live in :mod:`trayapp.services.export` (the dashboard's export button runs them too).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from trayapp.services.export import WHAT, ExportError, table_rows, write_csv, write_rows


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("export", help="export usage as CSV (daily, sessions, snapshots)")
    esub = p.add_subparsers(dest="format", metavar="FORMAT", required=True)
    c = esub.add_parser("csv", help="RFC 4180 CSV, UTF-8, header row")
    c.add_argument("--what", choices=WHAT, required=True, help="which table to export")
    c.add_argument("--out", required=True, metavar="FILE", help="output file ('-' for standard output)")
    c.add_argument("--since", metavar="YYYY-MM-DD", help="first day to include")
    c.add_argument("--until", metavar="YYYY-MM-DD", help="last day to include")
    c.add_argument("--timezone", metavar="TZ", help="IANA time zone for days (default: setting, else local)")
    c.add_argument("--cost-mode", choices=("auto", "calculate", "display"), help="how costs are computed")
    c.add_argument("--no-scan", action="store_true", help="do not scan transcripts first")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from trayapp.cli import _report_render as render

    try:
        since = render.parse_day(args.since, "--since")
        until = render.parse_day(args.until, "--until")
        tracker = render.make_tracker(args.timezone, args.cost_mode) if args.what != "snapshots" else None
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        if tracker is not None and not args.no_scan:
            render.scan_with_progress(tracker)
        header, rows = table_rows(args.what, tracker, since, until)
    except ExportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        if tracker is not None:
            tracker.repo.close()
    if args.out == "-":
        write_rows(sys.stdout, header, rows)
        return 0
    try:
        out = write_csv(Path(args.out), header, rows)
    except OSError as exc:
        print(f"error: cannot write {args.out}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(f"wrote {len(rows)} row(s) to {out}", file=sys.stderr)
    return 0
