"""The window scheduler's reminder end to end: the real app, a loopback usage server reporting no
open 5-hour window, a plan with an anchor that passed while the app was not running (within the
grace), and dunst on the private bus showing exactly one "Start your 5-hour window now?"; a
restart does not repeat it, and an open window gives none."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from desktop_notifier import DesktopNotifier

from tests.helpers.app_process import UsageServer, app_env, start_app, stop_app, wait_for
from tests.helpers.fixtures_channels import SettingsDict
from tests.helpers.fixtures_sessions import FakeClaude
from tests.helpers.fixtures_usage import write_credentials
from tests.helpers.usage_window_server import UsageWindowServer
from tests.integration.conftest import DesktopSession
from tests.integration.test_notify_dunst import away_from_the_tray, log_text, ours
from trayapp import runtime
from trayapp.channels.desktop import APP_NAME, DesktopChannel
from trayapp.channels.dispatcher import Dispatcher
from trayapp.channels.quips import QuipWriter
from trayapp.core.clock import SystemClock
from trayapp.core.schedule import Anchor, Outcome, Plan
from trayapp.demo import write_demo_credentials
from trayapp.services import scheduler_memory
from trayapp.services.scheduler_feature import ports_for, real_start
from trayapp.services.scheduler_service import SchedulerService
from trayapp.services.usage_engine import UsageEngine
from trayapp.sources.credentials import load_credentials
from trayapp.sources.usage_api import UsageClient
from trayapp.store.schedule_store import ScheduleStore
from trayapp.store.usage_repo import UsageRepo

TITLE = "Start your 5-hour window now?"


def body(five_hour_resets_at: datetime | None) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "five_hour": {
            "utilization": 0.0 if five_hour_resets_at is None else 12.0,
            "resets_at": five_hour_resets_at.isoformat() if five_hour_resets_at else None,
        },
        "seven_day": {"utilization": 20.0, "resets_at": (now + timedelta(days=3)).isoformat()},
        "seven_day_opus": None,
        "extra_usage": {"is_enabled": False, "monthly_limit": None, "used_credits": None},
    }


def plan_an_anchor_that_just_passed() -> str:
    """A plan whose only anchor was two minutes ago (UTC: the app runs with TZ=UTC), and a memory
    saying the app last ticked five minutes ago: the anchor passed while it was not running."""
    now = datetime.now(UTC)
    at = (now - timedelta(minutes=2)).replace(second=0, microsecond=0)
    ScheduleStore().save_plan(Plan((Anchor(time(at.hour, at.minute)),)))
    scheduler_memory.save(scheduler_memory.SchedulerMemory(last_tick=now - timedelta(minutes=5)))
    return f"{at.hour:02d}:{at.minute:02d}"


@pytest.fixture
def environment(claude_dir: Path, hermetic_env: Path):
    write_demo_credentials(claude_dir)

    def make(server: UsageServer) -> dict[str, str]:
        return app_env(CLAUDE_WATCH_API_BASE=server.base_url, CLAUDE_CONFIG_DIR=str(claude_dir), TZ="UTC")

    return make


class Recording:
    """The real desktop-notifier (dunst shows what it sends), keeping what each send was given: the
    buttons and their callbacks, which is what dunst's ActionInvoked signal would call."""

    def __init__(self, notifier: DesktopNotifier) -> None:
        self.notifier = notifier
        self.sent: list[dict[str, Any]] = []

    async def send(self, **kwargs: Any) -> str:
        self.sent.append(kwargs)
        return await self.notifier.send(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.notifier, name)


def reminders(before: set[int]) -> list[dict]:
    return [n for n in ours() if n["id"]["data"] not in before and n["summary"]["data"] == TITLE]


def test_an_anchor_with_the_window_closed_reaches_dunst_exactly_once(
    desktop_services: DesktopSession, environment, hermetic_env: Path
) -> None:
    server = UsageServer(body(None))
    try:
        anchor = plan_an_anchor_that_just_passed()
        away_from_the_tray()
        before = {n["id"]["data"] for n in ours()}
        app = start_app(env=environment(server))
        try:
            assert wait_for(lambda: reminders(before), timeout=30), log_text(hermetic_env)
            assert not wait_for(lambda: len(reminders(before)) > 1, timeout=3)  # and nothing more
        finally:
            out = stop_app(app)
        (note,) = reminders(before)
        assert f"{anchor} -> window {anchor}-" in note["body"]["data"], out
        assert "No 5-hour window is open" in note["body"]["data"]
        assert note["appname"]["data"] == "Claude Watch"
        attempts = ScheduleStore().attempts(10)
        assert [(a.anchor_id, a.outcome.value) for a in attempts] == [(anchor, "reminded")]
        # A restart on the same folders: the same anchor, the same closed window, no second reminder.
        seen = {n["id"]["data"] for n in ours()}
        again = start_app(env=environment(server))
        try:
            assert wait_for(lambda: log_text(hermetic_env).count("window scheduler running") == 2, 30)
            assert not wait_for(lambda: reminders(seen), timeout=5)
        finally:
            stop_app(again)
        assert len(ScheduleStore().attempts(10)) == 1
    finally:
        server.stop()


