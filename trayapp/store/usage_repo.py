"""Repository for the usage engine's tables in the main database.

Only services write here (the engine); the UI reads through the service. Every successful poll
stores one ``snapshots`` row and one ``window_samples`` row per window; every attempt stores a
``poll_outcomes`` row; 429 cooldowns (keyed by the token's SHA-256) and small state (last
attempt, last prune) survive restarts. :meth:`UsageRepo.history` serves the timeline from the
``(window_id, fetched_at)`` primary key, so 90 days of 5-minute samples is one index range scan.

One connection, shared across threads under a lock (SQLite calls here take microseconds to a
few milliseconds; the timeline's :meth:`history` should still be called off the GUI thread).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from trayapp.core.accounts import DEFAULT_KEY
from trayapp.core.models import EARLIEST_RESET, LATEST_RESET, ErrorKind, FetchError, Source, UsageSnapshot
from trayapp.store.db import database_file, open_in_memory, open_read_only, rollback
from trayapp.store.errors import DiskFull, WriteGuard
from trayapp.store.main_db import MIGRATIONS, open_main
from trayapp.store.usage_rows import (
    MAX_UTILIZATION,
    HistoryRow,
    dt_or_none,
    extra_from,
    history_row,
    window_from_row,
)

log = logging.getLogger(__name__)

PRUNE_EVERY = timedelta(days=1)
__all__ = ["MAX_UTILIZATION", "HistoryRow", "PollOutcome", "UsageRepo"]


def _ts(when: datetime) -> float:
    return when.timestamp()


def _dt(value: float | None) -> datetime | None:
    return None if value is None else dt_or_none(value)


@dataclass(frozen=True, slots=True)
class PollOutcome:
    at: datetime
    ok: bool
    error: FetchError | None
    http_status: int | None


class _Handle:
    """The connection, its lock and its mode, shared by every account's view of one database."""

    __slots__ = ("conn", "lock", "path", "read_only")

    def __init__(self, conn: sqlite3.Connection, read_only: bool) -> None:
        self.conn = conn
        self.path = database_file(conn)
        self.read_only = read_only
        self.lock = threading.Lock()


