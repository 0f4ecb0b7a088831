"""Several accounts end to end: the real app with a Work account in accounts.json next to the
default login, and dunst on the private bus showing the default login's 5-hour crossing titled with
its account ("Personal: 5-hour at 91%") from the very first reading, before Work's first poll (with
one account the title stays as it was: test_notify_dunst)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.helpers.app_process import UsageServer, app_env, start_app, stop_app, usage_body, wait_for
from tests.helpers.fixtures_usage import write_credentials
from tests.integration.conftest import DesktopSession
from tests.integration.test_notify_dunst import away_from_the_tray, log_text, ours
from trayapp.store.accounts_repo import AccountsRepo


def titles(before: set[int]) -> list[str]:
    return [n["summary"]["data"] for n in ours() if n["id"]["data"] not in before]


def test_alerts_name_the_account_when_there_are_several(
    desktop_services: DesktopSession, claude_dir: Path, hermetic_env: Path, tmp_path: Path
) -> None:
    server = UsageServer(usage_body(five_hour=91.0))
    try:
        write_credentials(claude_dir, expires_at=datetime.now(UTC) + timedelta(hours=8))
        work = tmp_path / "claude-work"
        work.mkdir()
        repo = AccountsRepo()
        repo.add("Work", work)
        repo.rename("default", "Personal")
        env = app_env(CLAUDE_WATCH_API_BASE=server.base_url, CLAUDE_CONFIG_DIR=str(claude_dir), TZ="UTC")
        away_from_the_tray()
        before = {n["id"]["data"] for n in ours()}
        app = start_app(env=env)
        try:
            assert wait_for(lambda: "Personal: 5-hour at 91%" in titles(before), timeout=30), log_text(
                hermetic_env
            )
            # Work's engine is added by the accounts feature after the default's first poll: the
            # alert can come first, so wait for it rather than stop the app at once.
            assert wait_for(lambda: "polling account Work" in log_text(hermetic_env), timeout=30), log_text(
                hermetic_env
            )
        finally:
            out = stop_app(app)
        assert titles(before) == ["Personal: 5-hour at 91%"], out
    finally:
        server.stop()
