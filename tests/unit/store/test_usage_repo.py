"""The usage repository on a real SQLite file: snapshots, history, outcomes, cooldowns, pruning."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from trayapp import paths
from trayapp.core.models import ErrorKind, ExtraUsage, FetchError, Source, UsageSnapshot, Window, WindowKind
from trayapp.store.main_db import MIGRATIONS
from trayapp.store.usage_repo import UsageRepo

NOW = datetime(2026, 8, 10, 12, 0, tzinfo=UTC)


def snap(at: datetime, five: float, week: float = 10.0, source: Source = Source.API) -> UsageSnapshot:
    return UsageSnapshot(
        at,
        source,
        (
            Window(
                "five_hour", "5-hour", WindowKind.FIVE_HOUR, five, at + timedelta(hours=1), timedelta(hours=5)
            ),
            Window("seven_day", "Weekly", WindowKind.WEEKLY, week, None, timedelta(days=7)),
        ),
        ExtraUsage(True, 5000, 1234.0, 24.68, "AUD", 2),
    )


def test_opens_main_database_with_migrations() -> None:
    repo = UsageRepo.open()
    assert paths.database_file().exists()
    assert repo.conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert repo.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    repo.close()


def test_snapshot_round_trip_and_latest(tmp_path: Path) -> None:
    repo = UsageRepo.open(tmp_path / "db.sqlite3")
    assert repo.latest_snapshot() is None
    repo.save_snapshot(snap(NOW - timedelta(minutes=5), 10))
    last = snap(NOW, 12.5)
    repo.save_snapshot(last)
    repo.save_snapshot(snap(NOW - timedelta(minutes=1), 11, source=Source.STATUSLINE))
    assert repo.latest_snapshot() == last
    assert repo.latest_snapshot([Source.STATUSLINE]).source is Source.STATUSLINE
    repo.close()
    # survives a restart
    assert UsageRepo.open(tmp_path / "db.sqlite3").latest_snapshot() == last


def test_history_for_timeline(tmp_path: Path) -> None:
    repo = UsageRepo.open(tmp_path / "db.sqlite3")
    for i in range(10):
        repo.save_snapshot(snap(NOW + timedelta(minutes=5 * i), float(i), 20.0 + i))
    rows = repo.history(["five_hour", "seven_day"], NOW + timedelta(minutes=20))
    assert len(rows) == 12
    assert rows == sorted(rows, key=lambda r: r[0])
    t, wid, util, resets = rows[0]
    assert t == NOW + timedelta(minutes=20)
    assert wid in ("five_hour", "seven_day")
    five = [r for r in rows if r[1] == "five_hour"]
    assert [r[2] for r in five] == [4.0, 5.0, 6.0, 7.0, 8.0, 9.0]
    assert five[0][3] == NOW + timedelta(minutes=20, hours=1)
    assert repo.history(["five_hour"], NOW, NOW + timedelta(minutes=5))[-1][2] == 1.0
    assert repo.history([], NOW) == []


def test_outcomes_and_cooldowns_persist(tmp_path: Path) -> None:
    repo = UsageRepo.open(tmp_path / "db.sqlite3")
    assert repo.last_outcome() is None
    repo.record_outcome(NOW, None, 200)
    retry = NOW + timedelta(minutes=30)
    repo.record_outcome(NOW + timedelta(seconds=1), FetchError(ErrorKind.RATE_LIMITED, "slow", retry), 429)
    out = repo.last_outcome()
    assert out is not None
    assert not out.ok
    assert out.http_status == 429
    assert out.error == FetchError(ErrorKind.RATE_LIMITED, "slow", retry)
    repo.set_cooldown("k" * 64, retry)
    repo.set_cooldown("k" * 64, NOW + timedelta(minutes=1))  # never shortened
    repo.set_last_attempt(NOW)
    repo.close()
    again = UsageRepo.open(tmp_path / "db.sqlite3")
    assert again.cooldowns(NOW) == {"k" * 64: retry}
    assert again.cooldowns(retry) == {}
    assert again.last_attempt() == NOW


def test_prune_by_retention_daily(tmp_path: Path) -> None:
    repo = UsageRepo.open(tmp_path / "db.sqlite3")
    repo.save_snapshot(snap(NOW - timedelta(days=100), 1))
    repo.save_snapshot(snap(NOW - timedelta(days=10), 2))
    repo.record_outcome(NOW - timedelta(days=100), None, 200)
    assert repo.maybe_prune(NOW, 90) == 4  # 2 samples + 1 snapshot + 1 outcome
    assert repo.maybe_prune(NOW + timedelta(hours=1), 5) is None  # once a day
    assert repo.maybe_prune(NOW + timedelta(days=1), 5) == 3
    assert repo.latest_snapshot() is None
