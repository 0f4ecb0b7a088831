"""Storage of the remote channels' outbox: one SQLite file (``outbox.sqlite3`` in the state dir)
with one ``outbox`` table, a row per message and channel, keyed by channel and alert key.

The sending rules (retry after, backoff, the hourly cap, expiry) live with the channels in
:mod:`trayapp.channels.outbox`; this module only stores and answers. :class:`Outbox` is
thread-safe (one connection under a lock); callers on the GUI thread go through ``runtime.run_blocking``.
A message claimed by a process that died mid-send is handed back after 10 minutes, and finished
rows are deleted after a week.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from trayapp.core.clock import Clock, SystemClock

MIGRATIONS = [
    """
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        channel TEXT NOT NULL,
        alert_key TEXT NOT NULL,
        created_at TEXT NOT NULL,
        text TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT NOT NULL,
        claimed_at TEXT,
        sent_at TEXT,
        last_error TEXT NOT NULL DEFAULT '',
        UNIQUE (channel, alert_key)
    );
    CREATE INDEX outbox_due ON outbox (channel, state, next_attempt_at);
    CREATE INDEX outbox_sent ON outbox (channel, sent_at)
    """
]


def outbox_file() -> Path:
    from trayapp import paths

    return paths.state_dir() / "outbox.sqlite3"


@dataclass(frozen=True, slots=True)
class Item:
    id: int
    channel: str
    alert_key: str
    created_at: datetime
    text: str
    state: str
    attempts: int
    next_attempt_at: datetime
    last_error: str


def _iso(t: datetime) -> str:
    return t.isoformat()


def _row(r: sqlite3.Row) -> Item:
    return Item(
        id=r["id"],
        channel=r["channel"],
        alert_key=r["alert_key"],
        created_at=datetime.fromisoformat(r["created_at"]),
        text=r["text"],
        state=r["state"],
        attempts=r["attempts"],
        next_attempt_at=datetime.fromisoformat(r["next_attempt_at"]),
        last_error=r["last_error"],
    )


class Outbox:
    """The queue's storage. Thread-safe; callers on the GUI thread go through ``runtime.run_blocking``."""

    def __init__(self, path: Path | None = None, clock: Clock | None = None) -> None:
        from trayapp.store.db import open_database

        self.path = path or outbox_file()
        self.clock = clock or SystemClock()
        self._lock = threading.Lock()
        self._db = open_database(self.path, MIGRATIONS, check_same_thread=False)
        now = self.clock.now()
        with self._lock:
            # A claim older than 10 minutes belongs to a process that died mid-send.
            self._db.execute(
                "UPDATE outbox SET state='pending', claimed_at=NULL WHERE state='sending' AND claimed_at < ?",
                (_iso(now - timedelta(minutes=10)),),
            )
            self._db.execute(
                "DELETE FROM outbox WHERE state != 'pending' AND created_at < ?",
                (_iso(now - timedelta(days=7)),),
            )

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def enqueue(self, channel: str, alert_key: str, created_at: datetime, text: str) -> bool:
        """Queue a message; False when this alert was already queued or sent on this channel."""
        with self._lock:
            cur = self._db.execute(
                "INSERT OR IGNORE INTO outbox (channel, alert_key, created_at, text, next_attempt_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (channel, alert_key, _iso(created_at), text, _iso(created_at)),
            )
            return cur.rowcount == 1

    def get(self, channel: str, alert_key: str) -> Item | None:
        with self._lock:
            r = self._db.execute(
                "SELECT * FROM outbox WHERE channel=? AND alert_key=?", (channel, alert_key)
            ).fetchone()
        return _row(r) if r else None

    def due(self, channel: str, now: datetime) -> list[Item]:
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM outbox WHERE channel=? AND state='pending' AND next_attempt_at <= ? "
                "ORDER BY created_at, id",
                (channel, _iso(now)),
            ).fetchall()
        return [_row(r) for r in rows]

    def pending(self, channel: str | None = None) -> list[Item]:
        sql = "SELECT * FROM outbox WHERE state IN ('pending', 'sending')"
        args: tuple[str, ...] = ()
        if channel:
            sql += " AND channel=?"
            args = (channel,)
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY created_at, id", args).fetchall()
        return [_row(r) for r in rows]

    def claim(self, item_id: int, now: datetime) -> bool:
        """Mark as being sent; False when another worker or process got there first."""
        with self._lock:
            cur = self._db.execute(
                "UPDATE outbox SET state='sending', claimed_at=? WHERE id=? AND state='pending'",
                (_iso(now), item_id),
            )
            return cur.rowcount == 1

    def mark_sent(self, item_id: int, now: datetime) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE outbox SET state='sent', sent_at=?, attempts=attempts+1, last_error='' WHERE id=?",
                (_iso(now), item_id),
            )

    def mark_retry(self, item_id: int, next_at: datetime, error: str) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE outbox SET state='pending', claimed_at=NULL, attempts=attempts+1, "
                "next_attempt_at=?, last_error=? WHERE id=?",
                (_iso(next_at), error, item_id),
            )

    def release(self, item_id: int, next_at: datetime, why: str) -> None:
        """Back to pending without counting an attempt (cap reached, not configured)."""
        with self._lock:
            self._db.execute(
                "UPDATE outbox SET state='pending', claimed_at=NULL, next_attempt_at=?, last_error=? "
                "WHERE id=?",
                (_iso(next_at), why, item_id),
            )

    def mark_final(self, item_id: int, state: str, error: str) -> None:
        """``failed`` (permanent error) or ``expired`` (too old to matter)."""
        with self._lock:
            self._db.execute(
                "UPDATE outbox SET state=?, claimed_at=NULL, attempts=attempts+1, last_error=? WHERE id=?",
                (state, error, item_id),
            )

    def drop(self, channel: str, alert_key: str) -> None:
        with self._lock:
            self._db.execute(
                "DELETE FROM outbox WHERE channel=? AND alert_key=? AND state != 'sent'", (channel, alert_key)
            )

    def sent_since(self, channel: str, since: datetime) -> list[datetime]:
        with self._lock:
            rows = self._db.execute(
                "SELECT sent_at FROM outbox WHERE channel=? AND state='sent' AND sent_at > ? "
                "ORDER BY sent_at",
                (channel, _iso(since)),
            ).fetchall()
        return [datetime.fromisoformat(r[0]) for r in rows]
