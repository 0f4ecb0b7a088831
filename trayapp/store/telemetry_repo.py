"""Claude Code's telemetry on disk: ``data/telemetry.sqlite3`` (the receiver's counters).

Tables (``store/db`` discipline: WAL, numbered migrations, a backup before migrating):

- ``cells``: counted growth per UTC hour, session, model and kind (a token type or ``cost``),
  kept for good (a few rows per session hour): the all-time totals and the daily report;
- ``request_cells``: ``api_request`` events per UTC hour, session and model;
- ``streams``: per (session, model, kind) the events' and the counters' running totals, and
  ``series``: per cumulative series (stream + start time) its last point: what keeps a restarted
  app from counting a token twice (``core/telemetry_fold``);
- ``api_requests``: the raw events, kept :data:`RAW_DAYS` days;
- ``meta``: when the last post was counted (``claude-watch telemetry --status`` reads it).

One :class:`TelemetryRepo` per process; its methods hold a lock, so the service may call them
from any worker lane (never the GUI thread).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from trayapp import paths
from trayapp.core.telemetry import ApiRequest
from trayapp.core.telemetry_fold import HOUR, KEEP_HOURS, Changes, TelemetryFold, hour_of
from trayapp.store.db import open_database

FILE_NAME = "telemetry.sqlite3"
RAW_DAYS = 30

MIGRATIONS = [
    """
    CREATE TABLE cells (
        hour INTEGER NOT NULL, session TEXT NOT NULL, model TEXT NOT NULL, kind TEXT NOT NULL,
        value REAL NOT NULL, PRIMARY KEY (hour, session, model, kind)
    ) WITHOUT ROWID;
    CREATE TABLE request_cells (
        hour INTEGER NOT NULL, session TEXT NOT NULL, model TEXT NOT NULL, count INTEGER NOT NULL,
        PRIMARY KEY (hour, session, model)
    ) WITHOUT ROWID;
    CREATE TABLE streams (
        session TEXT NOT NULL, model TEXT NOT NULL, kind TEXT NOT NULL,
        events REAL NOT NULL, metrics REAL NOT NULL, updated_hour INTEGER NOT NULL,
        PRIMARY KEY (session, model, kind)
    ) WITHOUT ROWID;
    CREATE TABLE series (
        session TEXT NOT NULL, model TEXT NOT NULL, kind TEXT NOT NULL, start_ns INTEGER NOT NULL,
        time_ns INTEGER NOT NULL, value REAL NOT NULL, PRIMARY KEY (session, model, kind, start_ns)
    ) WITHOUT ROWID;
    CREATE TABLE api_requests (
        at_ms INTEGER NOT NULL, session TEXT NOT NULL, model TEXT NOT NULL,
        input INTEGER NOT NULL, output INTEGER NOT NULL, cache_read INTEGER NOT NULL,
        cache_creation INTEGER NOT NULL, cost REAL NOT NULL, duration_ms REAL, prompt_id TEXT
    );
    CREATE INDEX api_requests_at ON api_requests (at_ms);
    CREATE INDEX api_requests_session ON api_requests (session, at_ms);
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)
    """,
]


def default_path() -> Path:
    return paths.data_dir() / FILE_NAME


class TelemetryRepo:
    """The telemetry database (see the module docstring)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._lock = threading.Lock()

    @classmethod
    def open(cls, path: Path | None = None) -> TelemetryRepo:
        return cls(open_database(path or default_path(), MIGRATIONS, check_same_thread=False))

    def close(self) -> None:
        with self._lock:
            self.conn.close()

    def load_into(self, fold: TelemetryFold, now: datetime) -> None:
        """Fill a new fold: all-time totals, recent cells, followed streams and series."""
        oldest = hour_of(now) - KEEP_HOURS
        cutoff_ns = oldest * HOUR * 10**9
        with self._lock:
            c = self.conn
            fold.load(
                totals=c.execute("SELECT model, kind, SUM(value) FROM cells GROUP BY model, kind").fetchall(),
                requests=c.execute("SELECT model, SUM(count) FROM request_cells GROUP BY model").fetchall(),
                cells=(
                    ((h, s, m, k), v)
                    for h, s, m, k, v in c.execute("SELECT * FROM cells WHERE hour >= ?", (oldest,))
                ),
                request_cells=(
                    ((h, s, m), n)
                    for h, s, m, n in c.execute("SELECT * FROM request_cells WHERE hour >= ?", (oldest,))
                ),
                streams=(
                    ((s, m, k), e, x)
                    for s, m, k, e, x in c.execute(
                        "SELECT session, model, kind, events, metrics FROM streams WHERE updated_hour >= ?",
                        (oldest,),
                    )
                ),
                series=(
                    ((s, m, k, start), t, v)
                    for s, m, k, start, t, v in c.execute(
                        "SELECT * FROM series WHERE time_ns >= ?", (cutoff_ns,)
                    )
                ),
                last_seen=(
                    (s, datetime.fromtimestamp(at / 1000, UTC), m)
                    for s, at, m in c.execute(
                        "SELECT session, MAX(at_ms), model FROM api_requests WHERE at_ms >= ? "
                        "GROUP BY session",
                        (oldest * HOUR * 1000,),
                    )
                ),
            )

            fold.last_received_at = self._last_received()

    def _last_received(self) -> datetime | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'last_received_at'").fetchone()
        try:
            return datetime.fromisoformat(row[0]) if row else None
        except ValueError:
            return None

    def last_received_at(self) -> datetime | None:
        """When the receiver last counted a post (None: never)."""
        with self._lock:
            return self._last_received()

    def save(self, changes: Changes, now: datetime) -> None:
        """Persist one ingest's changes in one transaction."""
        hour = hour_of(now)
        with self._lock:
            c = self.conn
            c.execute("BEGIN IMMEDIATE")
            try:
                c.executemany(
                    "INSERT INTO cells VALUES (?, ?, ?, ?, ?) ON CONFLICT (hour, session, model, kind) "
                    "DO UPDATE SET value = value + excluded.value",
                    ((*key, value) for key, value in changes.cells.items()),
                )
                c.executemany(
                    "INSERT INTO request_cells VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (hour, session, model) DO UPDATE SET count = count + excluded.count",
                    ((*key, n) for key, n in changes.requests.items()),
                )
                c.executemany(
                    "INSERT OR REPLACE INTO streams VALUES (?, ?, ?, ?, ?, ?)",
                    ((*key, e, m, hour) for key, (e, m) in changes.streams.items()),
                )
                c.executemany(
                    "INSERT OR REPLACE INTO series VALUES (?, ?, ?, ?, ?, ?)",
                    ((*key, t, v) for key, (t, v) in changes.series.items()),
                )
                c.executemany(
                    "INSERT INTO api_requests VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (_event_row(r) for r in changes.events),
                )
                c.execute("INSERT OR REPLACE INTO meta VALUES ('last_received_at', ?)", (now.isoformat(),))
                c.execute("COMMIT")
            except BaseException:
                c.execute("ROLLBACK")
                raise

    def prune(self, now: datetime) -> int:
        """Drop raw events older than RAW_DAYS and series/streams no longer followed."""
        oldest_hour = hour_of(now) - KEEP_HOURS
        with self._lock:
            c = self.conn
            cur = c.execute(
                "DELETE FROM api_requests WHERE at_ms < ?", (_ms(now - timedelta(days=RAW_DAYS)),)
            )
            c.execute("DELETE FROM series WHERE time_ns < ?", (oldest_hour * HOUR * 10**9,))
            c.execute("DELETE FROM streams WHERE updated_hour < ?", (oldest_hour,))
            return cur.rowcount

    def daily(self, tz: tzinfo | None, since: date | None, until: date | None) -> dict[str, dict[str, Any]]:
        """``{day: {model: {"inputTokens": ..., "costUSD": ..., "requests": ...}}}`` in ``tz``."""
        with self._lock:
            cells = self.conn.execute(
                "SELECT hour, model, kind, SUM(value) FROM cells GROUP BY hour, model, kind"
            )
            rows = cells.fetchall()
            requests = self.conn.execute(
                "SELECT hour, model, SUM(count) FROM request_cells GROUP BY hour, model"
            ).fetchall()
        names = {"input": "inputTokens", "output": "outputTokens", "cacheRead": "cacheReadTokens",
                 "cacheCreation": "cacheCreationTokens", "cost": "costUSD"}  # fmt: skip
        out: dict[str, dict[str, Any]] = {}

        def slot(hour: int, model: str) -> dict[str, Any] | None:  # the (day, model) entry
            day = datetime.fromtimestamp(hour * HOUR, tz or UTC) if tz is not None else _local(hour)
            if (since and day.date() < since) or (until and day.date() > until):
                return None
            models = out.setdefault(day.date().isoformat(), {})
            entry: dict[str, Any] = models.setdefault(
                model, {**dict.fromkeys(names.values(), 0), "requests": 0}
            )
            return entry

        for hour, model, kind, value in rows:
            entry = slot(hour, model)
            if entry is not None and kind in names:
                entry[names[kind]] += value
        for hour, model, count in requests:
            entry = slot(hour, model)
            if entry is not None:
                entry["requests"] += count
        return dict(sorted(out.items()))

    def last_event_at(self) -> datetime | None:
        with self._lock:
            row = self.conn.execute("SELECT MAX(at_ms) FROM api_requests").fetchone()
        return datetime.fromtimestamp(row[0] / 1000, UTC) if row and row[0] is not None else None

    def counts(self) -> dict[str, int]:
        with self._lock:
            c = self.conn
            return {
                table: int(c.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])  # fixed table names
                for table in ("cells", "request_cells", "streams", "series", "api_requests")
            }


def _local(hour: int) -> datetime:
    return datetime.fromtimestamp(hour * HOUR).astimezone()


def _ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def _event_row(r: ApiRequest) -> tuple[Any, ...]:
    return (_ms(r.at), r.session_id, r.model, r.input_tokens, r.output_tokens, r.cache_read_tokens,
            r.cache_creation_tokens, r.cost_usd, r.duration_ms, r.prompt_id)  # fmt: skip


def iter_events(repo: TelemetryRepo, session: str) -> Iterable[ApiRequest]:
    """A session's stored events, oldest first (tests, support)."""
    with repo._lock:
        rows = repo.conn.execute(
            "SELECT * FROM api_requests WHERE session = ? ORDER BY at_ms", (session,)
        ).fetchall()
    for at, s, m, i, o, cr, cc, cost, dur, prompt in rows:
        yield ApiRequest(datetime.fromtimestamp(at / 1000, UTC), s, m, i, o, cr, cc, cost, dur, prompt)
