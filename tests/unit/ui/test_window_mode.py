"""Without a tray the dashboard window carries the tray menu and asks what closing means (issue 20:
closing it left a hidden process polling and alerting, with no Quit or Pause anywhere)."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMenu, QToolButton

from trayapp import settings as st
from trayapp.ui.popup import Popup
from trayapp.ui.window_mode import WindowMode


@pytest.fixture
def window(qtbot) -> Popup:
    popup = Popup()
    popup.set_window_mode(True)
    qtbot.addWidget(popup)
    return popup


def make(window: Popup, answer: tuple[str | None, bool] = ("background", False)):
    """A WindowMode whose question answers ``answer`` (a real QMessageBox would block the test;
    qtbot closes the window at teardown, which asks too)."""
    cfg = st.load()
    quits: list[int] = []
    menu = QMenu()
    menu.addAction("Quit Claude Watch")
    mode = WindowMode(window, menu, cfg, lambda: quits.append(1))
    asked: list[int] = []

    def ask() -> tuple[str | None, bool]:
        asked.append(1)
        return answer if window.isVisible() else ("background", False)

    mode.ask = ask  # type: ignore[method-assign]
    return mode, cfg, quits, asked, menu


def test_the_window_has_the_tray_menu(window: Popup) -> None:
    _, _, _, _, menu = make(window)
    button = window.findChild(QToolButton, "windowMenu")
    assert button is not None
    assert button.menu() is menu
    assert button.parentWidget() is window.settings_button.parentWidget()  # in the header


def test_asked_keep_running_and_remembered(window: Popup, qtbot) -> None:
    _, cfg, quits, asked, _ = make(window, ("background", True))
    window.show()
    window.close()
    assert not window.isVisible()  # hidden; the app runs on
    assert quits == []
    assert asked == [1]
    assert st.load().get("ui.close_action") == "background"  # saved: not asked again
    window.show()
    window.close()
    assert asked == [1]


def test_asked_quit_quits(window: Popup, qtbot) -> None:
    _, _, quits, _, _ = make(window, ("quit", False))
    window.show()
    window.close()
    qtbot.waitUntil(lambda: quits == [1], timeout=2000)
    assert st.load().get("ui.close_action") == "ask"  # not remembered


def test_cancel_keeps_the_window(window: Popup) -> None:
    _, _, quits, _, _ = make(window, (None, True))
    window.show()
    window.close()
    assert window.isVisible()
    assert quits == []


def test_a_saved_choice_is_not_asked(window: Popup, qtbot) -> None:
    st.load().update({"ui.close_action": "quit"})
    _, _, quits, asked, _ = make(window, ("background", False))
    window.show()
    window.close()
    qtbot.waitUntil(lambda: quits == [1], timeout=2000)
    assert asked == []
