"""The login feature with several accounts: "Open sign-in" for an added account opens a (stand-in)
terminal whose claude runs with that account's folder as CLAUDE_CONFIG_DIR, whether pressed in the
popup or on a notification about that account; the popup has one line per account (the default and
those needing attention beyond three); and inside the real app the watch follows accounts.json
(the tooltip names each account) and an added account's 401 comes from its own engine."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.helpers.login_support import app_with_usage, close_app, ran, ran_env, stand_in_terminal, two_logins
from trayapp.core import login_freshness as lf
from trayapp.core.accounts import DEFAULT_KEY, Account
from trayapp.core.alert_policy import PolicyConfig, PolicyMemory, evaluate
from trayapp.core.models import AccountState, ErrorKind, FetchError
from trayapp.features.login import account_of_alert, open_sign_in, tooltip_text
from trayapp.features.login_panel import LoginPanel
from trayapp.ui.theme import resolve

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def status(key: str, label: str, days: float | None, *, signed_in: bool = True, several: bool = True):
    deadline = None if days is None else NOW + timedelta(days=days)
    return lf.LoginStatus(key, signed_in, deadline, NOW, label=label, several=several)


@pytest.mark.skipif(os.name != "posix", reason="a shell-script stand-in terminal")
async def test_open_sign_in_for_an_added_account_names_its_folder(
    tmp_path: Path, claude_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = stand_in_terminal(tmp_path / "bin", "xterm")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    monkeypatch.delenv("TERMINAL", raising=False)
    work = tmp_path / "claude-work"
    assert await open_sign_in(Account("Work", work, "Work"))
    assert ran_env(record) == str(work)
    assert ran(record) == "auth login"
    record.unlink()
    assert await open_sign_in(Account("Personal", claude_dir, DEFAULT_KEY))
    assert ran_env(record) == str(claude_dir)  # the default: Claude Code's own lookup (inherited)


def test_a_notification_names_its_account_warning_or_signed_out(tmp_path: Path) -> None:
    listed = [
        Account("Personal", tmp_path / "p", DEFAULT_KEY),
        Account("Work", tmp_path / "w", "Work"),
        Account("Work 2", tmp_path / "w2", "Work:2"),
    ]
    warning, _ = lf.evaluate(status("Work", "Work", 2), lf.LoginMemory())
    assert account_of_alert(listed, warning) is listed[1]
    state = AccountState(None, error=FetchError(ErrorKind.AUTH, "401"))
    (signed_out,), _ = evaluate(state, PolicyConfig(), PolicyMemory(), NOW)
    from dataclasses import replace

    from trayapp.core.accounts import account_key

    for account in listed:
        alert = replace(signed_out, key=account_key(account.key, signed_out.key))
        assert account_of_alert(listed, alert) is account
    assert account_of_alert(listed, None) is None


def test_one_tooltip_line_per_account_named_when_several() -> None:
    assert tooltip_text([status(DEFAULT_KEY, "default", 12, several=False)]) == "Login renews in 12 days"
    assert tooltip_text(
        [status(DEFAULT_KEY, "Personal", 12), status("Work", "Work", 3.5, signed_in=False)]
    ) == ("Personal: Login renews in 12 days\nWork: Signed out: run `claude auth login`")
    assert tooltip_text([]) is None


def test_the_popup_has_a_line_per_account_and_each_button_names_its_account(qtbot) -> None:
    panel = LoginPanel()
    qtbot.addWidget(panel)
    panel.set_theme(resolve("dark"))
    pressed: list[str] = []
    panel.sign_in_requested.connect(pressed.append)
    panel.set_statuses([status(DEFAULT_KEY, "Personal", 12), status("Work", "Work", 2)])
    texts = [r.label.text() for r in panel.rows.values() if not r.isHidden()]
    assert texts == [
        "Personal: Login renews in 12 days (before 15 Dec)",
        "Work: Login renews in 2 days (before 5 Dec)",
    ]
    assert (
        panel.rows["Work"].label.toolTip().startswith("Work: Login renews in 2 days (run “claude auth login”")
    )
    assert panel.button.isHidden()
    work = panel.rows["Work"]
    assert not work.button.isHidden()
    work.button.click()
    assert pressed == ["Work"]
    # Five accounts: the default and those needing attention, the rest counted.
    panel.set_statuses(
        [status(DEFAULT_KEY, "Personal", 12)]
        + [status(f"A{i}", f"A{i}", 20) for i in range(3)]
        + [status("Work", "Work", None, signed_in=False)]
    )
    shown = [k for k, r in panel.rows.items() if not r.isHidden()]
    assert shown == [DEFAULT_KEY, "Work"]
    assert panel.more.text() == "3 other logins fine"
    panel.set_statuses([status(DEFAULT_KEY, "default", 12, several=False)])
    assert list(panel.rows) == [DEFAULT_KEY]
    assert panel.more.isHidden()


@pytest.mark.qt_loop
async def test_in_the_app_the_watch_follows_accounts_json_and_each_engines_401(
    qapp, claude_dir: Path, tmp_path: Path
) -> None:
    from trayapp.features import login
    from trayapp.store.accounts_repo import AccountsRepo

    work = two_logins(claude_dir, tmp_path)
    cw = app_with_usage(qapp, claude_dir, tmp_path)
    usage = cw.usage
    watch = login.watch_of(cw)
    assert watch is not None
    stop = await login.start(cw)
    assert stop is not None
    try:
        assert "Login renews in 12 days" in cw.tray.icon.toolTip()
        await asyncio.to_thread(AccountsRepo().add, "Work", work)
        login.accounts_changed(cw)  # the Accounts page's nudge: no minute's wait
        for _ in range(200):
            if len(watch.statuses) == 2:
                break
            await asyncio.sleep(0.02)
        assert [s.name for s in watch.statuses] == ["default", "Work"]
        tip = cw.tray.icon.toolTip()
        assert "default: Login renews in 12 days" in tip
        assert "Work: Login renews in 5 days" in tip
        usage.account_state_changed.emit("Work", AccountState(None, error=FetchError(ErrorKind.AUTH, "401")))
        assert not watch.status_of("Work").signed_in
        assert watch.status is not None
        assert watch.status.signed_in
        assert "Work: Signed out" in cw.tray.icon.toolTip()
    finally:
        await close_app(cw, [stop])
