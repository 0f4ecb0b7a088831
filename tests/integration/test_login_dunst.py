"""The login warning end to end: the real app, Claude Code credentials whose login lapses in five
days, and dunst on the private bus showing exactly one "Claude Code login lapses in 5 days" with its
"Open sign-in" button; a restart on the same folders does not repeat it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.helpers.app_process import UsageServer, app_env, start_app, stop_app, usage_body, wait_for
from tests.integration.conftest import DesktopSession
from tests.integration.test_notify_dunst import away_from_the_tray, log_text, ours
from trayapp.demo import write_demo_credentials

TITLE_START = "Claude Code login lapses in "


def warnings(before: set[int]) -> list[dict]:
    return [
        n for n in ours() if n["id"]["data"] not in before and n["summary"]["data"].startswith(TITLE_START)
    ]


def lapsing_credentials(claude_dir: Path, days: float) -> None:
    path = write_demo_credentials(claude_dir)
    data = json.loads(path.read_text())
    deadline = datetime.now(UTC) + timedelta(days=days)
    data["claudeAiOauth"]["refreshTokenExpiresAt"] = int(deadline.timestamp() * 1000)
    path.write_text(json.dumps(data))


def test_a_login_lapsing_in_five_days_warns_once_on_dunst_and_not_after_a_restart(
    desktop_services: DesktopSession, claude_dir: Path, hermetic_env: Path
) -> None:
    server = UsageServer(usage_body(five_hour=10.0))
    try:
        lapsing_credentials(claude_dir, days=5.5)
        env = app_env(CLAUDE_WATCH_API_BASE=server.base_url, CLAUDE_CONFIG_DIR=str(claude_dir), TZ="UTC")
        away_from_the_tray()
        before = {n["id"]["data"] for n in ours()}
        app = start_app(env=env)
        try:
            assert wait_for(lambda: warnings(before), timeout=30), log_text(hermetic_env)
            assert not wait_for(lambda: len(warnings(before)) > 1, timeout=3)
        finally:
            out = stop_app(app)
        (note,) = warnings(before)
        assert note["summary"]["data"] == "Claude Code login lapses in 5 days", out
        assert "claude auth login" in note["body"]["data"]
        assert note["appname"]["data"] == "Claude Watch"
        assert "login check (start): Login renews in 5 days" in log_text(hermetic_env)
        seen = {n["id"]["data"] for n in ours()}
        again = start_app(env=env)
        try:
            assert wait_for(lambda: log_text(hermetic_env).count("login watch running") == 2, 30)
            assert not wait_for(lambda: warnings(seen), timeout=5)
        finally:
            stop_app(again)
    finally:
        server.stop()