class UsageRepo:
    """The usage tables, as seen by one account (``account``: the key its rows are filed under;
    :meth:`for_account` gives another account's view of the same connection). ``read_only``:
    opened on a full disk (:meth:`open`); reads work, every write raises
    :class:`~trayapp.store.errors.DiskFull` until :meth:`reopen_writable` succeeds. Any write that
    meets a full disk raises ``DiskFull`` too, and leaves what is committed intact. Cooldowns are
    keyed by token and pruning is global: both are shared by every account."""

    def __init__(
        self, conn: sqlite3.Connection, *, read_only: bool = False, account: str = DEFAULT_KEY
    ) -> None:
        self._h = _Handle(conn, read_only)
        self.account = account

    def for_account(self, key: str) -> UsageRepo:
        """The same database filed under account ``key`` (shares the connection and its lock)."""
        view = UsageRepo.__new__(UsageRepo)
        view._h, view.account = self._h, key
        return view

    @property
    def conn(self) -> sqlite3.Connection:
        return self._h.conn

    @property
    def _lock(self) -> threading.Lock:
        return self._h.lock

    @property
    def path(self) -> Path | None:
        return self._h.path

    @path.setter
    def path(self, value: Path | None) -> None:
        self._h.path = value

    @property
    def read_only(self) -> bool:
        return self._h.read_only

    @classmethod
    def open(cls, path: Path | None = None, *, read_only_when_full: bool = True) -> UsageRepo:
        """Open (create, migrate) the main database; on a disk too full for that, the committed
        data read-only, or an empty history in memory when there is no file yet (with
        ``read_only_when_full`` False, ``DiskFull`` is raised instead)."""
        from trayapp import paths

        target = path or paths.database_file()
        try:
            return cls(open_main(target, check_same_thread=False))
        except DiskFull:
            if not read_only_when_full:
                raise
        try:
            conn = open_read_only(target)
        except DiskFull:  # not even a file to read: an empty history, until there is room
            conn = open_in_memory(MIGRATIONS)
        repo = cls(conn, read_only=True)
        repo.path = target
        return repo

    def reopen_writable(self) -> bool:
        """Try to open the database for writing again (the disk may have room now); True when
        writes can go through."""
        if not self.read_only:
            return True
        if self.path is None:
            return False
        try:
            conn = open_main(self.path, check_same_thread=False)
        except DiskFull:
            return False
        with self._lock:
            self._h.conn.close()
            self._h.conn, self._h.read_only = conn, False
        return True

    def close(self) -> None:
        with self._lock:
            self.conn.close()

    def _guard(self) -> WriteGuard:
        if self.read_only:
            raise DiskFull(self.path, "the database is open read-only")
        return WriteGuard(self.path)

    def _write(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        with self._guard(), self._lock:
            return self.conn.execute(sql, params)

    # --- snapshots -----------------------------------------------------------------------------

    def save_snapshot(self, snap: UsageSnapshot) -> int:
        return self.save_snapshots((snap,))[0]

    def save_snapshots(self, snaps: Sequence[UsageSnapshot]) -> list[int]:
        """Store readings in one transaction (a poll's one, or the demo's seeded week); their ids."""
        with self._guard(), self._lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                ids = [self._insert_snapshot(snap) for snap in snaps]
                self.conn.execute("COMMIT")
            except BaseException:
                rollback(self.conn)
                raise
        return ids

    def _insert_snapshot(self, snap: UsageSnapshot) -> int:
        extra = None
        if snap.extra_usage is not None:
            e = snap.extra_usage
            extra = json.dumps(
                {
                    "is_enabled": e.is_enabled,
                    "monthly_limit_minor": e.monthly_limit_minor,
                    "used_minor": e.used_minor,
                    "utilization": e.utilization,
                    "currency": e.currency,
                    "decimal_places": e.decimal_places,
                }
            )
        t = _ts(snap.fetched_at)
        cur = self.conn.execute(
            "INSERT INTO snapshots(fetched_at, source, client_version, extra_usage, account)"
            " VALUES (?,?,?,?,?)",
            (t, str(snap.source), snap.client_version, extra, self.account),
        )
        snap_id = int(cur.lastrowid or 0)
        self.conn.executemany(
            "INSERT OR REPLACE INTO window_samples(snapshot_id, fetched_at, source, window_id, label,"
            " kind, utilization, resets_at, length_s, account) VALUES (?,?,?,?,?,?,?,?,?,?)",
            [
                (
                    snap_id,
                    t,
                    str(snap.source),
                    w.id,
                    w.label,
                    str(w.kind),
                    w.utilization,
                    _ts(w.resets_at) if w.resets_at else None,
                    w.length.total_seconds(),
                    self.account,
                )
                for w in snap.windows
            ],
        )
        return snap_id

    def latest_snapshot(self, sources: Iterable[Source] | None = None) -> UsageSnapshot | None:
        """The newest stored snapshot (optionally only from ``sources``), rebuilt in full."""
        sql = "SELECT id, fetched_at, source, client_version, extra_usage FROM snapshots WHERE account = ?"
        params: list[Any] = [self.account]
        if sources is not None:
            wanted = [str(s) for s in sources]
            sql += f" AND source IN ({','.join('?' * len(wanted))})"
            params += wanted
        sql += " ORDER BY fetched_at DESC, id DESC LIMIT 1"
        with self._lock:
            row = self.conn.execute(sql, params).fetchone()
            if row is None:
                return None
            rows = self.conn.execute(
                "SELECT window_id, label, kind, utilization, resets_at, length_s FROM window_samples"
                " WHERE snapshot_id = ?",
                (row["id"],),
            ).fetchall()
        fetched_at = dt_or_none(row["fetched_at"])
        if fetched_at is None:
            log.warning("stored reading %s has an unreadable time; ignored", row["id"])
            return None
        windows = []
        for r in rows:
            window = window_from_row(r)
            if window is None:
                # Written by an older version that stored whatever the server said: skip the row
                # (doctor counts these) instead of failing every start.
                log.warning("stored reading %s: window %r is implausible; skipped", row["id"], r["window_id"])
                continue
            windows.append(window)
        order = {"five_hour": 0, "seven_day": 1}
        windows.sort(key=lambda w: (order.get(w.id, 2), w.id))
        try:
            source = Source(row["source"])
        except ValueError:
            source = Source.API
        return UsageSnapshot(
            fetched_at=fetched_at,
            source=source,
            windows=tuple(windows),
            extra_usage=extra_from(row["extra_usage"]),
            client_version=row["client_version"],
        )

    def history(
        self, window_ids: Sequence[str], since: datetime, until: datetime | None = None
    ) -> list[HistoryRow]:
        """``(time, window_id, utilization, resets_at)`` rows for the timeline, oldest first."""
        if not window_ids:
            return []
        hi = _ts(until) if until else float("inf")
        out: list[HistoryRow] = []
        with self._lock:
            for wid in window_ids:
                rows = self.conn.execute(
                    "SELECT fetched_at, utilization, resets_at FROM window_samples"
                    " WHERE account = ? AND window_id = ? AND fetched_at >= ? AND fetched_at <= ?"
                    " ORDER BY fetched_at",
                    (self.account, wid, _ts(since), hi),
                ).fetchall()
                for r in rows:
                    item = history_row(wid, r)
                    if item is not None:
                        out.append(item)
        if len(window_ids) > 1:
            out.sort(key=lambda row: row[0])
        return out

    def implausible_samples(self) -> int:
        """How many stored window rows a derive has to skip (absurd reset or utilization)."""
        with self._lock:
            rows = self.conn.execute(
                "SELECT count(*) FROM window_samples"
                " WHERE resets_at IS NOT NULL AND NOT (resets_at >= ? AND resets_at < ?)"
                " OR utilization IS NULL OR NOT (utilization BETWEEN 0 AND ?)"
                " OR typeof(utilization) NOT IN ('real', 'integer')",
                (EARLIEST_RESET.timestamp(), LATEST_RESET.timestamp(), MAX_UTILIZATION),
            ).fetchone()
        return int(rows[0])

    def samples(self, window_id: str, since: datetime) -> list[tuple[datetime, float, datetime | None]]:
        """``(time, utilization, resets_at)`` for one window since ``since`` (burn-rate input)."""
        return [(t, u, r) for t, _, u, r in self.history([window_id], since)]

    def sample_rows(self, since: float, until: float) -> list[tuple[Any, ...]]:
        """Every window sample with ``since <= fetched_at < until`` (epoch seconds) as stored, oldest
        first: ``(fetched_at, source, window_id, label, kind, utilization, resets_at)`` (CSV export)."""
        with self._lock:
            rows = self.conn.execute(
                "SELECT fetched_at, source, window_id, label, kind, utilization, resets_at"
                " FROM window_samples WHERE account = ? AND fetched_at >= ? AND fetched_at < ?"
                " ORDER BY fetched_at, window_id",
                (self.account, since, until),
            ).fetchall()
        return [tuple(r) for r in rows]

    # --- poll outcomes, cooldowns, state --------------------------------------------------------

    def record_outcome(self, at: datetime, error: FetchError | None, http_status: int | None = None) -> None:
        self._write(
            "INSERT INTO poll_outcomes(at, ok, error_kind, http_status, message, retry_at, account)"
            " VALUES (?,?,?,?,?,?,?)",
            (
                _ts(at),
                0 if error else 1,
                str(error.kind) if error else None,
                http_status,
                error.message if error else None,
                _ts(error.retry_at) if error and error.retry_at else None,
                self.account,
            ),
        )

    def last_outcome(self) -> PollOutcome | None:
        with self._lock:
            row = self.conn.execute(
                "SELECT at, ok, error_kind, http_status, message, retry_at FROM poll_outcomes"
                " WHERE account = ? ORDER BY at DESC, id DESC LIMIT 1",
                (self.account,),
            ).fetchone()
        if row is None:
            return None
        error = None
        if not row["ok"]:
            try:
                kind = ErrorKind(row["error_kind"])
            except ValueError:
                kind = ErrorKind.SERVER
            error = FetchError(kind, row["message"] or "", _dt(row["retry_at"]))
        return PollOutcome(_dt(row["at"]) or datetime.now(UTC), bool(row["ok"]), error, row["http_status"])

    def set_cooldown(self, token_key: str, until: datetime) -> None:
        self._write(
            "INSERT INTO cooldowns(token_key, until) VALUES (?, ?)"
            " ON CONFLICT(token_key) DO UPDATE SET until = max(until, excluded.until)",
            (token_key, _ts(until)),
        )

    def cooldowns(self, now: datetime) -> dict[str, datetime]:
        with self._lock:
            rows = self.conn.execute(
                "SELECT token_key, until FROM cooldowns WHERE until > ?", (_ts(now),)
            ).fetchall()
        # A cooldown is at most a day long (usage_api.MAX_RETRY_AFTER); a longer or unreadable one
        # is corrupt and would silence polling for good, so it is capped.
        latest = now + timedelta(days=1)
        out: dict[str, datetime] = {}
        for key, until in rows:
            when = dt_or_none(until)
            out[str(key)] = latest if when is None or when > latest else when
        return out

    def kv_get(self, key: str) -> str | None:
        with self._lock:
            row = self.conn.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def kv_set(self, key: str, value: str) -> None:
        self._write(
            "INSERT INTO kv(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    @property
    def _attempt_key(self) -> str:
        # The default account keeps the key it had before accounts existed.
        return "usage.last_attempt" if self.account == DEFAULT_KEY else f"usage.last_attempt.{self.account}"

    def last_attempt(self) -> datetime | None:
        raw = self.kv_get(self._attempt_key)
        try:
            return datetime.fromisoformat(raw) if raw else None
        except ValueError:
            return None

    def set_last_attempt(self, when: datetime) -> None:
        self.kv_set(self._attempt_key, when.isoformat())

    # --- retention -----------------------------------------------------------------------------

    def prune(self, now: datetime, retention_days: int) -> int:
        """Delete samples, snapshots and outcomes older than the retention; returns rows removed."""
        cutoff = _ts(now - timedelta(days=retention_days))
        with self._guard(), self._lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                n = self.conn.execute("DELETE FROM window_samples WHERE fetched_at < ?", (cutoff,)).rowcount
                n += self.conn.execute("DELETE FROM snapshots WHERE fetched_at < ?", (cutoff,)).rowcount
                n += self.conn.execute("DELETE FROM poll_outcomes WHERE at < ?", (cutoff,)).rowcount
                self.conn.execute("DELETE FROM cooldowns WHERE until < ?", (_ts(now),))
                self.conn.execute("COMMIT")
            except BaseException:
                rollback(self.conn)
                raise
        return n

    def maybe_prune(self, now: datetime, retention_days: int) -> int | None:
        """Prune at most once a day; returns rows removed, or None when not due."""
        raw = self.kv_get("usage.last_prune")
        try:
            last = datetime.fromisoformat(raw) if raw else None
        except ValueError:
            last = None
        if last is not None and timedelta(0) <= now - last < PRUNE_EVERY:
            return None
        removed = self.prune(now, retention_days)
        self.kv_set("usage.last_prune", now.isoformat())
        return removed
