"""The Accounts page inside the real composition root: an account added on the page is polled by
the usage service and watched by the login watch at once (the page nudges both features), not a
minute later, and removing it stops both."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.helpers.login_support import app_with_usage, close_app, two_logins
from trayapp import runtime


async def until(cond, timeout: float = 5.0) -> None:
    end = asyncio.get_running_loop().time() + timeout
    while not cond():
        assert asyncio.get_running_loop().time() < end, "timed out"
        await asyncio.sleep(0.02)


@pytest.mark.qt_loop
async def test_an_account_added_on_the_page_is_polled_and_watched_at_once(
    qapp, qtbot, claude_dir: Path, tmp_path: Path
) -> None:
    from trayapp.features import accounts, login
    from trayapp.ui.accounts_page import AccountsPage

    work = two_logins(claude_dir, tmp_path)
    cw = app_with_usage(qapp, claude_dir, tmp_path)
    usage = cw.usage
    watch = login.watch_of(cw)
    assert watch is not None
    stops = [await accounts.start(cw), await login.start(cw)]
    factory = dict(cw.settings_pages)["Accounts"]
    page = factory()
    assert isinstance(page, AccountsPage)
    qtbot.addWidget(page)
    try:
        await until(lambda: list(page.boxes) == ["default"])
        page.label_edit.setText("Work")
        page.folder_edit.setText(str(work))
        page.add_button.click()
        await until(lambda: "Work" in usage.engines and len(watch.statuses) == 2, timeout=10)
        assert watch.status_of("Work").days_left == 5
        await until(lambda: "Work" in page.boxes)
        page.boxes["Work"].remove.click()
        page.boxes["Work"].confirm.click()
        await until(lambda: "Work" not in usage.engines and len(watch.statuses) == 1, timeout=10)
    finally:
        await runtime.wait(5, group=page)
        await close_app(cw, stops)
