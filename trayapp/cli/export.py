"""``claude-watch export csv --what daily|sessions|snapshots --out FILE``: spreadsheets of your usage.

``daily`` and ``sessions`` come from the local token ledger (scanned first, like ``report``);
``snapshots`` are the plan-usage windows the app has polled, from the main database. Files are RFC
4180 CSV (``csv`` module, CRLF line ends), UTF-8, with a header row, written atomically (a temp
file renamed over the target), so a failed export never leaves half a file. ``--out -`` writes to
standard output. :func:`export_csv` is what the dashboard's export button runs, off the GUI thread.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import Any

WHAT = ("daily", "sessions", "snapshots")


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


class ExportError(RuntimeError):
    """Nothing to export, with the reason."""


def export_csv(what: str, out: Path, tracker: Any = None, since: Any = None, until: Any = None) -> int:
    """Write ``what`` to ``out``; returns the number of data rows. Blocking: call from a worker."""
    header, rows = table_rows(what, tracker, since, until)
    write_csv(out, header, rows)
    return len(rows)


def table_rows(what: str, tracker: Any, since: Any, until: Any) -> tuple[list[str], list[list[Any]]]:
    if what == "daily":
        report = tracker.daily(since, until, stats_cache=False)
        header = ["date", "input_tokens", "output_tokens", "cache_creation_tokens", "cache_read_tokens",
                  "total_tokens", "cost_usd", "models", "unpriced_models"]  # fmt: skip
        return header, [[day, *_tokens(t), ";".join(sorted(t.models)), ";".join(sorted(t.unpriced))]
                        for day, t in report.rows.items()]  # fmt: skip
    if what == "sessions":
        from trayapp.core.aggregate import iso_ms

        report = tracker.sessions(since, until)
        projects = report.extra.get("projects", {})
        header = ["session_id", "project_path", "first_activity", "last_activity", "input_tokens",
                  "output_tokens", "cache_creation_tokens", "cache_read_tokens", "total_tokens", "cost_usd",
                  "models", "unpriced_models"]  # fmt: skip
        return header, [[s, projects.get(s, ""), iso_ms(t.first_ts), iso_ms(t.last_ts), *_tokens(t),
                         ";".join(sorted(t.models)), ";".join(sorted(t.unpriced))]
                        for s, t in report.rows.items()]  # fmt: skip
    if what == "snapshots":
        return _snapshot_rows(since, until)
    raise ExportError(f"unknown export {what!r}; choose one of {', '.join(WHAT)}")


def _tokens(t: Any) -> list[Any]:
    return [t.input, t.output, t.cache_creation, t.cache_read, t.total, f"{t.cost:.6f}"]


def _snapshot_rows(since: Any, until: Any) -> tuple[list[str], list[list[Any]]]:
    """Window samples stored by the usage engine (main database, tables snapshots/window_samples)."""
    import sqlite3
    from datetime import UTC, datetime, time, timedelta

    from trayapp import paths

    db = paths.database_file()
    if not db.exists():
        raise ExportError(f"no usage snapshots yet ({db} does not exist); run the app to poll usage first")
    header = ["fetched_at", "source", "window_id", "label", "kind", "utilization_percent", "resets_at"]
    lo = datetime.combine(since, time.min, UTC).timestamp() if since else float("-inf")
    hi = datetime.combine(until + timedelta(days=1), time.min, UTC).timestamp() if until else float("inf")
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        rows = conn.execute(
            "SELECT fetched_at, source, window_id, label, kind, utilization, resets_at FROM window_samples"
            " WHERE fetched_at >= ? AND fetched_at < ? ORDER BY fetched_at, window_id",
            (lo, hi),
        ).fetchall()
    except sqlite3.Error as exc:
        raise ExportError(f"cannot read usage snapshots from {db}: {exc}") from None
    finally:
        conn.close()

    def iso(ts: float | None) -> str:
        if ts is None:
            return ""
        return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")

    return header, [[iso(r[0]), r[1], r[2], r[3], r[4], r[5], iso(r[6])] for r in rows]


def write_rows(stream: Any, header: list[str], rows: list[list[Any]]) -> None:
    import csv

    writer = csv.writer(stream, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)


def write_csv(out: Path, header: list[str], rows: list[list[Any]]) -> Path:
    """Atomically write the CSV (private, 0600); a folder that does not exist is an error."""
    import io

    from trayapp.store.files import atomic_write

    out = out.expanduser()
    text = io.StringIO(newline="")
    write_rows(text, header, rows)
    atomic_write(out, text.getvalue(), parents=False)
    return out
