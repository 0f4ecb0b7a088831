"""The system tray icon and its menu.

The icon is repainted from every :class:`AccountState` (see :mod:`trayapp.ui.icon`), the tooltip
lists every window with its percentage and countdown, and the menu is rebuilt each time it is
about to show, so "Pause alerts" always tells the truth. The pause itself belongs to the alert
service: :meth:`Tray.follow_pause` reads it from there and repaints on ``paused_changed``. Only a
left click (``Trigger``) toggles the popup: under XEmbed a right click also emits ``activated``
(with ``Context``). :meth:`Tray.set_needs_you` adds the badge of Claude Code sessions waiting for
the user; the icon is repainted only when what it shows changes (:func:`~trayapp.ui.icon.icon_key`).

Signals:
    dashboard_requested(object): open/toggle the popup; carries the icon's Rect (or None).
    open_in_browser_requested: "Open in browser" was chosen (the web dashboard, through a
        one-time login link the app makes: the view never sees the token).
    refresh_requested: "Refresh now" was chosen.
    pause_requested(object): pause alerts until the given aware datetime, or resume with None.
    settings_requested: "Settings..." was chosen.
    quit_requested: "Quit" was chosen.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from trayapp.core import humanize
from trayapp.core.clock import Clock, SystemClock
from trayapp.core.models import AccountState
from trayapp.ui.icon import IconKey, icon_key, make_icon
from trayapp.ui.placement import Rect

if TYPE_CHECKING:
    from trayapp.services.alerts import AlertService


def tomorrow_morning(now: datetime, hour: int = 8) -> datetime:
    """The next local ``hour``:00 after ``now`` (for "Pause until tomorrow")."""
    local = now.astimezone()
    target = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    if target <= local:
        target += timedelta(days=1)
    return target


class Tray(QObject):
    dashboard_requested = Signal(object)
    open_in_browser_requested = Signal()
    refresh_requested = Signal()
    pause_requested = Signal(object)
    settings_requested = Signal()
    quit_requested = Signal()

    def __init__(self, clock: Clock | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.clock: Clock = clock or SystemClock()
        self.state: AccountState | None = None
        self._alerts: AlertService | None = None
        self.template = sys.platform == "darwin"
        self.needs_you = 0
        # Extra tooltip lines from features ("Login renews in 12 days"); None or "" adds nothing.
        self.tooltip_lines: list[Callable[[], str | None]] = []
        # Extra menu entries from features, after "Refresh now": (text, what it does) ("Agents…").
        self.menu_entries: list[tuple[str, Callable[[], object]]] = []
        # Several accounts (features/accounts.py): which account's state this icon shows, and the
        # tooltip's body in place of the one account's ("Work: 5h 42% · week 61%" per account).
        self.state_for: Callable[[AccountState], AccountState] | None = None
        self.describe: Callable[[AccountState | None], str | None] | None = None
        self._icon_key: IconKey | None = None  # what the icon shows now: no repaint when unchanged
        self.icon = QSystemTrayIcon(self)
        self.icon.setObjectName("claude-watch-tray")
        self.menu = QMenu()
        self.menu.setObjectName("tray-menu")
        self._opened = False  # the menu has been shown: its About line names the version
        self.menu.aboutToShow.connect(self._opening)
        self.rebuild_menu()
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._activated)
        self._paint()

    @staticmethod
    def available() -> bool:
        return QSystemTrayIcon.isSystemTrayAvailable()

    def show(self) -> None:
        self.icon.show()

    def hide(self) -> None:
        self.icon.hide()

    def set_state(self, state: AccountState) -> None:
        self.state = self.state_for(state) if self.state_for is not None else state
        self._paint()

    def set_needs_you(self, count: int) -> None:
        """Show (count > 0) or drop the badge of sessions waiting for the user."""
        self.needs_you = max(0, count)
        self._paint()

    def follow_pause(self, alerts: AlertService) -> None:
        """Show the pause held by ``alerts`` and repaint whenever it emits ``paused_changed``."""
        self._alerts = alerts
        alerts.paused_changed.connect(self._pause_changed)
        self._pause_changed()

    @property
    def paused_until(self) -> datetime | None:
        """The alert service's pause end (None before :meth:`follow_pause` or when not paused)."""
        return self._alerts.paused_until if self._alerts is not None else None

    def _pause_changed(self, _until: object = None) -> None:
        self.refresh_tooltip()

    def refresh_tooltip(self) -> None:
        """Recompute the tooltip's countdowns (called by a slow timer)."""
        self.icon.setToolTip(humanize.display_text(self.tooltip()))

    def tooltip(self) -> str:
        described = self.describe(self.state) if self.describe is not None else None
        if described:
            text = described
        elif self.state is None:
            text = "Claude Watch\nWaiting for the first reading…"
        else:
            text = humanize.tooltip_text(self.state, self.clock.now())
        if self.state is not None and self.paused_until is not None and self.paused_until > self.clock.now():
            text += f"\nAlerts paused until {humanize.format_clock(self.paused_until, self.clock.now())}"
        if self.needs_you:
            n = self.needs_you
            text += f"\n{n} Claude Code session{'s need' if n > 1 else ' needs'} you"
        for line in self.tooltip_lines:
            extra = line()
            if extra:
                text += f"\n{extra}"
        return text

    def _paint(self) -> None:
        screen = QGuiApplication.primaryScreen()
        dpr = screen.devicePixelRatio() if screen is not None else 1.0
        key = icon_key(self.state, dpr, self.template, self.needs_you)
        if key != self._icon_key:
            self._icon_key = key
            self.icon.setIcon(make_icon(self.state, dpr, self.template, self.needs_you))
        self.icon.setToolTip(humanize.display_text(self.tooltip()))

    def anchor(self) -> Rect | None:
        g = self.icon.geometry()
        if g.isEmpty():
            return None
        return Rect(g.x(), g.y(), g.width(), g.height())

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self.dashboard_requested.emit(self.anchor())

    def _opening(self) -> None:
        self._opened = True
        self.rebuild_menu()

    def rebuild_menu(self) -> None:
        """Rebuild the menu's actions (connected to ``aboutToShow``)."""
        m = self.menu
        m.clear()
        open_action = QAction("Open dashboard", m)
        open_action.triggered.connect(lambda: self.dashboard_requested.emit(self.anchor()))
        m.addAction(open_action)
        m.setDefaultAction(open_action)
        browser = QAction("Open in browser", m)
        browser.setObjectName("open-in-browser")
        browser.triggered.connect(self.open_in_browser_requested)
        m.addAction(browser)
        refresh = QAction("Refresh now", m)
        refresh.triggered.connect(self.refresh_requested)
        m.addAction(refresh)
        for text, run in self.menu_entries:
            entry = QAction(text, m)
            entry.triggered.connect(lambda _checked=False, run=run: run())
            m.addAction(entry)
        m.addSeparator()
        now = self.clock.now()
        pause = m.addMenu("Pause alerts")
        pause.setObjectName("pause-menu")
        if self.paused_until is not None and self.paused_until > now:
            pause.setTitle(f"Alerts paused until {humanize.format_clock(self.paused_until, now)}")
            resume = QAction("Resume alerts", pause)
            resume.triggered.connect(lambda: self.pause_requested.emit(None))
            pause.addAction(resume)
        hour = QAction("For 1 hour", pause)
        hour.triggered.connect(lambda: self.pause_requested.emit(self.clock.now() + timedelta(hours=1)))
        pause.addAction(hour)
        until = QAction("Until tomorrow", pause)
        until.triggered.connect(lambda: self.pause_requested.emit(tomorrow_morning(self.clock.now())))
        pause.addAction(until)
        settings = QAction("Settings…", m)
        settings.triggered.connect(self.settings_requested)
        m.addAction(settings)
        m.addSeparator()
        from trayapp import APP_NAME, version

        # The About line: name and version. The version is read when the menu first opens: its
        # metadata lookup loads importlib.metadata (over 1 MB resident) that an idle app never needs.
        about = QAction(f"{APP_NAME} {version()}" if self._opened else APP_NAME, m)
        about.setObjectName("about")
        about.setEnabled(False)
        m.addAction(about)
        quit_action = QAction("Quit Claude Watch", m)
        quit_action.triggered.connect(self.quit_requested)
        m.addAction(quit_action)

    def action_texts(self) -> list[str]:
        """The menu's entries as shown (for tests and the self-test)."""
        return [a.text() for a in self.menu.actions() if not a.isSeparator()]

    def show_message(self, title: str, body: str, critical: bool = False) -> None:
        """The tray's own balloon, used when no notification server is available."""
        icon = QSystemTrayIcon.MessageIcon.Warning if critical else QSystemTrayIcon.MessageIcon.Information
        text = humanize.display_text  # "run `claude-watch hooks --install`": no literal backticks
        self.icon.showMessage(text(title), text(body), icon, 10000)
