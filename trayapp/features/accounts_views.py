"""The views of several accounts, fed from the usage service (driven by :mod:`.accounts`).

:class:`AccountViews` keeps the one choice the views share: which account the popup shows (the
binding, tightest, account until the user clicks another card or an account's own tray icon; the
choice lasts while the app runs and falls back to the binding account when that account goes).
On every reading of any account (``account_state_changed`` and ``state_changed``, on the GUI
thread), and when ``tray.accounts`` or the list of accounts changes, it recomputes the popup's
strip (:class:`~trayapp.ui.account_strip.AccountStrip`) and the tray icons
(:class:`~trayapp.ui.account_trays.AccountTrays`) from ``usage.states``: values already in memory,
so nothing here blocks. The popup maps every state the app gives it to the chosen account's
(``Popup.state_for``) and reads that account's history for its timeline on the io lane.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from trayapp import runtime
from trayapp.core import account_views as av
from trayapp.core.accounts import headroom_hint

if TYPE_CHECKING:
    from trayapp.app import ClaudeWatch
    from trayapp.core.models import AccountState
    from trayapp.store.usage_repo import HistoryRow
    from trayapp.ui.account_strip import AccountStrip
    from trayapp.ui.account_trays import AccountTrays
    from trayapp.ui.placement import Rect
    from trayapp.ui.popup import Popup

log = logging.getLogger(__name__)


class AccountViews:
    """The popup strip and the tray icons of several accounts, and the account the popup shows."""

    def __init__(self, cw: ClaudeWatch) -> None:
        self.cw = cw
        self.chosen: str | None = None  # a card or an account's icon clicked; None: the binding one
        self.strip: AccountStrip | None = None
        self.trays: AccountTrays | None = None
        self._popup: Popup | None = None  # the popup the history loader and state map are set on

    # ----- what is shown
    def states(self) -> dict[str, AccountState]:
        usage = self.cw.usage
        return usage.states if usage is not None else {}

    def shown(self) -> str | None:
        """The label of the account the popup shows."""
        usage = self.cw.usage
        if usage is None:
            return None
        return av.shown_label(self.chosen, list(usage.engines), usage.binding_label)

    def state_for(self, state: AccountState) -> AccountState:
        """The popup's map: whatever the app hands it, the shown account's latest state."""
        label = self.shown()
        return self.states().get(label, state) if label is not None else state

    async def history(self, since: datetime) -> list[HistoryRow]:
        """The timeline's rows for the shown account, read on the io lane."""
        usage = self.cw.usage
        if usage is None:
            return []
        engine = usage.engines.get(self.shown() or "") or usage.engine
        ids = [ws.window.id for ws in engine.state.windows] or ["five_hour", "seven_day"]
        return list(await runtime.run_blocking(engine.repo.history, ids, since, None))

    # ----- building
    def make_strip(self) -> AccountStrip:
        """The popup's strip (a panel factory's answer: built with the popup)."""
        from trayapp.ui.account_strip import AccountStrip

        strip = self.strip = AccountStrip()
        strip.account_selected.connect(self.select)
        self._fill_strip()
        return strip

    def make_trays(self) -> AccountTrays:
        from trayapp.ui.account_trays import AccountTrays

        self.trays = AccountTrays(self.cw.tray, self.cw.alerts)
        self.trays.dashboard_requested.connect(self.open_account)
        return self.trays

    def popup(self) -> Popup | None:
        """The built popup, with the shown account's state map and history loader set on it."""
        popup = self.cw.built_popup
        if popup is not None and popup is not self._popup:
            self._popup = popup
            popup.state_for = self.state_for
            popup.set_history_loader(self.history)
            # Its Refresh button reads the account it shows (the app's would read the tightest).
            try:
                popup.refresh_requested.disconnect(self.cw.refresh_now)
            except (RuntimeError, TypeError):
                pass
            popup.refresh_requested.connect(self.refresh_shown)
        return popup

    def refresh_shown(self) -> None:
        """The popup's Refresh: a reading of the account it shows (throttled as any Refresh)."""
        usage = self.cw.usage
        if usage is not None:
            usage.refresh_now(self.shown())

    # ----- following
    def refresh(self, *_args: object) -> None:
        """Repaint the strip and the tray icons from every account's latest state."""
        usage = self.cw.usage
        if usage is None:
            return
        states = usage.states
        if self.trays is not None:
            mode = str(self.cw.settings.get("tray.accounts"))
            self.trays.update(states, av.tray_accounts(list(states), mode), usage.state)
        self._fill_strip()
        self.popup()

    def _fill_strip(self) -> None:
        if self.strip is None:
            return
        states = self.states()
        label = self.shown()
        if len(states) < 2 or label is None:
            reshaped = self.strip.set_cards([], label or "")
        else:
            now = self.cw.clock.now()
            cards = [av.card(name, state, now) for name, state in states.items()]
            reshaped = self.strip.set_cards(cards, label, headroom_hint(states, label))
        popup = self.cw.built_popup
        if reshaped and popup is not None:
            popup.fit_height(None)  # cards or the hint came or went (a reading refits it anyway)

    # ----- intents
    def select(self, label: str) -> None:
        """Show account ``label`` in the popup (a card was clicked) and remember it."""
        if label not in self.states():
            return
        changed = label != self.shown()
        self.chosen = label
        self._fill_strip()
        popup = self.popup()
        if changed and popup is not None and popup.state is not None:
            log.info("dashboard shows account %s", label)
            popup.set_state(self.states()[label])  # its timeline too, when open (else when shown)

    def open_account(self, label: str, anchor: Rect | None) -> None:
        """An account's own tray icon was clicked: the dashboard showing that account. A click on
        the icon of the account already shown opens or closes it as usual; on another account's,
        the dashboard switches to that account (and opens, also when the click's focus change
        just closed it)."""
        popup = self.cw.popup  # built now if it was not yet
        self.popup()
        if label == self.shown():
            self.cw.toggle_dashboard(anchor)
            return
        self.select(label)
        if not popup.isVisible():
            popup.show_at(anchor)

    def main_clicked(self, _anchor: object = None) -> None:
        """The app's own icon asked for the dashboard (the app toggled it already): with one icon
        per account it is the first account's icon, so the dashboard shows that account, and
        stays open when this click closed it while it showed another account."""
        if self.trays is None or not self.trays.labels or self.trays.labels[0] == self.shown():
            return
        popup = self.cw.built_popup
        self.select(self.trays.labels[0])
        if popup is not None and not popup.isVisible():
            self.cw.show_dashboard()

    def stop(self) -> None:
        if self.trays is not None:
            self.trays.clear()
            tray = self.cw.tray
            tray.state_for = tray.describe = None
