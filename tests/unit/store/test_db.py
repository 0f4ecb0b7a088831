import sqlite3
from pathlib import Path

import pytest

from trayapp.store.db import DatabaseTooNew, open_database

M1 = "CREATE TABLE a (x INTEGER)"
M2 = "CREATE TABLE b (y TEXT); INSERT INTO b VALUES ('hi')"


def test_migrates_in_order_with_backup(tmp_path: Path) -> None:
    db = tmp_path / "t.sqlite3"
    conn = open_database(db, [M1])
    conn.execute("INSERT INTO a VALUES (1)")
    conn.close()
    conn = open_database(db, [M1, M2])
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("SELECT y FROM b").fetchone()[0] == "hi"
    conn.close()
    backups = list(tmp_path.glob("t.sqlite3.v1.*.bak"))
    assert len(backups) == 1
    assert sqlite3.connect(backups[0]).execute("SELECT x FROM a").fetchone()[0] == 1


def test_refuses_newer(tmp_path: Path) -> None:
    db = tmp_path / "t.sqlite3"
    open_database(db, [M1, M2]).close()
    with pytest.raises(DatabaseTooNew):
        open_database(db, [M1])


def test_failed_migration_rolls_back(tmp_path: Path) -> None:
    db = tmp_path / "t.sqlite3"
    with pytest.raises(sqlite3.OperationalError):
        open_database(db, [M1, "CREATE TABLE c (z); THIS IS NOT SQL"])
    conn = open_database(db, [M1])
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    assert conn.execute("SELECT name FROM sqlite_master WHERE name='c'").fetchone() is None
