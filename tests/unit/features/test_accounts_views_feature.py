"""The views of several accounts inside the real composition root, against a loopback server that
answers each token with its own figures: the popup's strip shows both logins with the binding one
first chosen, a click on a card switches the gauges and the timeline to that account (and a later
reading of the other keeps it), the tray's tooltip has a line per account, ``tray.accounts = each``
adds the second account's icon (its own ring, its label first in the tooltip, its click opens the
dashboard on it) and ``binding`` takes it away again. With one account nothing shows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from tests.helpers.accounts_support import PerTokenUsage, folders, running, token
from tests.helpers.async_wait import until


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[PerTokenUsage]:
    for srv in running():
        monkeypatch.setenv("CLAUDE_WATCH_API_BASE", srv.base_url)
        yield srv


async def started(qapp, claude_dir: Path, settings: dict[str, object] | None = None):  # type: ignore[no-untyped-def]
    """The real app signed in as Home, its usage service and the accounts feature started:
    ``(app, stop, usage, views)``."""
    from tests.helpers.fixtures_usage import write_credentials
    from trayapp.app import ClaudeWatch
    from trayapp.features import accounts as feature

    write_credentials(claude_dir, token=token("Home"), expires_at=datetime.now(UTC) + timedelta(hours=8))
    cw = ClaudeWatch(qapp, demo=False, self_test=True)
    cw.build()
    if settings:
        cw.settings.update(settings)
    await cw.start_usage()
    stop = await feature.start(cw)
    assert stop is not None
    assert cw.usage is not None
    views = feature.views_of(cw)
    assert views is not None
    return cw, stop, cw.usage, views


def five(popup) -> float:  # type: ignore[no-untyped-def]
    return popup.gauge("five_hour").ws.window.utilization


@pytest.mark.qt_loop
async def test_the_strip_switches_the_popup_and_the_tray_follows_the_setting(
    qapp, qtbot, server: PerTokenUsage, claude_dir: Path, tmp_path: Path
) -> None:
    from trayapp.store.accounts_repo import AccountsRepo

    _home, work = folders(tmp_path, ["Home", "Work"], server, [12.0, 91.0])
    AccountsRepo().add("Work", work.config_dir)
    AccountsRepo().rename("default", "Home")  # named before the app starts: its cards say so
    cw, stop, usage, views = await started(qapp, claude_dir)
    try:
        assert await until(lambda: list(usage.engines) == ["Home", "Work"])
        assert await until(lambda: token("Home") in server.calls)
        await usage.refresh_now("Work")
        popup = cw.popup
        strip = views.strip
        assert strip is not None
        # Both logins, the binding (tighter) one shown; the other one's room as a hint.
        assert list(strip.cards) == ["Home", "Work"]
        assert strip.selected == "Work"
        assert strip.showing
        assert five(popup) == 91.0
        assert strip.cards["Work"].five.text() == "5h 91%"
        assert strip.hint.text() == "Home has 94% weekly left"
        assert cw.tray.tooltip().split("\n")[:3] == [
            "Claude Watch",
            "Home: 5h 12% · week 6%",
            "Work: 5h 91% · week 46%",
        ]
        # A click on the other card: its gauges and its timeline.
        cw.show_dashboard()
        qtbot.waitExposed(popup)
        qtbot.waitUntil(lambda: strip.cards["Home"].height() > 20)
        qtbot.mouseClick(strip.cards["Home"], Qt.MouseButton.LeftButton)
        assert strip.selected == "Home"
        assert five(popup) == 12.0
        assert not strip.hint.text()  # the shown account is the roomier one
        rows = await popup.history_loader(datetime.now(UTC) - timedelta(days=1))  # the timeline's
        assert {round(r[2]) for r in rows if r[1] == "five_hour"} == {12}
        # Its Refresh asks for the account shown, not the tightest.
        polled: list[str] = []
        usage.account_state_changed.connect(lambda label, _state: polled.append(label))
        popup.refresh_button.click()
        assert await until(lambda: polled == ["Home"])
        # The next reading of the tighter account keeps the choice.
        usage.state_changed.emit(usage.states["Work"])
        assert five(popup) == 12.0
        assert cw.tray.state is usage.states["Work"]  # the one icon still shows the tightest
        # One icon per account, live.
        cw.settings.update({"tray.accounts": "each"})
        trays = views.trays
        assert trays is not None
        assert trays.icon_count() == 2
        extra = trays.extras["Work"]
        assert extra.state is usage.states["Work"]
        assert extra.tooltip().startswith("Work · Claude Watch\n5-hour: 91%")
        assert cw.tray.state is usage.states["Home"]  # the app's own icon is the first account's
        assert cw.tray.tooltip().startswith("Home · Claude Watch\n5-hour: 12%")
        usage.state_changed.emit(usage.states["Work"])
        assert cw.tray.state is usage.states["Home"]
        assert extra.action_texts()[:3] == ["Open dashboard", "Open in browser", "Refresh now"]
        refreshed: list[bool] = []
        cw.tray.refresh_requested.connect(lambda: refreshed.append(True))
        [refresh] = [a for a in extra.menu.actions() if a.text() == "Refresh now"]
        refresh.trigger()
        assert refreshed == [True]  # its menu asks the app as the app's own icon's does
        extra.dashboard_requested.emit(None)  # a left click on Work's icon
        assert strip.selected == "Work"
        assert five(popup) == 91.0
        assert popup.isVisible()  # switched while open, not closed
        cw.tray.dashboard_requested.emit(None)  # the app's own icon: the first account's
        assert strip.selected == "Home"
        assert popup.isVisible()  # the app's toggle closed it; it comes back on Home
        assert five(popup) == 12.0
        popup.hide()
        extra.dashboard_requested.emit(None)  # closed: Work's icon opens it on Work
        assert popup.isVisible()
        assert strip.selected == "Work"
        cw.settings.update({"tray.accounts": "binding"})
        assert trays.icon_count() == 1
        assert not trays.extras
        assert cw.tray.state is usage.states["Work"]  # the tightest again
    finally:
        await stop()
        await usage.stop()
        cw.tray.hide()
        if cw.built_popup is not None:
            cw.built_popup.hide()


@pytest.mark.qt_loop
async def test_with_one_account_nothing_changes(
    qapp, server: PerTokenUsage, claude_dir: Path, tmp_path: Path
) -> None:
    server.figures[token("Home")] = 12.0
    cw, stop, usage, views = await started(qapp, claude_dir, {"tray.accounts": "each"})
    try:
        assert await until(lambda: token("Home") in server.calls)
        assert await until(lambda: cw.state is not None and cw.state.snapshot is not None)
        popup = cw.popup
        assert views.strip is not None
        assert not views.strip.showing
        assert views.trays is not None
        assert views.trays.icon_count() == 1
        assert cw.tray.tooltip().startswith("Claude Watch\n5-hour: 12%")
        assert five(popup) == 12.0
    finally:
        await stop()
        await usage.stop()
        cw.tray.hide()
