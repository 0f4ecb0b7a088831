"""The "Open sign-in" button: the alert policy's signed-out notice (emptied credentials or a 401) and
the login warnings carry it on the desktop channel once the login feature routes ``login.*``; a
press opens a (stand-in) terminal running ``claude auth login``."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from desktop_notifier import Capability

from tests.helpers.fake_notifier import FakeNotifier
from tests.helpers.login_support import ran, stand_in_terminal
from trayapp.channels.desktop import DesktopChannel
from trayapp.core import login_freshness as lf
from trayapp.core.alert_policy import PolicyConfig, PolicyMemory, evaluate
from trayapp.core.models import AccountState, ErrorKind, FetchError
from trayapp.features.login import open_sign_in
from trayapp.sources.credentials import load_credentials

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def signed_out_alert(message: str):
    state = AccountState(None, error=FetchError(ErrorKind.AUTH, message))
    alerts, _ = evaluate(state, PolicyConfig(), PolicyMemory(), NOW)
    (alert,) = alerts
    return alert


def channel(notifier: FakeNotifier) -> DesktopChannel:
    return DesktopChannel(notifier=notifier, on_open=lambda: None, on_snooze=lambda: None)


async def test_the_signed_out_notice_gets_open_sign_in_when_the_login_feature_routes_it() -> None:
    pressed: list[str] = []
    notifier = FakeNotifier(frozenset({Capability.BUTTONS}))
    desktop = channel(notifier)
    alert = signed_out_alert("401")
    await desktop.send(alert)
    assert [b.title for b in notifier.sent[0]["buttons"]] == ["Open dashboard", "Snooze 1 h"]
    desktop.action_routes["login"] = lambda name, a: pressed.append(name)
    await desktop.send(alert)
    (button,) = notifier.sent[1]["buttons"]
    assert button.title == "Open sign-in"
    button.on_pressed()
    assert pressed == ["login.sign_in"]


async def test_emptied_credentials_are_signed_out_with_the_button(claude_dir: Path) -> None:
    """What Claude Code leaves after a rejected refresh: empty strings and expiresAt 0."""
    (claude_dir / ".credentials.json").write_text(
        '{"claudeAiOauth": {"accessToken": "", "refreshToken": "", "expiresAt": 0,'
        ' "refreshTokenExpiresAt": 0, "scopes": []}}'
    )
    report = load_credentials(NOW, config_dirs=[claude_dir], home=claude_dir, platform="linux")
    error = report.error()
    assert error is not None
    assert error.kind is ErrorKind.AUTH
    alert = signed_out_alert(error.message)
    notifier = FakeNotifier(frozenset({Capability.BUTTONS}))
    desktop = channel(notifier)
    desktop.action_routes["login"] = lambda name, a: None
    await desktop.send(alert)
    assert [b.title for b in notifier.sent[0]["buttons"]] == ["Open sign-in"]


async def test_a_login_warning_names_the_button_and_the_scheduler_route_stays_its_own() -> None:
    status = lf.LoginStatus("default", True, NOW + timedelta(days=2), NOW)
    warning, _ = lf.evaluate(status, lf.LoginMemory())
    assert warning is not None
    notifier = FakeNotifier(frozenset({Capability.BUTTONS}))
    desktop = channel(notifier)
    seen: list[tuple[str, str]] = []
    desktop.on_action = lambda name, a: seen.append(("scheduler", name))
    desktop.action_routes["login"] = lambda name, a: seen.append(("login", name))
    await desktop.send(warning)
    (button,) = notifier.sent[0]["buttons"]
    button.on_pressed()
    assert seen == [("login", "login.sign_in")]


@pytest.mark.skipif(os.name != "posix", reason="a shell-script stand-in terminal")
async def test_open_sign_in_starts_a_terminal_running_claude_auth_login(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    record = stand_in_terminal(bin_dir, "xterm")
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.delenv("TERMINAL", raising=False)
    assert await open_sign_in()
    assert ran(record) == "auth login"
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert not await open_sign_in()  # no terminal: logged, False, never raised
