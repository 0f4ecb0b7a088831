"""Accounts on disk: the accounts file (strict, atomic, last good kept) and the usage history
keyed by account (migration 2 of the main database, from a copy of a version-1 database)."""

from __future__ import annotations

import json
import shutil
import sqlite3
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from trayapp.core.accounts import AccountError
from trayapp.core.models import ErrorKind, FetchError, Source, UsageSnapshot, Window, WindowKind
from trayapp.store.accounts_repo import AccountsFileError, AccountsRepo
from trayapp.store.db import open_database
from trayapp.store.main_db import MIGRATIONS
from trayapp.store.usage_repo import UsageRepo

NOW = datetime(2026, 8, 10, 12, 0, tzinfo=UTC)


def repo_at(tmp_path: Path) -> AccountsRepo:
    return AccountsRepo(tmp_path / "config" / "accounts.json", default_dir=tmp_path / ".claude")


def test_add_list_rename_remove_round_trip(tmp_path: Path) -> None:
    repo = repo_at(tmp_path)
    assert [(a.label, a.key) for a in repo.load()] == [("default", "default")]
    work = repo.add("Work", tmp_path / "work")
    assert work.config_dir == (tmp_path / "work").absolute()
    assert stat.S_IMODE(repo.path.stat().st_mode) == 0o600
    repo.rename("default", "Personal")
    repo.rename("Work", "Job")
    loaded = repo.load()
    assert [(a.label, a.key) for a in loaded] == [("Personal", "default"), ("Job", "Work")]
    with pytest.raises(AccountError):
        repo.add("job", tmp_path / "other")  # labels are unique whatever the case
    with pytest.raises(AccountError):
        repo.add("Work", tmp_path / "other")  # Job's rows are filed under "Work"
    with pytest.raises(AccountError):
        repo.add("Again", tmp_path / "work")  # one account per folder
    with pytest.raises(AccountError):
        repo.remove("Personal")  # the default always stays
    repo.remove("job")
    assert [a.label for a in repo.load()] == ["Personal"]


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        '{"version": 2, "accounts": []}',
        '{"version": 1, "accounts": {}}',
        '{"version": 1, "accounts": [{"label": "W", "config_dir": "/w"}]}',
        '{"version": 1, "accounts": [{"label": "W\\u0007", "config_dir": "/w", "key": "W"}]}',
        '{"version": 1, "accounts": [{"label": "W", "config_dir": "/w", "key": "default"}]}',
        '{"version": 1, "accounts": [{"label": "A", "config_dir": "/w", "key": "A"},'
        ' {"label": "B", "config_dir": "/w", "key": "B"}]}',
    ],
)
def test_a_bad_file_is_refused_never_overwritten_and_the_last_good_list_is_used(
    tmp_path: Path, text: str
) -> None:
    repo = repo_at(tmp_path)
    repo.add("Work", tmp_path / "work")
    repo.path.write_text(text, "utf-8")
    with pytest.raises(AccountsFileError):
        repo.load()
    with pytest.raises(AccountsFileError):
        repo.add("Other", tmp_path / "other")  # a change never replaces a file it could not read
    assert repo.path.read_text("utf-8") == text
    assert [a.label for a in repo.load_or_last()] == ["default", "Work"]


def test_an_oversized_file_is_refused(tmp_path: Path) -> None:
    repo = repo_at(tmp_path)
    repo.path.parent.mkdir(parents=True)
    repo.path.write_text(json.dumps({"version": 1, "accounts": [], "pad": "x" * 70_000}), "utf-8")
    with pytest.raises(AccountsFileError):
        repo.load()
    assert [a.label for a in repo.load_or_last()] == ["default"]


# --- usage history keyed by account ------------------------------------------------------------


def snap(at: datetime, five: float) -> UsageSnapshot:
    window = Window(
        "five_hour", "5-hour", WindowKind.FIVE_HOUR, five, at + timedelta(hours=1), timedelta(hours=5)
    )
    return UsageSnapshot(at, Source.API, (window,))


