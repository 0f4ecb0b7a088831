"""The achievements service: off by default, one notification for everything a first run finds, no
announcement again after a restart, remote channels only when asked; the history read from the
real usage database and scheduler log."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.login_support import Recorder
from trayapp.channels.dispatcher import Dispatcher
from trayapp.channels.quips import QuipWriter
from trayapp.core import achievements as ach
from trayapp.core.clock import FakeClock
from trayapp.core.models import ErrorKind, FetchError, Source, UsageSnapshot, Window, WindowKind
from trayapp.core.schedule import Attempt, Outcome
from trayapp.services.achievements_service import AchievementsService, load_history
from trayapp.store.achievements_repo import AchievementsStore, unlocks_file
from trayapp.store.schedule_store import ScheduleStore
from trayapp.store.usage_repo import UsageRepo

NOW = datetime(2026, 12, 20, 12, 0, tzinfo=UTC)
RESET = datetime(2026, 12, 10, 9, 0, tzinfo=UTC)


def settings(**values: Any):
    base = {"achievements.enabled": True, "achievements.remote": False, "alerts.desktop_quips": False}
    base.update(values)
    return base.get


def history_with(*extra: ach.Sample) -> ach.History:
    samples = [
        ach.Sample(RESET - timedelta(hours=2), "seven_day", 95.0, RESET),
        ach.Sample(RESET - timedelta(days=1, hours=1), "five_hour", 85.0, RESET - timedelta(days=1)),
        *extra,
    ]
    return ach.History(NOW, UTC, samples=samples)


def service(get, history: ach.History, channels: list[Recorder]) -> AchievementsService:
    dispatcher = Dispatcher(channels, QuipWriter(lambda key: None), get)
    return AchievementsService(dispatcher, get, clock=FakeClock(NOW), load=lambda now: history)


async def settled(svc: AchievementsService) -> None:
    import trayapp.runtime as runtime

    await runtime.wait(2, group=svc)


async def test_off_by_default_nothing_is_computed_or_stored() -> None:
    desktop = Recorder("desktop")
    svc = service(settings(**{"achievements.enabled": False}), history_with(), [desktop])
    assert await svc.recompute() == []
    assert not unlocks_file().exists()


async def test_a_first_run_announces_all_it_finds_once_and_a_restart_nothing() -> None:
    desktop, telegram = Recorder("desktop"), Recorder("telegram")
    svc = service(settings(), history_with(), [desktop, telegram])
    await svc.recompute()
    await svc.recompute()  # the same history again: nothing new
    await settled(svc)
    (alert,) = desktop.alerts
    assert alert.title == "3 achievements unlocked"
    assert telegram.alerts == []  # remote channels only with achievements.remote
    saved = json.loads(unlocks_file().read_text())
    assert set(saved["accounts"]["default"]) == {"watcher", "pacer", "surfer"}
    assert saved["accounts"]["default"]["surfer"]["earned_at"] == RESET.isoformat()
    # A restart: a new service over the same store finds nothing to announce.
    again = service(settings(**{"achievements.remote": True}), history_with(), [desktop, telegram])
    await again.recompute()
    await settled(again)
    assert len(desktop.alerts) == 1
    # Later a new one, through the remote channel too now.
    fresh = ach.Sample(
        NOW - timedelta(days=2), "five_hour", 90.0, NOW - timedelta(days=2) + timedelta(hours=1)
    )
    assert fresh.resets_at is not None
    nxt = [
        ach.Sample(
            fresh.resets_at + timedelta(minutes=20), "five_hour", 2.0, fresh.resets_at + timedelta(hours=5)
        )
    ]
    later = service(settings(**{"achievements.remote": True}), history_with(fresh, *nxt), [desktop, telegram])
    await later.recompute()
    await settled(later)
    assert [a.title for a in desktop.alerts[1:]] == ["Achievement unlocked: Fresh start"]
    assert [a.title for a in telegram.alerts] == ["Achievement unlocked: Fresh start"]


async def test_an_unreadable_store_is_set_aside_and_nothing_is_announced_again() -> None:
    path = unlocks_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{broken")
    desktop = Recorder("desktop")
    svc = service(settings(), history_with(), [desktop])
    await svc.recompute()
    await settled(svc)
    assert desktop.alerts == []
    assert path.with_name("achievements.json.bad").exists()
    assert set(AchievementsStore().load()["default"]) == {"watcher", "pacer", "surfer"}


def window(wid: str, util: float, resets: datetime) -> Window:
    kind = WindowKind.FIVE_HOUR if wid == "five_hour" else WindowKind.WEEKLY
    return Window(wid, wid, kind, util, resets)


def test_the_history_is_read_from_the_real_usage_database_and_scheduler_log() -> None:
    repo = UsageRepo.open()
    try:
        for k, util in enumerate((40.0, 95.0)):
            at = RESET - timedelta(hours=3 - k)
            repo.save_snapshot(UsageSnapshot(at, Source.API, (window("seven_day", util, RESET),)))
        repo.record_outcome(RESET - timedelta(hours=1), None, 200)
        repo.record_outcome(RESET, FetchError(ErrorKind.RATE_LIMITED, "slow down"), 429)
    finally:
        repo.close()
    from trayapp import paths

    paths.ensure(paths.state_dir())
    ScheduleStore().append(Attempt(RESET, "07:00", Outcome.VERIFIED, "resets at 12:00"))
    history = load_history(NOW, settings(**{"tracking.timezone": "UTC"}))
    assert [(s.window_id, s.utilization) for s in history.samples] == [
        ("seven_day", 40.0),
        ("seven_day", 95.0),
    ]
    assert [p.rate_limited for p in history.polls] == [False, True]
    assert history.starts == [ach.Start(RESET, True, "07:00")]
    earned = {s.rule_id for s in ach.evaluate(history) if s.earned}
    assert earned == {"watcher", "surfer", "early_bird"}


@pytest.mark.parametrize("content", ["", "[]", '{"accounts": {"default": {"x": {"earned_at": "nope"}}}}'])
def test_malformed_unlocks_are_dropped(content: str, tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_text(content)
    assert AchievementsStore(path).load().get("default", {}) == {}


def test_the_ledger_days_come_from_a_real_scanned_ledger(cases: Path, table) -> None:
    from trayapp.services.achievements_service import _ledger_days
    from trayapp.services.ledger_service import Tracker
    from trayapp.store.ledger import LedgerRepo

    repo = LedgerRepo.open()
    try:
        tracker = Tracker(repo, table=table, tz=UTC, cost_mode="calculate")
        tracker.refresh(workers=1)
        expected = tracker.daily(stats_cache=False).rows
    finally:
        repo.close()
    get = settings(
        **{"tracking.timezone": "UTC", "tracking.price_overrides": [], "tracking.cost_mode": "calculate"}
    )
    days = _ledger_days(get, UTC, datetime(2000, 1, 1, tzinfo=UTC))
    assert [d.day.isoformat() for d in days] == list(expected)
    assert [d.cache_read for d in days] == [t.cache_read for t in expected.values()]
    assert sum(d.entries for d in days) > 0