def test_an_open_window_at_the_anchor_gives_no_reminder(
    desktop_services: DesktopSession, environment, hermetic_env: Path
) -> None:
    server = UsageServer(body(datetime.now(UTC) + timedelta(hours=3)))
    try:
        plan_an_anchor_that_just_passed()
        before = {n["id"]["data"] for n in ours()}
        app = start_app(env=environment(server))
        try:
            assert wait_for(lambda: "a window is open until" in log_text(hermetic_env), timeout=30), log_text(
                hermetic_env
            )
            assert not wait_for(lambda: reminders(before), timeout=3)
        finally:
            stop_app(app)
        assert ScheduleStore().attempts(10) == []
    finally:
        server.stop()


async def test_start_now_on_the_reminder_runs_one_verified_start_with_the_fake_claude(
    desktop_services: DesktopSession,
    fake_claude: FakeClaude,
    claude_dir: Path,
    hermetic_env: Path,
    tmp_path: Path,
) -> None:
    """The reminder shown by dunst, its "Start now" button pressed (dunst 1.9 can only invoke a
    notification's default action or a sole one from outside, so the test calls the callback the
    notification server's ActionInvoked signal would: desktop-notifier's button): exactly one run of
    the fake claude, verified, the outcome shown by dunst; a second press runs nothing."""
    write_credentials(claude_dir, expires_at=datetime.now(UTC) + timedelta(hours=8))
    server = UsageWindowServer(fake_claude.calls_path)
    server.opens_on_ping = True  # the window opens when the fake claude is run, as a real ping does
    server.start()
    clock = SystemClock()
    engine = UsageEngine(
        UsageRepo.open(tmp_path / "usage.sqlite3"),
        clock=clock,
        client=UsageClient(server.base_url),
        credentials_loader=partial(load_credentials, config_dirs=[claude_dir], home=claude_dir),
        probe_version=False,
    )
    cfg = SettingsDict()
    notifier = Recording(DesktopNotifier(app_name=APP_NAME))
    desktop = DesktopChannel(on_open=lambda: None, notifier=notifier)
    try:
        await engine.poll(manual=True)  # the app's first reading: no window open
        store = ScheduleStore()
        tz = ZoneInfo("UTC")
        start = real_start(store, clock, tz, cfg.get, lambda: engine.state, lambda: engine.poll(manual=True))
        service = SchedulerService(
            ports_for(store, start, start_logs=True),
            Dispatcher([desktop], QuipWriter(cfg.get), cfg.get),
            clock,
            cfg.get,
            lambda: engine.state,
            tz=tz,
        )
        desktop.action_routes["schedule"] = service.on_action
        anchor = plan_an_anchor_that_just_passed()
        before = {n["id"]["data"] for n in ours()}
        await service.load()
        await service.tick()
        await runtime.wait(10, group=service)
        assert len(reminders(before)) == 1
        (note,) = [n for n in notifier.sent if n["title"] == TITLE]
        start_now = note["buttons"][0]
        assert [b.title for b in note["buttons"]] == ["Start now", "Skip"]
        start_now.on_pressed()
        await runtime.wait(60, group=service)
        calls = fake_claude.calls()
        assert len(calls) == 1
        assert calls[0]["argv"][:4] == ["-p", "hi", "--model", "haiku"]
        outcomes = [(a.anchor_id, a.outcome) for a in store.attempts(10)]
        assert outcomes == [(anchor, Outcome.REMINDED), (anchor, Outcome.VERIFIED)]
        started = wait_for(
            lambda: [n for n in ours() if n["summary"]["data"].startswith("5-hour window started")]
        )
        assert len(started) == 1
        start_now.on_pressed()  # pressed again: the window is open now, nothing runs
        await runtime.wait(60, group=service)
        assert len(fake_claude.calls()) == 1
        assert store.attempts(10)[-1].outcome is Outcome.REFUSED
        await service.stop()
    finally:
        await desktop.close()
        await engine.aclose()
        engine.repo.close()
        server.stop()