def version_1_database(path: Path, readings: int) -> None:
    """A main database as the version before accounts wrote it (schema 1, its own SQL)."""
    conn = open_database(path, MIGRATIONS[:1])
    for i in range(readings):
        t = (NOW + timedelta(minutes=5 * i)).timestamp()
        cur = conn.execute(
            "INSERT INTO snapshots(fetched_at, source, client_version, extra_usage) VALUES (?,?,?,?)",
            (t, "api", None, None),
        )
        conn.execute(
            "INSERT INTO window_samples(snapshot_id, fetched_at, source, window_id, label, kind,"
            " utilization, resets_at, length_s) VALUES (?,?,?,?,?,?,?,?,?)",
            (cur.lastrowid, t, "api", "five_hour", "5-hour", "five_hour", float(i), t + 3600, 18000.0),
        )
        conn.execute("INSERT INTO poll_outcomes(at, ok) VALUES (?, 1)", (t,))
    conn.execute("INSERT INTO kv(key, value) VALUES ('usage.last_attempt', ?)", (NOW.isoformat(),))
    conn.close()


def test_migration_files_old_history_under_the_default_account_with_unchanged_totals(tmp_path: Path) -> None:
    original = tmp_path / "old.sqlite3"
    version_1_database(original, 12)
    copy = tmp_path / "claude-watch.sqlite3"
    shutil.copy(original, copy)
    repo = UsageRepo.open(copy)
    assert repo.conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert list(tmp_path.glob("claude-watch.sqlite3.v1.*.bak"))  # backed up before migrating
    rows = repo.history(["five_hour"], NOW - timedelta(days=1))
    assert len(rows) == 12
    assert sum(r[2] for r in rows) == sum(range(12))
    assert repo.latest_snapshot().windows[0].utilization == 11.0  # type: ignore[union-attr]
    assert repo.last_attempt() == NOW
    assert repo.last_outcome() is not None
    work = repo.for_account("Work")
    assert work.history(["five_hour"], NOW - timedelta(days=1)) == []
    assert work.latest_snapshot() is None
    assert work.last_outcome() is None
    assert work.last_attempt() is None
    old = sqlite3.connect(original)
    assert old.execute("SELECT count(*), sum(utilization) FROM window_samples").fetchone() == (12, 66.0)
    old.close()


def test_accounts_keep_their_own_history_outcomes_and_attempts(tmp_path: Path) -> None:
    repo = UsageRepo.open(tmp_path / "db.sqlite3")
    work = repo.for_account("Work")
    repo.save_snapshot(snap(NOW, 10))
    work.save_snapshot(snap(NOW, 70))  # the same moment: both kept
    work.save_snapshot(snap(NOW + timedelta(minutes=5), 75))
    assert [r[2] for r in repo.history(["five_hour"], NOW - timedelta(hours=1))] == [10.0]
    assert [r[2] for r in work.history(["five_hour"], NOW - timedelta(hours=1))] == [70.0, 75.0]
    assert repo.latest_snapshot().windows[0].utilization == 10.0  # type: ignore[union-attr]
    assert work.latest_snapshot().windows[0].utilization == 75.0  # type: ignore[union-attr]
    work.record_outcome(NOW, FetchError(ErrorKind.RATE_LIMITED, "slow", NOW + timedelta(minutes=3)), 429)
    repo.record_outcome(NOW, None, 200)
    assert repo.last_outcome().ok
    assert not work.last_outcome().ok
    work.set_last_attempt(NOW + timedelta(minutes=1))
    assert repo.last_attempt() is None
    assert work.last_attempt() == NOW + timedelta(minutes=1)
    assert len(repo.sample_rows(0, 2e10)) == 1
    assert len(work.sample_rows(0, 2e10)) == 2
