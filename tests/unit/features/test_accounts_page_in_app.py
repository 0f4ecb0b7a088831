"""The Accounts page inside the real composition root: an account added on the page is polled by
the usage service and watched by the login watch at once (the page nudges both features), not a
minute later, and removing it stops both."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest

from tests.helpers.fixtures_usage import write_credentials
from trayapp import runtime
from trayapp.services.usage_engine import UsageEngine
from trayapp.services.usage_service import UsageService
from trayapp.sources.credentials import load_credentials
from trayapp.sources.usage_api import UsageClient
from trayapp.store.usage_repo import UsageRepo


async def until(cond, timeout: float = 5.0) -> None:
    end = asyncio.get_running_loop().time() + timeout
    while not cond():
        assert asyncio.get_running_loop().time() < end, "timed out"
        await asyncio.sleep(0.02)


@pytest.mark.qt_loop
async def test_an_account_added_on_the_page_is_polled_and_watched_at_once(
    qapp, qtbot, claude_dir: Path, tmp_path: Path
) -> None:
    from trayapp.app import ClaudeWatch
    from trayapp.features import accounts, login
    from trayapp.ui.accounts_page import AccountsPage

    now = datetime.now(UTC)
    write_credentials(claude_dir, login_expires_at=now + timedelta(days=12, hours=3))
    work = tmp_path / "claude-work"
    work.mkdir()
    write_credentials(work, login_expires_at=now + timedelta(days=5, hours=3))
    cw = ClaudeWatch(qapp, demo=False, self_test=True)
    cw.build()
    engine = UsageEngine(
        UsageRepo.open(tmp_path / "usage.sqlite3"),
        client=UsageClient("http://127.0.0.1:9"),
        credentials_loader=partial(load_credentials, config_dirs=[claude_dir], home=claude_dir),
        probe_version=False,
    )
    usage = cw.usage = UsageService(engine)
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
        for stop in reversed(stops):
            if stop is not None:
                await stop()
        for e in usage.engines.values():
            await e.aclose()
        engine.repo.close()
        cw.tray.hide()
