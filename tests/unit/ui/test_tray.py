"""The tray: menu order and pause entries, tooltip, left click only."""

from __future__ import annotations

import importlib.metadata
from datetime import UTC, datetime, timedelta

from PySide6.QtWidgets import QSystemTrayIcon

import trayapp
from tests.helpers.fake_keyring import MemoryKeyring
from tests.helpers.states import NOW, account_state
from trayapp import settings as st
from trayapp.channels.dispatcher import Dispatcher
from trayapp.channels.quips import QuipWriter
from trayapp.core.clock import FakeClock
from trayapp.platform.secrets import SecretStore
from trayapp.services.alerts import AlertService
from trayapp.ui.tray import Tray, tomorrow_morning


def make(qtbot):
    tray = Tray(FakeClock(NOW))
    return tray


def test_menu_order_and_first_item(qtbot) -> None:
    tray = make(qtbot)
    assert tray.action_texts()[-2] == "Claude Watch"  # no metadata read until the menu opens
    tray.menu.aboutToShow.emit()  # opened: the About line names the version
    assert tray.action_texts() == [
        "Open dashboard",
        "Open in browser",
        "Refresh now",
        "Pause alerts",
        "Settings…",
        f"Claude Watch {trayapp.version()}",
        "Quit Claude Watch",
    ]
    about = tray.menu.actions()[-2]
    assert not about.isEnabled()
    assert trayapp.version() == importlib.metadata.version("claude-watch") == trayapp.__version__
    assert tray.menu.defaultAction().text() == "Open dashboard"


def test_open_in_browser_emits_its_intent(qtbot) -> None:
    tray = make(qtbot)
    opened: list[bool] = []
    tray.open_in_browser_requested.connect(lambda: opened.append(True))
    tray.dashboard_requested.connect(lambda _rect: opened.append(False))
    [action] = [a for a in tray.menu.actions() if a.objectName() == "open-in-browser"]
    action.trigger()
    assert opened == [True]


def alert_service(clock: FakeClock) -> AlertService:
    """A real alert service (no channels needed here); its pause is kept in the temp state dir."""
    cfg = st.load()
    quips = QuipWriter(cfg.get, SecretStore(backend=MemoryKeyring()))
    return AlertService(cfg.get, Dispatcher([], quips, cfg.get), clock)


def pause_menu(tray: Tray):
    tray.menu.aboutToShow.emit()
    return [a for a in tray.menu.actions() if a.menu()][0].menu()


def test_menu_and_tooltip_follow_the_alert_services_pause(qtbot) -> None:
    tray = make(qtbot)
    alerts = alert_service(tray.clock)
    tray.set_state(account_state())
    tray.follow_pause(alerts)
    assert "Alerts paused" not in tray.icon.toolTip()
    alerts.pause(NOW + timedelta(hours=1))
    # paused_changed repaints the tooltip at once (no waiting for the minute timer)...
    assert "Alerts paused until" in tray.icon.toolTip()
    # ...and the menu, rebuilt as it opens, offers to resume.
    pause = pause_menu(tray)
    assert pause.title().startswith("Alerts paused until")
    assert [a.text() for a in pause.actions()] == ["Resume alerts", "For 1 hour", "Until tomorrow"]
    alerts.pause(None)
    assert "Alerts paused" not in tray.icon.toolTip()
    assert [a.text() for a in pause_menu(tray).actions()] == ["For 1 hour", "Until tomorrow"]


def test_a_pause_saved_by_an_earlier_run_is_shown_from_the_start(qtbot) -> None:
    alert_service(FakeClock(NOW)).pause(NOW + timedelta(hours=1))
    tray = make(qtbot)
    tray.set_state(account_state())
    tray.follow_pause(alert_service(tray.clock))
    assert "Alerts paused until" in tray.icon.toolTip()
    assert pause_menu(tray).title().startswith("Alerts paused until")


def test_pause_actions_emit_the_end_time(qtbot) -> None:
    tray = make(qtbot)
    pause = [a for a in tray.menu.actions() if a.menu()][0].menu()
    with qtbot.waitSignal(tray.pause_requested) as sig:
        pause.actions()[0].trigger()
    assert sig.args == [NOW + timedelta(hours=1)]


def test_only_left_click_toggles(qtbot) -> None:
    tray = make(qtbot)
    got = []
    tray.dashboard_requested.connect(got.append)
    tray.icon.activated.emit(QSystemTrayIcon.ActivationReason.Context)
    tray.icon.activated.emit(QSystemTrayIcon.ActivationReason.MiddleClick)
    assert got == []
    tray.icon.activated.emit(QSystemTrayIcon.ActivationReason.Trigger)
    assert got == [None]  # offscreen: no geometry, the popup falls back to the cursor


def test_tooltip_and_icon_follow_state(qtbot) -> None:
    tray = make(qtbot)
    assert "Waiting" in tray.icon.toolTip()
    tray.set_state(account_state())
    assert "5-hour: 30%" in tray.icon.toolTip()
    assert not tray.icon.icon().isNull()


def test_tomorrow_morning() -> None:
    evening = datetime(2026, 8, 10, 21, 0, tzinfo=UTC)
    nxt = tomorrow_morning(evening)
    assert nxt > evening
    assert nxt.astimezone().hour == 8
    assert nxt - evening <= timedelta(days=1)
