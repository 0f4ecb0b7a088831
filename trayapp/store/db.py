"""SQLite connections with the house discipline: WAL, ``PRAGMA user_version`` migrations,
a backup before migrating, and refusal of a database written by a newer version.

Each database declares its migrations as an ordered list of SQL scripts; migration N (1-based)
brings ``user_version`` from N-1 to N. Call :func:`open_database` from a worker thread or a
service, never from widget code.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path


class DatabaseTooNew(RuntimeError):
    """The file was written by a newer Claude Watch; we refuse to touch it."""


def open_database(
    path: Path, migrations: Sequence[str], *, check_same_thread: bool = True
) -> sqlite3.Connection:
    """Open (creating if needed) and migrate ``path``; returns a connection in WAL mode."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    existed = path.exists() and path.stat().st_size > 0
    conn = sqlite3.connect(path, timeout=10, check_same_thread=check_same_thread, isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=10000")
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    target = len(migrations)
    if version > target:
        conn.close()
        raise DatabaseTooNew(
            f"{path} was written by a newer Claude Watch (schema {version}, this version knows {target}); "
            "update Claude Watch or move the file away"
        )
    if version < target and existed:
        backup_before_migration(conn, path, version)
    for number in range(version + 1, target + 1):
        script = migrations[number - 1]
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _split(script):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version={number}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            conn.close()
            raise
    return conn


def _split(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def backup_before_migration(conn: sqlite3.Connection, path: Path, version: int) -> Path:
    """Copy the live database to ``<name>.v<version>.<stamp>.bak`` using SQLite's backup API."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    dest = path.with_name(f"{path.name}.v{version}.{stamp}.bak")
    target = sqlite3.connect(dest)
    try:
        conn.backup(target)
    finally:
        target.close()
    return dest


def copy_file(src: Path, dest: Path) -> None:
    import shutil  # here, not at the top: it pulls in bz2/lzma/zlib, and every command opens a database

    shutil.copy2(src, dest)
