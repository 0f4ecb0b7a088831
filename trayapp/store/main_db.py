"""The main database (``paths.database_file()``): its numbered migrations and one opener.

Migration N brings ``PRAGMA user_version`` from N-1 to N (see :mod:`trayapp.store.db`). Never
edit a released migration; append a new one. Times are stored as UTC epoch seconds (REAL) so
range queries stay on plain indexes.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from trayapp import paths
from trayapp.store.db import open_database

MIGRATIONS: list[str] = [
    # 1: usage engine (snapshots, samples per window, poll outcomes, cooldowns, key-value state)
    """
    CREATE TABLE snapshots (
        id INTEGER PRIMARY KEY,
        fetched_at REAL NOT NULL,
        source TEXT NOT NULL,
        client_version TEXT,
        extra_usage TEXT
    );
    CREATE INDEX snapshots_fetched_at ON snapshots(fetched_at);
    CREATE TABLE window_samples (
        snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
        fetched_at REAL NOT NULL,
        source TEXT NOT NULL,
        window_id TEXT NOT NULL,
        label TEXT NOT NULL,
        kind TEXT NOT NULL,
        utilization REAL NOT NULL,
        resets_at REAL,
        length_s REAL NOT NULL,
        PRIMARY KEY (window_id, fetched_at, snapshot_id)
    ) WITHOUT ROWID;
    CREATE INDEX window_samples_snapshot ON window_samples(snapshot_id);
    CREATE TABLE poll_outcomes (
        id INTEGER PRIMARY KEY,
        at REAL NOT NULL,
        ok INTEGER NOT NULL,
        error_kind TEXT,
        http_status INTEGER,
        message TEXT,
        retry_at REAL
    );
    CREATE INDEX poll_outcomes_at ON poll_outcomes(at);
    CREATE TABLE cooldowns (
        token_key TEXT PRIMARY KEY,
        until REAL NOT NULL
    );
    CREATE TABLE kv (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    )
    """,
    # 2: several accounts (issue 16): every reading and outcome is filed under an account key;
    # rows recorded before accounts existed belong to the default account.
    """
    ALTER TABLE snapshots ADD COLUMN account TEXT NOT NULL DEFAULT 'default';
    ALTER TABLE window_samples ADD COLUMN account TEXT NOT NULL DEFAULT 'default';
    ALTER TABLE poll_outcomes ADD COLUMN account TEXT NOT NULL DEFAULT 'default';
    -- No new index on window_samples: the timeline's range scan on (window_id, fetched_at) stays
    -- the cheapest plan (another account's rows in the range are filtered, a few per poll), and
    -- every poll's writes stay as cheap as before.
    CREATE INDEX snapshots_account ON snapshots(account, fetched_at);
    CREATE INDEX poll_outcomes_account ON poll_outcomes(account, at)
    """,
]


def open_main(path: Path | None = None, *, check_same_thread: bool = False) -> sqlite3.Connection:
    """Open (create, migrate) the main database. Blocking: not on the GUI thread at start-up."""
    return open_database(path or paths.database_file(), MIGRATIONS, check_same_thread=check_same_thread)
