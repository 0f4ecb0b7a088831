"""The popup's login lines: "Login renews in 12 days (run `claude auth login` before 15 Dec)"; with
several accounts one short line per account ("Work: Login renews in 2 days (before 5 Dec)", the
whole sentence as its tooltip), each with an "Open sign-in" button when that login is signed out
or lapses within a week.

With more than :data:`ALL_UP_TO` accounts the panel shows the default login and those that need
attention, and counts the others ("2 other logins fine"): the popup stays short.

A view: it shows :class:`~trayapp.core.login_freshness.LoginStatus` values and emits the intent.

Signals:
    sign_in_requested(str): an "Open sign-in" button, with its account's key.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from trayapp.core import login_freshness as lf
from trayapp.core.accounts import DEFAULT_KEY
from trayapp.core.humanize import display_text
from trayapp.ui.panels import button_style
from trayapp.ui.theme import Theme, muted_style, text_style

BUTTON_WITHIN = timedelta(days=max(lf.THRESHOLDS))
ALL_UP_TO = 3  # accounts shown line by line; beyond, only the default and those needing attention


def needs_attention(status: lf.LoginStatus) -> bool:
    left = status.left
    return not status.ok or (left is not None and left <= BUTTON_WITHIN)


def shown(statuses: Sequence[lf.LoginStatus]) -> tuple[list[lf.LoginStatus], int]:
    """The statuses to show line by line, and how many fine ones are only counted."""
    if len(statuses) <= ALL_UP_TO:
        return list(statuses), 0
    lines = [s for s in statuses if s.account == DEFAULT_KEY or needs_attention(s)]
    return lines, len(statuses) - len(lines)


class LoginRow(QWidget):
    """One account's line and its button."""

    def __init__(self, key: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.key = key
        self.status: lf.LoginStatus | None = None
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel("Login: checking…")
        self.label.setObjectName("login-line" if key == DEFAULT_KEY else f"login-line:{key}")
        self.label.setWordWrap(True)
        row.addWidget(self.label, 1)
        self.button = QToolButton()
        self.button.setObjectName("open-sign-in" if key == DEFAULT_KEY else f"open-sign-in:{key}")
        self.button.setText("Open sign-in")
        self.button.hide()
        row.addWidget(self.button)

    def set_status(self, status: lf.LoginStatus) -> None:
        self.status = status
        full = display_text(lf.status_text(status))
        # Among several accounts a line is short; the whole sentence (with the command) is its tooltip.
        self.label.setText(display_text(lf.compact_text(status)) if status.several else full)
        self.label.setToolTip(full if status.several else "")
        self.button.setToolTip(display_text(f"Open a terminal running `{status.command}`"))
        self.button.setVisible(needs_attention(status))

    def style_with(self, theme: Theme) -> None:
        self.button.setStyleSheet(button_style(theme))
        urgent = self.status is not None and not self.status.ok
        style = text_style if urgent else muted_style
        self.label.setStyleSheet(style(theme, "font-size: 11px;"))


class LoginPanel(QWidget):
    sign_in_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("login-panel")
        self._theme: Theme | None = None
        self.rows: dict[str, LoginRow] = {}
        self._statuses: dict[str, lf.LoginStatus] = {}
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(16, 4, 16, 4)  # as the other sections of the popup
        self._layout.setSpacing(2)
        self.more = QLabel("")
        self.more.setObjectName("login-more")
        self.more.hide()
        self._row(DEFAULT_KEY)
        self._layout.addWidget(self.more)

    # The default login's line and button (one account: the whole panel).
    @property
    def label(self) -> QLabel:
        return self.rows[DEFAULT_KEY].label

    @property
    def button(self) -> QToolButton:
        return self.rows[DEFAULT_KEY].button

    @property
    def status(self) -> lf.LoginStatus | None:
        return self._statuses.get(DEFAULT_KEY)

    def set_status(self, status: lf.LoginStatus) -> None:
        """One account's status (the others stay)."""
        self._statuses[status.account] = status
        self._render()

    def set_statuses(self, statuses: Sequence[lf.LoginStatus]) -> None:
        """Every account's status, in account order (accounts not listed are dropped)."""
        self._statuses = {s.account: s for s in statuses}
        self._render()

    def set_theme(self, theme: Theme) -> None:
        self._theme = theme
        self._style()

    def _row(self, key: str) -> LoginRow:
        row = self.rows.get(key)
        if row is None:
            row = self.rows[key] = LoginRow(key, self)
            row.button.clicked.connect(lambda _=False, k=key: self.sign_in_requested.emit(k))
            self._layout.insertWidget(len(self.rows) - 1, row)
        return row

    def _render(self) -> None:
        lines, hidden = shown(list(self._statuses.values()))
        keys = {s.account for s in lines}
        for key in [k for k in self.rows if k != DEFAULT_KEY and k not in self._statuses]:
            row = self.rows.pop(key)
            self._layout.removeWidget(row)
            row.deleteLater()
        for status in lines:
            self._row(status.account).set_status(status)
        for key, row in self.rows.items():
            row.setVisible(key in keys or (key == DEFAULT_KEY and not self._statuses))
        self.more.setText(f"{hidden} other login{'s' if hidden != 1 else ''} fine" if hidden else "")
        self.more.setVisible(bool(hidden))
        self._style()

    def _style(self) -> None:
        if self._theme is None:
            return
        for row in self.rows.values():
            row.style_with(self._theme)
        self.more.setStyleSheet(muted_style(self._theme, "font-size: 11px;"))
