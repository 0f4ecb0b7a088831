"""The tray views of several accounts: the one icon's tooltip with a line per account, or (setting
``tray.accounts = each``) one icon per account, at most four, in account order.

With one icon (the default) the app's :class:`~trayapp.ui.tray.Tray` shows the tightest account's
ring, as it always did; with several accounts its tooltip lists them all ("Work: 5h 42% · week
61%"). With one icon per account the app's own icon becomes the first account's (its ring, its
tooltip headed by its label) and an extra :class:`Tray` is added for each further account: its
own ring and number, its label first in the tooltip, the same menu entries (they ask the app
through the first icon's signals, so every menu does the same), and a left click that asks for
the dashboard showing that account. Switching the setting adds or removes the icons at once.

A view: it is given every account's state and the accounts that get an icon
(:func:`~trayapp.core.account_views.tray_accounts`); the accounts feature feeds it.

Signals:
    dashboard_requested(str, object): an account's own icon was clicked (or its menu's "Open
        dashboard" chosen): the account's label and the icon's Rect (or None).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from trayapp.core import account_views as av
from trayapp.core.models import AccountState
from trayapp.ui.tray import Tray

if TYPE_CHECKING:
    from trayapp.services.alerts import AlertService


class AccountTrays(QObject):
    dashboard_requested = Signal(str, object)

    def __init__(self, main: Tray, alerts: AlertService | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.main = main
        self.alerts = alerts
        self.labels: list[str] = []  # the accounts with an icon of their own (empty: one icon)
        self.states: dict[str, AccountState] = {}
        self.extras: dict[str, Tray] = {}  # every icon but the app's own, in account order

    def update(self, states: Mapping[str, AccountState], labels: list[str], binding: AccountState) -> None:
        """Show ``states`` (every account's, in order): one icon for each of ``labels`` (the
        first is the app's own icon), or the app's icon alone when ``labels`` is empty.
        ``binding`` is the tightest account's state (what the app's icon shows then)."""
        self.states = dict(states)
        self.labels = list(labels)
        main = self.main
        if labels:
            first = labels[0]
            main.state_for = lambda s: self.states.get(first, s)
            main.describe = lambda s: av.account_tooltip(first, s, main.clock.now())
        elif len(self.states) > 1:
            main.state_for = None
            main.describe = lambda _s: av.several_tooltip(self.states)
        else:
            main.state_for = main.describe = None
        main.set_state(binding)
        wanted = labels[1:]
        if list(self.extras) != wanted[: len(self.extras)] or any(k not in wanted for k in self.extras):
            self.clear()  # an account removed or moved: icons come back in account order
        for label in wanted:
            tray = self.extras.get(label)
            if tray is None:
                tray = self.extras[label] = self._make(label)
            tray.set_state(self.states[label])

    def _make(self, label: str) -> Tray:
        main = self.main
        tray = Tray(main.clock, parent=self)
        tray.icon.setObjectName(f"claude-watch-tray-{label}")
        tray.describe = lambda s: av.account_tooltip(label, s, tray.clock.now())
        tray.menu_entries = main.menu_entries  # the same list: entries added later show in every menu
        tray.needs_you = 0  # the sessions badge stays on the app's own icon
        tray.dashboard_requested.connect(lambda anchor: self.dashboard_requested.emit(label, anchor))
        for mine, theirs in (
            (tray.open_in_browser_requested, main.open_in_browser_requested),
            (tray.refresh_requested, main.refresh_requested),
            (tray.pause_requested, main.pause_requested),
            (tray.settings_requested, main.settings_requested),
            (tray.quit_requested, main.quit_requested),
        ):
            mine.connect(theirs)
        if self.alerts is not None:
            tray.follow_pause(self.alerts)
        if main.icon.isVisible():
            tray.show()
        return tray

    def clear(self) -> None:
        """Remove every extra icon (the app's own stays)."""
        for tray in self.extras.values():
            tray.hide()
            tray.menu.deleteLater()
            tray.deleteLater()
        self.extras = {}

    def icon_count(self) -> int:
        """How many icons show for the accounts (the app's own included)."""
        return 1 + len(self.extras)
