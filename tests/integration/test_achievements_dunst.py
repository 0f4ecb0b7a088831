"""Achievements end to end: the real app over a usage history that already earned some; while
achievements are off nothing is said; turned on while it runs (``config set``), exactly one
notification on dunst names everything found; a restart says nothing again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.helpers.app_process import (
    UsageServer,
    app_env,
    config_set,
    start_app,
    stop_app,
    usage_body,
    wait_for,
)
from tests.integration.conftest import DesktopSession
from tests.integration.test_notify_dunst import away_from_the_tray, log_text, ours
from trayapp.core.models import Source, UsageSnapshot, Window, WindowKind
from trayapp.demo import write_demo_credentials
from trayapp.store.usage_repo import UsageRepo


def a_surfing_week_ago() -> None:
    """A finished weekly window that peaked at 93% (Surfer) and a first reading (Watcher)."""
    reset = datetime.now(UTC) - timedelta(days=3)
    repo = UsageRepo.open()
    try:
        for k, util in enumerate((40.0, 93.0)):
            weekly = Window("seven_day", "Weekly", WindowKind.WEEKLY, util, reset, timedelta(days=7))
            repo.save_snapshot(UsageSnapshot(reset - timedelta(hours=3 - k), Source.API, (weekly,)))
    finally:
        repo.close()


def unlocks(before: set[int]) -> list[dict]:
    return [
        n for n in ours() if n["id"]["data"] not in before and "achievement" in n["summary"]["data"].lower()
    ]


def test_turning_achievements_on_gives_one_notification_for_the_history_and_none_after_a_restart(
    desktop_services: DesktopSession, claude_dir: Path, hermetic_env: Path
) -> None:
    server = UsageServer(usage_body(five_hour=10.0))
    try:
        write_demo_credentials(claude_dir)
        a_surfing_week_ago()
        env = app_env(CLAUDE_WATCH_API_BASE=server.base_url, CLAUDE_CONFIG_DIR=str(claude_dir), TZ="UTC")
        away_from_the_tray()
        before = {n["id"]["data"] for n in ours()}
        app = start_app(env=env)
        try:
            assert wait_for(lambda: "achievements off" in log_text(hermetic_env), timeout=30), log_text(
                hermetic_env
            )
            assert not wait_for(lambda: unlocks(before), timeout=3)
            config_set("achievements.enabled", "true")
            assert wait_for(lambda: unlocks(before), timeout=30), log_text(hermetic_env)
            assert not wait_for(lambda: len(unlocks(before)) > 1, timeout=3)
        finally:
            out = stop_app(app)
        (note,) = unlocks(before)
        assert note["summary"]["data"] == "2 achievements unlocked", out
        assert "Watcher: " in note["body"]["data"]
        assert "Surfer: " in note["body"]["data"]
        seen = {n["id"]["data"] for n in ours()}
        again = start_app(env=env)
        try:
            assert wait_for(lambda: "achievements on" in log_text(hermetic_env), timeout=30)
            assert not wait_for(lambda: unlocks(seen), timeout=5)
        finally:
            stop_app(again)
    finally:
        server.stop()
