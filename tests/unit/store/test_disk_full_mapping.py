"""``store.errors``: every disguise of a full disk becomes one ``DiskFull``, and nothing else does.

The real full file system is in ``tests/integration/test_disk_full.py`` (it needs root to mount);
these check the mapping itself and the rollback that used to hide the cause."""

from __future__ import annotations

import errno
import pickle
import sqlite3
from pathlib import Path

import pytest

from trayapp.store.db import open_database, open_read_only, rollback
from trayapp.store.errors import DiskFull, WriteGuard, as_disk_full


def _sqlite_error(text: str, code: int) -> sqlite3.OperationalError:
    exc = sqlite3.OperationalError(text)
    exc.sqlite_errorcode = code  # type: ignore[attr-defined]
    return exc


def test_the_disguises_of_a_full_disk(tmp_path: Path) -> None:
    assert isinstance(as_disk_full(OSError(errno.ENOSPC, "No space left on device")), DiskFull)
    assert isinstance(as_disk_full(OSError(errno.EDQUOT, "Disk quota exceeded")), DiskFull)
    assert isinstance(as_disk_full(_sqlite_error("database or disk is full", 13)), DiskFull)
    assert isinstance(as_disk_full(sqlite3.OperationalError("database or disk is full")), DiskFull)
    full = as_disk_full(OSError(errno.ENOSPC, "x"), tmp_path / "a.db")
    assert isinstance(full, DiskFull)
    assert full.errno == errno.ENOSPC  # still an OSError for code that handles write failures
    assert "disk full" in str(full)
    assert str(tmp_path / "a.db") in str(full)


def test_what_is_not_a_full_disk(tmp_path: Path) -> None:
    assert as_disk_full(OSError(errno.EACCES, "Permission denied")) is None
    assert as_disk_full(sqlite3.OperationalError("database is locked")) is None
    assert as_disk_full(ValueError("no")) is None
    # An I/O error is a full disk only where the file system has no room: this one has.
    assert as_disk_full(_sqlite_error("disk I/O error", 4874), tmp_path / "a.db") is None
    assert as_disk_full(_sqlite_error("disk I/O error", 4874)) is None  # no path to check


def test_write_guard_raises_disk_full_from_the_cause() -> None:
    cause = _sqlite_error("database or disk is full", 13)
    with pytest.raises(DiskFull) as caught, WriteGuard("/x/y.db"):
        raise cause
    assert caught.value.__cause__ is cause
    with pytest.raises(KeyError), WriteGuard("/x/y.db"):
        raise KeyError("other errors pass unchanged")


def test_disk_full_crosses_a_process_boundary() -> None:
    again = pickle.loads(pickle.dumps(DiskFull("/data/ledger.sqlite3", "detail")))
    assert isinstance(again, DiskFull)
    assert again.path == "/data/ledger.sqlite3"


def test_rollback_after_sqlite_rolled_back_by_itself(tmp_path: Path) -> None:
    conn = open_database(tmp_path / "t.db", ["CREATE TABLE t (x)"])
    rollback(conn)  # no transaction: nothing to do, and no "cannot rollback" error
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO t VALUES (1)")
    rollback(conn)
    assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 0
    conn.close()


def test_read_only_open_serves_what_is_committed_and_refuses_half_made_files(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    conn = open_database(path, ["CREATE TABLE t (x)"])
    conn.execute("INSERT INTO t VALUES (7)")
    conn.close()
    ro = open_read_only(path)
    assert ro.execute("SELECT x FROM t").fetchone()[0] == 7
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        ro.execute("INSERT INTO t VALUES (8)")
    ro.close()
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")  # a first open that failed on a full disk
    with pytest.raises(DiskFull):
        open_read_only(empty)
    unmigrated = sqlite3.connect(tmp_path / "unmigrated.db")  # a migration that did not finish
    unmigrated.execute("CREATE TABLE half (x)")
    unmigrated.commit()
    unmigrated.close()
    for path in (tmp_path / "unmigrated.db", tmp_path / "missing.db"):
        with pytest.raises(DiskFull):
            open_read_only(path)
