"""``ui.theme`` reaches every window, not only the popup: the Settings dialog, the tray menu, the
no-tray window's menu and message boxes take the application palette and style sheet that
``ui/theme.py`` applies, it follows the setting live, and "system" goes back to the platform."""

from __future__ import annotations

from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QMessageBox

from tests.helpers.app_process import config_set
from trayapp import settings as st
from trayapp.core.models import Level
from trayapp.ui import theme
from trayapp.ui.settings_dialog import SettingsDialog
from trayapp.ui.theme import DARK, LIGHT
from trayapp.ui.tray import Tray

WINDOW = QPalette.ColorRole.Window
TEXT = QPalette.ColorRole.WindowText
BASE = QPalette.ColorRole.Base


def window_of(widget) -> str:
    widget.ensurePolished()
    return widget.palette().color(WINDOW).name()


def test_dark_reaches_the_dialog_the_menu_and_a_message_box(qapp, qtbot) -> None:
    theme.apply_app("dark")
    dialog = SettingsDialog(st.load(), set_autostart=None)
    qtbot.addWidget(dialog)
    tray = Tray()
    box = QMessageBox(QMessageBox.Icon.Question, "Close Claude Watch?", "Keep it running?")
    qtbot.addWidget(box)
    assert qapp.palette().color(WINDOW).name() == DARK.bg
    assert window_of(dialog) == DARK.bg
    assert dialog.palette().color(TEXT).name() == DARK.text
    assert dialog.editors["quips.model"].line.palette().color(BASE).name() == DARK.track
    assert window_of(tray.menu) == DARK.bg
    assert tray.menu.palette().color(TEXT).name() == DARK.text
    assert window_of(box) == DARK.bg
    # The dialog's red hint comes from the theme's palette too (no colour literal of its own).
    dialog.set_editor_text("tracking.timezone", "Mars/Olympus")
    error = dialog.errors["tracking.timezone"]
    error.ensurePolished()
    assert error.palette().color(TEXT).name() == DARK.levels[Level.AT_LIMIT]
    tray.hide()


def test_light_is_light_everywhere(qapp, qtbot) -> None:
    theme.apply_app("light")
    dialog = SettingsDialog(st.load(), set_autostart=None)
    qtbot.addWidget(dialog)
    assert window_of(dialog) == LIGHT.surface
    assert dialog.editors["quips.model"].line.palette().color(BASE).name() == LIGHT.bg
    dialog.set_editor_text("tracking.timezone", "Mars/Olympus")
    error = dialog.errors["tracking.timezone"]
    error.ensurePolished()
    assert error.palette().color(TEXT).name() == LIGHT.levels[Level.AT_LIMIT]


def test_follows_the_setting_live_and_system_goes_back_to_the_platform(qapp, qtbot) -> None:
    platform = qapp.palette().color(WINDOW).name()
    assert not theme.system_is_dark()  # the offscreen platform is light
    cfg = st.load()
    follower = theme.follow(cfg)
    dialog = SettingsDialog(cfg, set_autostart=None)
    qtbot.addWidget(dialog)
    dialog.show()
    assert qapp.palette().color(WINDOW).name() == platform  # "system" on a light platform
    combo = dialog.editors["ui.theme"].combo
    combo.setCurrentIndex(combo.findData("dark"))
    assert dialog.apply()  # saved: the follower re-applies at once
    assert follower.theme is DARK
    assert window_of(dialog) == DARK.bg
    assert not theme.system_is_dark()  # our own dark palette does not make the system dark
    config_set("ui.theme", "light")  # another writer (config set)
    assert cfg.reload() == ["ui.theme"]
    assert window_of(dialog) == LIGHT.surface
    config_set("ui.theme", "system")
    cfg.reload()
    assert qapp.palette().color(WINDOW).name() == platform
    assert dialog.editors["ui.theme"].value() == "system"


def test_the_app_applies_the_theme_from_its_build(qapp) -> None:
    """The theme is a feature of the app: built with the app, before any window shows."""
    from trayapp.app import ClaudeWatch

    cw = ClaudeWatch(qapp, demo=False, self_test=True)
    cw.settings.set("ui.theme", "dark")
    cw.build()
    assert qapp.palette().color(WINDOW).name() == DARK.bg
    assert window_of(cw.tray.menu) == DARK.bg
    cw.settings.update({"ui.theme": "light"})
    assert window_of(cw.tray.menu) == LIGHT.bg  # menus on the popup's background
    assert cw.popup.theme is LIGHT  # and the popup agrees
    cw.tray.hide()


def test_reset_gives_the_platform_back(qapp) -> None:
    before = qapp.palette().color(WINDOW).name()
    theme.apply_app("dark")
    assert QApplication.instance().styleSheet()
    theme.reset_app()
    assert qapp.palette().color(WINDOW).name() == before
    assert qapp.styleSheet() == ""
