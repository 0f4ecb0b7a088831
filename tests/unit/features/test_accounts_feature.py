"""The accounts feature inside the real composition root: with a Work account in accounts.json the
app polls both logins against a loopback server answering each token with its own figures, the
tray shows the tighter one, alerts name the account, and removing Work stops its polls."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.helpers.accounts_support import PerTokenUsage, folders, running, token


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[PerTokenUsage]:
    for srv in running():
        monkeypatch.setenv("CLAUDE_WATCH_API_BASE", srv.base_url)
        yield srv


async def until(predicate, timeout: float = 15.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


@pytest.mark.qt_loop
async def test_the_app_polls_every_account_and_names_it_in_alerts(
    qapp, server: PerTokenUsage, claude_dir: Path, tmp_path: Path
) -> None:
    from tests.helpers.fixtures_usage import write_credentials
    from trayapp.app import ClaudeWatch
    from trayapp.features import accounts as feature
    from trayapp.store.accounts_repo import AccountsRepo

    home, work = folders(tmp_path, ["Home", "Work"], server, [12.0, 91.0])
    write_credentials(claude_dir, token=token("Home"), expires_at=datetime.now(UTC) + timedelta(hours=8))
    AccountsRepo().add("Work", work.config_dir)
    cw = ClaudeWatch(qapp, demo=False, self_test=True)
    cw.build()
    await cw.start_usage()
    stop = await feature.start(cw)
    assert stop is not None
    usage = cw.usage
    assert usage is not None
    try:
        assert await until(lambda: list(usage.engines) == ["default", "Work"])
        assert work.config_dir in cw.sessions.service.config_dirs  # its live sessions too
        assert await until(lambda: token("Home") in server.calls)
        assert token("Work") not in server.calls  # staggered: half an interval later
        await usage.refresh_now("Work")
        assert server.calls == [token("Home"), token("Work")]
        assert usage.states["Work"].snapshot is not None
        assert usage.binding_label == "Work"
        assert cw.state is usage.states["Work"]  # the tray shows the tighter login
        fired = cw.alerts.account_memory["Work"].fired
        assert any(key.endswith(":t90") for key in fired)
        AccountsRepo().remove("Work")
        await feature.apply(usage, AccountsRepo().load(), [home, work])
        assert list(usage.engines) == ["default"]
    finally:
        await stop()
        await usage.stop()
        cw.tray.hide()
