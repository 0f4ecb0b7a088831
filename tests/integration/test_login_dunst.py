"""The login warning end to end: the real app, Claude Code credentials whose login lapses in five
days, and dunst on the private bus showing exactly one "Claude Code login lapses in 5 days" with its
"Open sign-in" button; a restart on the same folders does not repeat it."""

from __future__ import annotations

import asyncio
import json
import os
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest
from desktop_notifier import DesktopNotifier

from tests.helpers.app_process import UsageServer, app_env, start_app, stop_app, usage_body, wait_for
from tests.helpers.fixtures_channels import SettingsDict
from tests.helpers.fixtures_usage import write_credentials
from tests.helpers.login_support import ran, stand_in_terminal
from tests.integration.conftest import DesktopSession
from tests.integration.test_notify_dunst import away_from_the_tray, log_text, ours
from tests.integration.test_scheduler_dunst import Recording
from trayapp import runtime
from trayapp.channels.desktop import APP_NAME, DesktopChannel
from trayapp.channels.dispatcher import Dispatcher
from trayapp.channels.quips import QuipWriter
from trayapp.core.alert_policy import PolicyConfig, PolicyMemory, evaluate
from trayapp.core.models import AccountState, ErrorKind
from trayapp.demo import write_demo_credentials
from trayapp.features.login import open_sign_in
from trayapp.services.login_watch import LoginWatch
from trayapp.services.usage_engine import UsageEngine
from trayapp.sources.credentials import load_credentials
from trayapp.sources.usage_api import UsageClient
from trayapp.store.usage_repo import UsageRepo

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


@pytest.mark.qt_loop
async def test_signed_out_shows_open_sign_in_on_dunst_and_a_new_login_resumes_polling(
    desktop_services: DesktopSession, claude_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Claude Code emptied its credentials after a failed refresh: the engine says AUTH, the alert
    policy's one signed-out notice reaches dunst with "Open sign-in" (pressed: the callback dunst's
    ActionInvoked would call), which opens a stand-in terminal running `claude auth login`; the new
    credentials file is noticed by the login watch, which asks for a reading at once."""
    path = write_credentials(claude_dir, expires_at=datetime.now(UTC) + timedelta(hours=8))
    data = json.loads(path.read_text())
    data["claudeAiOauth"].update(accessToken="", refreshToken="", expiresAt=0)
    path.write_text(json.dumps(data))
    # The stand-in comes first in the Linux order and first on PATH (dunstctl stays reachable).
    record = stand_in_terminal(tmp_path / "bin", "x-terminal-emulator")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:{os.environ['PATH']}")
    monkeypatch.delenv("TERMINAL", raising=False)
    server = UsageServer(usage_body(five_hour=10.0))
    loader = partial(load_credentials, config_dirs=[claude_dir], home=claude_dir, platform="linux")
    engine = UsageEngine(
        UsageRepo.open(tmp_path / "usage.sqlite3"),
        client=UsageClient(server.base_url),
        credentials_loader=loader,
        probe_version=False,
    )
    cfg = SettingsDict()
    notifier = Recording(DesktopNotifier(app_name=APP_NAME))
    desktop = DesktopChannel(on_open=lambda: None, notifier=notifier)
    desktop.action_routes["login"] = lambda name, alert: runtime.try_spawn(open_sign_in(), "sign in")
    dispatcher = Dispatcher([desktop], QuipWriter(cfg.get), cfg.get)
    watch = LoginWatch(dispatcher, loader=loader, watch_paths=[path])
    polls: list[AccountState] = []

    async def poll_now() -> None:
        polls.append(await engine.poll(manual=True))

    watch.signed_in_again.connect(lambda: runtime.try_spawn(poll_now(), "poll"))
    try:
        state = await engine.poll(manual=True)
        assert state.error is not None
        assert state.error.kind is ErrorKind.AUTH
        assert server.requests == 0
        alerts, _ = evaluate(state, PolicyConfig(), PolicyMemory(), datetime.now(UTC))
        before = {n["id"]["data"] for n in ours()}
        (result,) = [await dispatcher.dispatch(a) for a in alerts]
        assert result.ok
        shown = [n for n in ours() if n["id"]["data"] not in before]
        assert [n["summary"]["data"] for n in shown] == ["Monitoring paused: sign in again"]
        (note,) = notifier.sent
        assert [b.title for b in note["buttons"]] == ["Open sign-in"]
        note["buttons"][0].on_pressed()
        assert await asyncio.to_thread(ran, record) == "auth login"
        await watch.start()
        assert watch.status is not None
        assert not watch.status.signed_in
        write_credentials(
            claude_dir,
            token="sk-ant-oat01-A-NEW-LOGIN",
            expires_at=datetime.now(UTC) + timedelta(hours=8),
            login_expires_at=datetime.now(UTC) + timedelta(days=29),
        )
        for _ in range(100):
            if polls:
                break
            await asyncio.sleep(0.05)
        assert polls, "the new login was not noticed"
        assert polls[0].error is None
        assert server.requests == 1
    finally:
        await watch.stop()
        await desktop.close()
        await engine.aclose()
        engine.repo.close()
        server.stop()
