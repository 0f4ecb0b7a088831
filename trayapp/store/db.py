"""SQLite connections with the house discipline: WAL, ``PRAGMA user_version`` migrations,
a backup before migrating, and refusal of a database written by a newer version.

Each database declares its migrations as an ordered list of SQL scripts; migration N (1-based)
brings ``user_version`` from N-1 to N. Call :func:`open_database` from a worker thread or a
service, never from widget code.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from trayapp.store.errors import DiskFull, WriteGuard


class DatabaseTooNew(RuntimeError):
    """The file was written by a newer Claude Watch; we refuse to touch it."""


def open_database(
    path: Path, migrations: Sequence[str], *, check_same_thread: bool = True
) -> sqlite3.Connection:
    """Open (creating if needed) and migrate ``path``; returns a connection in WAL mode.

    Raises :class:`~trayapp.store.errors.DiskFull` when the disk is too full to open it for
    writing (SQLite must size the ``-shm`` file): :func:`open_read_only` still reads it then."""
    with WriteGuard(path):
        return _open(path, migrations, check_same_thread)


def _open(path: Path, migrations: Sequence[str], check_same_thread: bool) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    existed = path.exists() and path.stat().st_size > 0
    conn = sqlite3.connect(path, timeout=10, check_same_thread=check_same_thread, isolation_level=None)
    try:
        return _prepare(conn, path, migrations, existed)
    except BaseException:
        conn.close()
        raise


def _prepare(
    conn: sqlite3.Connection, path: Path, migrations: Sequence[str], existed: bool
) -> sqlite3.Connection:
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout=10000")  # first: two processes may open a new file together
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    target = len(migrations)
    if version > target:
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
            if int(conn.execute("PRAGMA user_version").fetchone()[0]) >= number:
                # Another process migrated while we waited for the write lock ("table files already
                # exists" when two first commands started together): nothing left to do here.
                conn.execute("COMMIT")
                continue
            for statement in _split(script):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version={number}")
            conn.execute("COMMIT")
        except BaseException:
            rollback(conn)
            raise
    return conn


def rollback(conn: sqlite3.Connection) -> None:
    """Roll back the open transaction, if SQLite has not already done so: after SQLITE_FULL it
    rolls back by itself, and a second ROLLBACK ("cannot rollback - no transaction is active")
    would replace the real error."""
    if conn.in_transaction:
        conn.execute("ROLLBACK")


def open_in_memory(migrations: Sequence[str]) -> sqlite3.Connection:
    """An empty, migrated database in memory: what a service reads when the disk is too full
    to create its file (it shows no history instead of failing to start)."""
    conn = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
    return _prepare(conn, Path(":memory:"), migrations, existed=False)


def open_read_only(path: Path, *, check_same_thread: bool = False) -> sqlite3.Connection:
    """Open ``path`` for reading only, for when the disk is full: the committed data, no writes.

    ``mode=ro`` first (it shares the WAL with a running writer); when SQLite cannot even map the
    ``-shm`` file, ``immutable=1``, which reads the main file alone (what the last checkpoint
    wrote; a clean close checkpoints everything). Raises :class:`DiskFull` when neither opens
    (no database there yet)."""
    if not path.is_file() or path.stat().st_size == 0:  # a failed first open leaves an empty file
        raise DiskFull(path, "no database to read")
    for query in ("mode=ro", "mode=ro&immutable=1"):
        conn = sqlite3.connect(
            f"{path.resolve().as_uri()}?{query}",
            uri=True,
            timeout=10,
            check_same_thread=check_same_thread,
            isolation_level=None,
        )
        try:
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        except sqlite3.Error:
            conn.close()
            continue
        if version == 0:  # a first open that failed midway: no tables to read
            conn.close()
            break
        conn.row_factory = sqlite3.Row
        return conn
    raise DiskFull(path, "no database to read")


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


def database_file(conn: sqlite3.Connection) -> Path | None:
    """The file behind ``conn``'s main database; None for an in-memory one."""
    for row in conn.execute("PRAGMA database_list"):
        if row[1] == "main" and row[2]:
            return Path(row[2])
    return None


class ProcessLock:
    """An exclusive lock on ``path`` shared by every process of this user (``flock`` on POSIX,
    ``msvcrt.locking`` on Windows), waited for without limit while ``on_wait`` is told once.

    Used where a check and the write that follows must not interleave across processes: a cold
    load of the ledger by two first commands at once (one of them crashed with "a cold load needs
    an empty ledger"). Released when the context ends or the process dies."""

    def __init__(self, path: Path, on_wait: Callable[[], object] | None = None) -> None:
        self.path = path
        self.on_wait = on_wait
        self._fd: int | None = None

    def __enter__(self) -> ProcessLock:
        import os
        import time

        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        told = False
        while not _try_lock(fd):
            if not told and self.on_wait is not None:
                self.on_wait()
                told = True
            time.sleep(0.05)
        self._fd = fd
        return self

    def __exit__(self, *exc: object) -> None:
        import os

        if self._fd is not None:
            _unlock(self._fd)
            os.close(self._fd)
            self._fd = None


def _try_lock(fd: int) -> bool:
    if sys.platform == "win32":
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _unlock(fd: int) -> None:
    if sys.platform == "win32":
        import msvcrt

        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_UN)
