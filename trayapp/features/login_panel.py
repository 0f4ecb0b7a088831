"""The popup's login line: "Login renews in 12 days (run `claude auth login` before 15 Dec)", and an
"Open sign-in" button when the login is signed out or lapses within a week.

A view: it shows a :class:`~trayapp.core.login_freshness.LoginStatus` and emits the intent.

Signals:
    sign_in_requested(): the "Open sign-in" button.
"""

from __future__ import annotations

from datetime import timedelta

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QWidget

from trayapp.core import login_freshness as lf
from trayapp.core.humanize import display_text
from trayapp.ui.panels import button_style
from trayapp.ui.theme import Theme, muted_style, text_style

BUTTON_WITHIN = timedelta(days=max(lf.THRESHOLDS))


class LoginPanel(QWidget):
    sign_in_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("login-panel")
        self.status: lf.LoginStatus | None = None
        self._theme: Theme | None = None
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 2, 0, 2)
        self.label = QLabel("Login: checking…")
        self.label.setObjectName("login-line")
        self.label.setWordWrap(True)
        row.addWidget(self.label, 1)
        self.button = QToolButton()
        self.button.setObjectName("open-sign-in")
        self.button.setText("Open sign-in")
        self.button.setToolTip("Open a terminal running `claude auth login`")
        self.button.clicked.connect(self.sign_in_requested)
        self.button.hide()
        row.addWidget(self.button)

    def set_status(self, status: lf.LoginStatus) -> None:
        self.status = status
        self.label.setText(display_text(lf.status_text(status)))
        left = status.left
        urgent = not status.ok or (left is not None and left <= BUTTON_WITHIN)
        self.button.setVisible(urgent)
        self._style()

    def set_theme(self, theme: Theme) -> None:
        self._theme = theme
        self.button.setStyleSheet(button_style(theme))
        self._style()

    def _style(self) -> None:
        if self._theme is None:
            return
        urgent = self.status is not None and not self.status.ok
        style = text_style if urgent else muted_style
        self.label.setStyleSheet(style(self._theme, "font-size: 11px;"))
