"""The dashboard as an ordinary window, for desktops without a system tray (stock GNOME).

Without a tray there is no tray menu, so closing the window used to leave a hidden process that
kept polling and alerting with no Quit or Pause anywhere. :class:`WindowMode` gives the window
the tray menu (a ☰ button in its header: Open in browser, Refresh, Pause alerts, Settings, Quit)
and decides what closing means, from the ``ui.close_action`` setting: ``quit``, ``background``
(keep monitoring; running ``claude-watch`` again opens the window), or ``ask`` (the default): a
question with "Don't ask again", which saves the answer as the setting.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QCheckBox, QMenu, QMessageBox, QToolButton, QWidget

if TYPE_CHECKING:
    from trayapp.settings import Settings

log = logging.getLogger(__name__)
CHOICES = ("quit", "background")


class WindowMode(QObject):
    """Owned by the window it serves (its Qt parent), so it lives exactly as long."""

    def __init__(
        self,
        window: QWidget,
        menu: QMenu,
        settings: Settings,
        quit_app: Callable[[], object],
    ) -> None:
        super().__init__(window)
        self.window = window
        self.settings = settings
        self.quit_app = quit_app
        self.menu_button = QToolButton(window, objectName="windowMenu", text="☰")
        self.menu_button.setToolTip("Menu: refresh, pause alerts, settings, quit")
        self.menu_button.setMenu(menu)
        self.menu_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        settings_button = getattr(window, "settings_button", None)
        header = settings_button.parentWidget() if settings_button is not None else None
        if settings_button is not None and header is not None and header.layout() is not None:
            # Looks like its neighbours (size, hover, the theme's colours follow their style).
            self.menu_button.setAutoRaise(True)
            self.menu_button.setFixedSize(settings_button.size())
            self.menu_button.setStyleSheet(settings_button.styleSheet())  # then popup_layout.apply_look
            self.menu_button.setCursor(settings_button.cursor())
            header.layout().addWidget(self.menu_button, 0, Qt.AlignmentFlag.AlignTop)
        window.installEventFilter(self)
        app = QCoreApplication.instance()
        if app is not None:  # quitting closes nothing to ask about
            # A method of this child of the window, not a lambda holding the window: Qt drops the
            # connection when the window (and so this object) is deleted before the app quits.
            app.aboutToQuit.connect(self._stop_asking)

    def _stop_asking(self) -> None:
        self.window.removeEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is not self.window or event.type() != QEvent.Type.Close:
            return False
        choice = self.close_action()
        if choice == "background":
            log.info("dashboard closed; Claude Watch keeps running (run claude-watch to open it again)")
            return False  # the window closes (hides); the app does not quit on its last window
        event.ignore()
        if choice == "quit":
            QTimer.singleShot(0, self.quit_app)  # after this event has been handled
        return True

    def close_action(self) -> str | None:
        """``quit``, ``background``, or None (the question was cancelled: the window stays)."""
        setting = str(self.settings.get("ui.close_action"))
        if setting in CHOICES:
            return setting
        choice, remember = self.ask()
        if choice is not None and remember:
            try:
                self.settings.update({"ui.close_action": choice})
            except (OSError, ValueError) as exc:  # unsaved: asked again next time
                log.warning("could not save ui.close_action: %s", exc)
        return choice

    def ask(self) -> tuple[str | None, bool]:
        """The question: (``quit`` | ``background`` | None for cancel, remember the answer)."""
        box = QMessageBox(self.window)
        box.setWindowTitle("Close Claude Watch?")
        box.setText("Keep Claude Watch running in the background?")
        box.setInformativeText(
            "It goes on watching your limits and sends alerts. Run claude-watch again to open this "
            "window. Your desktop has no system tray to show it in (on GNOME, add the AppIndicator "
            "extension)."
        )
        keep = box.addButton("Keep running", QMessageBox.ButtonRole.AcceptRole)
        quit_button = box.addButton("Quit", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        remember = QCheckBox("Don't ask again")
        box.setCheckBox(remember)
        box.setDefaultButton(keep)
        box.exec()
        clicked = box.clickedButton()
        choice = "background" if clicked is keep else "quit" if clicked is quit_button else None
        return choice, remember.isChecked()
