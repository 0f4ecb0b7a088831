"""Login freshness for a second account end to end: the real app with a Work account in
accounts.json whose login lapses in five days (the default's in twenty), and dunst on the private
bus showing exactly one "Work: Claude Code login lapses in 5 days" (with one account the title is
unchanged: test_login_dunst); a restart on the same folders does not repeat it."""

from __future__ import annotations

from pathlib import Path

from tests.helpers.app_process import UsageServer, app_env, start_app, stop_app, usage_body, wait_for
from tests.integration.conftest import DesktopSession
from tests.integration.test_login_dunst import TITLE_START, lapsing_credentials
from tests.integration.test_notify_dunst import away_from_the_tray, log_text, ours
from trayapp.store.accounts_repo import AccountsRepo


def login_warnings(before: set[int]) -> list[str]:
    return [
        n["summary"]["data"]
        for n in ours()
        if n["id"]["data"] not in before and TITLE_START in n["summary"]["data"]
    ]


def test_a_second_accounts_login_warning_is_titled_with_its_label(
    desktop_services: DesktopSession, claude_dir: Path, hermetic_env: Path, tmp_path: Path
) -> None:
    server = UsageServer(usage_body(five_hour=10.0))
    try:
        lapsing_credentials(claude_dir, days=20.5)
        work = tmp_path / "claude-work"
        work.mkdir()
        lapsing_credentials(work, days=5.5)
        AccountsRepo().add("Work", work)
        env = app_env(CLAUDE_WATCH_API_BASE=server.base_url, CLAUDE_CONFIG_DIR=str(claude_dir), TZ="UTC")
        away_from_the_tray()
        before = {n["id"]["data"] for n in ours()}
        app = start_app(env=env)
        try:
            assert wait_for(lambda: login_warnings(before), timeout=30), log_text(hermetic_env)
            assert not wait_for(lambda: len(login_warnings(before)) > 1, timeout=3)
        finally:
            out = stop_app(app)
        assert login_warnings(before) == ["Work: Claude Code login lapses in 5 days"], out
        log = log_text(hermetic_env)
        assert "login check (start): Work: Login renews in 5 days" in log
        assert "login check (start): default: Login renews in 20 days" in log
        seen = {n["id"]["data"] for n in ours()}
        again = start_app(env=env)
        try:
            assert wait_for(lambda: log_text(hermetic_env).count("login watch running") == 2, 30)
            assert not wait_for(lambda: login_warnings(seen), timeout=5)
        finally:
            stop_app(again)
    finally:
        server.stop()
