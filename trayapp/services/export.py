"""Usage as CSV: ``daily`` and ``sessions`` from the local token ledger (through a
:class:`~trayapp.services.ledger_service.Tracker`), ``snapshots`` (the plan-usage windows the app
has polled) from the main database through :class:`~trayapp.store.usage_repo.UsageRepo`.

Files are RFC 4180 CSV (``csv`` module, CRLF line ends), UTF-8, with a header row, written
atomically and privately (``store.files.atomic_write``), so a failed export never leaves half a
file. Everything here blocks: the dashboard's export button runs :func:`export_csv` on the
tracking service's worker thread; ``claude-watch export csv`` (:mod:`trayapp.cli.export`) is the
command-line face.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from datetime import date
    from pathlib import Path
    from typing import Any, TextIO

    from trayapp.core.aggregate import Tally
    from trayapp.services.ledger_service import Tracker

WHAT = ("daily", "sessions", "snapshots")


class ExportError(RuntimeError):
    """Nothing to export, with the reason."""


def export_csv(
    what: str, out: Path, tracker: Tracker | None = None, since: date | None = None, until: date | None = None
) -> int:
    """Write ``what`` to ``out``; returns the number of data rows."""
    header, rows = table_rows(what, tracker, since, until)
    write_csv(out, header, rows)
    return len(rows)


def table_rows(
    what: str, tracker: Tracker | None, since: date | None, until: date | None
) -> tuple[list[str], list[list[Any]]]:
    """The header and the data rows of one export (``tracker`` is needed for daily and sessions)."""
    if what == "snapshots":
        return _snapshot_rows(since, until)
    if what not in WHAT:
        raise ExportError(f"unknown export {what!r}; choose one of {', '.join(WHAT)}")
    if tracker is None:
        raise ExportError(f"the {what} export reads the token ledger: a tracker is needed")
    if what == "daily":
        report = tracker.daily(since, until, stats_cache=False)
        header = ["date", "input_tokens", "output_tokens", "cache_creation_tokens", "cache_read_tokens",
                  "total_tokens", "cost_usd", "models", "unpriced_models"]  # fmt: skip
        return header, [[day, *_tokens(t), ";".join(sorted(t.models)), ";".join(sorted(t.unpriced))]
                        for day, t in report.rows.items()]  # fmt: skip
    from trayapp.core.aggregate import iso_ms

    report = tracker.sessions(since, until)
    projects = report.extra.get("projects", {})
    header = ["session_id", "project_path", "first_activity", "last_activity", "input_tokens",
              "output_tokens", "cache_creation_tokens", "cache_read_tokens", "total_tokens", "cost_usd",
              "models", "unpriced_models"]  # fmt: skip
    return header, [[s, projects.get(s, ""), iso_ms(t.first_ts), iso_ms(t.last_ts), *_tokens(t),
                     ";".join(sorted(t.models)), ";".join(sorted(t.unpriced))]
                    for s, t in report.rows.items()]  # fmt: skip


def _tokens(t: Tally) -> list[Any]:
    return [t.input, t.output, t.cache_creation, t.cache_read, t.total, f"{t.cost:.6f}"]


def _snapshot_rows(since: date | None, until: date | None) -> tuple[list[str], list[list[Any]]]:
    """Window samples stored by the usage engine (main database, read through UsageRepo)."""
    import sqlite3
    from datetime import UTC, datetime, time, timedelta

    from trayapp import paths
    from trayapp.store.db import DatabaseTooNew
    from trayapp.store.usage_repo import UsageRepo

    db = paths.database_file()
    if not db.exists():
        raise ExportError(f"no usage snapshots yet ({db} does not exist); run the app to poll usage first")
    header = ["fetched_at", "source", "window_id", "label", "kind", "utilization_percent", "resets_at"]
    lo = datetime.combine(since, time.min, UTC).timestamp() if since else float("-inf")
    hi = datetime.combine(until + timedelta(days=1), time.min, UTC).timestamp() if until else float("inf")
    try:
        repo = UsageRepo.open(db)
    except (sqlite3.Error, DatabaseTooNew) as exc:
        raise ExportError(f"cannot read usage snapshots from {db}: {exc}") from None
    try:
        rows = repo.sample_rows(lo, hi)
    except sqlite3.Error as exc:
        raise ExportError(f"cannot read usage snapshots from {db}: {exc}") from None
    finally:
        repo.close()

    def iso(ts: float | None) -> str:
        if ts is None:
            return ""
        return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")

    return header, [[iso(r[0]), r[1], r[2], r[3], r[4], r[5], iso(r[6])] for r in rows]


def write_rows(stream: TextIO, header: list[str], rows: list[list[Any]]) -> None:
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
