"""The popup dashboard: a frameless panel anchored at the tray icon.

From top to bottom: the header (plan, account, Refresh and Settings buttons), a banner when the
data are stale or a fetch failed (with the fix), a gauge per window (5-hour, weekly, each
model-scoped weekly limit) and extra usage in its currency, the timeline with its 24 h / 7 d
switch, the panels other parts of the app add (:meth:`Popup.add_panel`), and a footer with the
data's age and source. Countdowns tick once a second, only while the popup is visible. It hides
on Escape and when it loses focus; with no system tray it is an ordinary window instead.

Signals:
    refresh_requested: the Refresh button was pressed.
    settings_requested: the Settings button was pressed.
    range_changed(str): the timeline range switched to "24h" or "7d".
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

import shiboken6
from PySide6.QtCore import QEvent, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QGuiApplication, QKeyEvent, QPainter, QPaintEvent, QPen, QScreen
from PySide6.QtWidgets import (
    QButtonGroup,
    QLabel,
    QPushButton,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from trayapp.core.clock import Clock, SystemClock
from trayapp.core.models import AccountState
from trayapp.runtime import spawn
from trayapp.settings import Settings
from trayapp.ui import popup_layout
from trayapp.ui.gauges import ExtraUsageRow, GaugeRow
from trayapp.ui.placement import Rect, place_popup
from trayapp.ui.popup_layout import WIDTH
from trayapp.ui.theme import Theme, resolve
from trayapp.ui.timeline import Timeline
from trayapp.ui.timeline_model import Row, view_span

log = logging.getLogger(__name__)

MIN_BODY = 160  # the least the scrolling body shrinks to (about two gauges)
FOCUS_GRACE = 0.5  # seconds after opening during which a focus loss does not close the popup
REFRESH_TIMEOUT_MS = 15_000  # a Refresh that never answers stops looking busy after this
# Rows at once, or an awaitable of them (read off the GUI thread).
HistoryLoader = Callable[[datetime], Sequence[Row] | Awaitable[Sequence[Row]]]
# What :meth:`Popup.apply_settings` reads (checked against the schema when the popup follows).
FOLLOWED_SETTINGS = (
    "ui.theme",
    "ui.timeline_range",
    "alerts.five_hour_thresholds",
    "alerts.weekly_thresholds",
)


class Popup(QWidget):
    refresh_requested = Signal()
    settings_requested = Signal()
    range_changed = Signal(str)

    # Widgets made by popup_layout.build.
    title: QLabel
    account: QLabel
    refresh_button: QToolButton
    settings_button: QToolButton
    banner: QLabel
    body: QWidget
    body_scroll: QScrollArea
    placeholder: QLabel
    gauge_box: QVBoxLayout
    section_label: QLabel
    range_group: QButtonGroup
    range_buttons: dict[str, QPushButton]
    timeline: Timeline
    panel_box: QVBoxLayout
    top_box: QVBoxLayout
    footer: QLabel

    def __init__(self, clock: Clock | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("popup")
        self.setWindowTitle("Claude Watch")
        self.clock: Clock = clock or SystemClock()
        self._max_height: int | None = None  # the screen limit fit_height last applied
        self._anchor: Rect | None = None  # the tray icon the popup was last shown at
        self._cursor = (0, 0)  # where the mouse was then
        self._panels: list[QWidget] = []
        self.state: AccountState | None = None
        # Which state a reading shows: several accounts map the app's to the account chosen.
        self.state_for: Callable[[AccountState], AccountState] | None = None
        self.theme_setting = "system"
        self.theme: Theme = resolve("system")
        self.range_key = "24h"
        self.thresholds: tuple[int, ...] = (50, 75, 90)
        self.history_loader: HistoryLoader | None = None
        self._history_asked = 0  # reloads started; a late answer to an older one is dropped
        self.window_mode = False
        self._last_hidden = 0.0
        self._banner_error = False
        self._shown_at = 0.0
        self._gauges: dict[str, GaugeRow] = {}
        self._extra: ExtraUsageRow | None = None
        self._set_popup_flags()
        popup_layout.build(self)
        self._ticker = QTimer(self)
        self._ticker.setInterval(1000)
        self._ticker.timeout.connect(self._tick)
        self.refreshing = False  # from a Refresh click until the next reading (or a timeout)
        self._refresh_timeout = QTimer(self, singleShot=True, interval=REFRESH_TIMEOUT_MS)
        self._refresh_timeout.timeout.connect(lambda: self.set_refreshing(False))
        self.apply_theme()
        QGuiApplication.styleHints().colorSchemeChanged.connect(self._system_scheme_changed)

    def _system_scheme_changed(self) -> None:
        if self.theme_setting == "system":
            self.apply_theme()

    # ----- construction
    def _set_popup_flags(self) -> None:
        self.setWindowFlags(
            Qt.WindowType.Tool | Qt.WindowType.FramelessWindowHint | Qt.WindowType.WindowStaysOnTopHint
        )

    # ----- public API
    def request_refresh(self) -> None:
        """The Refresh button: busy until the reading that answers it arrives (:meth:`set_state`)."""
        self.set_refreshing(True)
        self.refresh_requested.emit()

    def set_refreshing(self, on: bool) -> None:
        """Show (or end) the busy state: the button is disabled and the footer says so."""
        self.refreshing = on
        self.refresh_button.setEnabled(not on)
        self.refresh_button.setToolTip("Refreshing…" if on else "Refresh now")
        if on:
            self.footer.setText("Refreshing…")
            self._refresh_timeout.start()
        else:
            self._refresh_timeout.stop()
            self._tick()

    def add_panel(self, widget: QWidget) -> None:
        """Add a section below the timeline (local usage, live sessions...), or under the header
        when the widget's ``popup_slot`` is "top" (the account strip)."""
        popup_layout.add_panel(self, widget)
        self.fit_height(None)

    def _theme_panel(self, panel: QWidget) -> None:
        set_theme = getattr(panel, "set_theme", None)  # optional (see trayapp.ui.panels)
        if callable(set_theme):
            set_theme(self.theme)

    def fit_height(self, max_height: int | None) -> None:
        """Give the body (gauges, timeline, panels) its natural height, or less so the whole popup
        stays within ``max_height`` pixels (remembered: a reading that adds gauges while the popup
        is open keeps it on screen); the body then scrolls. Heights are measured for the popup's
        width (wrapped text: the banner, a two-line pace sentence), so the header, banner, body and
        footer never overlap. A popup that is showing is placed again when its height changed."""
        if max_height is not None:
            self._max_height = max_height
        before = self.height()
        popup_layout.fit(self, self._max_height, MIN_BODY)
        if self.isVisible() and not self.window_mode and self.height() != before:
            self._place()

    def set_history_loader(self, loader: HistoryLoader | None) -> None:
        """``loader(since)`` returns history rows; called when the popup shows or the range changes."""
        self.history_loader = loader

    def apply_settings(self, get: Callable[[str], object]) -> None:
        """Take ``ui.theme``, ``ui.timeline_range`` and the alert thresholds from settings."""
        theme = str(get("ui.theme"))
        values: set[int] = set()
        for key in ("alerts.five_hour_thresholds", "alerts.weekly_thresholds"):
            raw = get(key)
            if isinstance(raw, list | tuple):
                values.update(int(v) for v in raw)
        self.thresholds = tuple(sorted(values)) or (50, 75, 90)
        self.set_range(str(get("ui.timeline_range")), emit=False)
        if theme != self.theme_setting:
            self.theme_setting = theme
            self.apply_theme()

    def follow(self, settings: Settings) -> None:
        """Take the theme, range and thresholds from ``settings`` now, and again whenever a save or
        a reload of the file changes them."""
        self.apply_settings(settings.get)
        self.destroyed.connect(settings.subscribe(FOLLOWED_SETTINGS, self._settings_changed))

    def _settings_changed(self, keys: list[str], settings: Settings) -> None:
        self.apply_settings(settings.get)
        if self.state is not None:
            self.set_state(self.state)  # the thresholds mark the gauges

    def set_range(self, key: str, emit: bool = False) -> None:
        if key not in self.range_buttons:
            return
        changed = key != self.range_key
        self.range_key = key
        self.range_buttons[key].setChecked(True)
        if changed:
            self.reload_history()
            if emit:
                self.range_changed.emit(key)

    def set_window_mode(self, on: bool) -> None:
        """Show as a normal window (no tray available) instead of a popup panel."""
        self.window_mode = on
        visible = self.isVisible()
        if on:
            self.setWindowFlags(Qt.WindowType.Window)
        else:
            self._set_popup_flags()
        if visible:
            self.show()

    def set_state(self, state: AccountState) -> None:
        if self.state_for is not None:
            state = self.state_for(state)
        self.state = state
        self.refreshing = False  # this reading answers a Refresh click, if one is pending
        now = self.clock.now()
        has_data = state.snapshot is not None
        self.placeholder.setVisible(not has_data)
        if state.snapshot is None and state.error is None:
            self.placeholder.setText("Waiting for the first reading…")
        elif state.snapshot is None:
            self.placeholder.setText("No reading yet")
        seen: set[str] = set()
        for ws in state.windows:
            wid = ws.window.id
            seen.add(wid)
            row = self._gauges.get(wid)
            if row is None:
                row = GaugeRow(ws, now)
                row.set_theme(self.theme)
                self._gauges[wid] = row
            row.set_value(ws, now, stale=state.stale)
        for wid in list(self._gauges):
            if wid not in seen:
                self._drop(self._gauges.pop(wid))
        # Re-insert in the state's order (5-hour, weekly, scoped...).
        for i, ws in enumerate(state.windows):
            row = self._gauges[ws.window.id]
            self.gauge_box.insertWidget(i, row)
            row.show()  # after insertWidget (which parents it): else a new row stays hidden while open
        extra = state.snapshot.extra_usage if state.snapshot else None
        if extra is not None:
            if self._extra is None:
                self._extra = ExtraUsageRow(extra)
                self._extra.set_theme(self.theme)
                self.gauge_box.addWidget(self._extra)
                self._extra.show()
            self._extra.set_value(extra)
        elif self._extra is not None:
            self._drop(self._extra)
            self._extra = None
        self._update_texts(now)
        self.set_refreshing(False)
        if self.isVisible():
            self.reload_history()
        self.fit_height(None)

    def _drop(self, row: QWidget) -> None:
        self.gauge_box.removeWidget(row)
        row.hide()
        row.deleteLater()

    def gauge(self, window_id: str) -> GaugeRow | None:
        return self._gauges.get(window_id)

    def gauges(self) -> list[GaugeRow]:
        return [self._gauges[ws.window.id] for ws in self.state.windows] if self.state else []

    @property
    def extra_row(self) -> ExtraUsageRow | None:
        return self._extra

    def reload_history(self) -> None:
        """Ask the loader for the range's rows; an awaitable answer (the app's loader reads SQLite
        on a worker thread) is drawn when it arrives, unless a newer reload overtook it."""
        now = self.clock.now()
        rows: Sequence[Row] | Awaitable[Sequence[Row]] = ()
        if self.history_loader is not None:
            since, _ = view_span(now, self.range_key)
            try:
                rows = self.history_loader(since)
            except Exception:
                log.exception("could not load history for the timeline")
        self._history_asked += 1
        if inspect.isawaitable(rows):
            later = self._draw_history_later(rows, self._history_asked, now)
            try:
                spawn(later, name="popup-history")
            except RuntimeError:  # no running loop (a test or a shutdown): nothing to draw into
                later.close()
                if inspect.iscoroutine(rows):
                    rows.close()
            return
        self.timeline.set_data(rows, self.state, now, self.range_key, self.thresholds)

    async def _draw_history_later(self, pending: Awaitable[Sequence[Row]], asked: int, now: datetime) -> None:
        try:
            rows = await pending
        except Exception:
            log.exception("could not load history for the timeline")
            rows = ()
        if asked == self._history_asked and shiboken6.isValid(self):
            self.timeline.set_data(rows, self.state, now, self.range_key, self.thresholds)

    def toggle_at(self, anchor: Rect | None) -> None:
        """Show next to ``anchor`` (the tray icon), or hide when showing; ignores the click that
        just closed it by focus loss."""
        if self.isVisible():
            self.hide()
            return
        if self.clock.monotonic() - self._last_hidden < 0.3:
            return
        self.show_at(anchor)

    def show_at(self, anchor: Rect | None) -> None:
        from PySide6.QtGui import QCursor

        log.info("dashboard shown (anchor %s)", anchor)
        self._anchor = anchor
        cursor = QCursor.pos()  # stands in for an unknown icon position, also when placed again
        self._cursor = (cursor.x(), cursor.y())
        self.reload_history()
        screen = self._screen()
        # Leave room for the panel the tray sits in and a margin, whichever edge it is on.
        self.fit_height(screen.availableGeometry().height() - 72 if screen is not None else None)
        if not self.window_mode:
            self._place()
        self.body_scroll.verticalScrollBar().setValue(0)  # it opens at the gauges, not where it was left
        self.show()
        self.raise_()
        self.activateWindow()

    def _screen(self) -> QScreen | None:
        from PySide6.QtCore import QPoint

        return QGuiApplication.screenAt(QPoint(*self._cursor)) or QGuiApplication.primaryScreen()

    def _place(self) -> None:
        """Move next to the tray icon (or where the click was, when the icon's place is unknown)."""
        screen = self._screen()
        if screen is None:
            return
        ag, sg = screen.availableGeometry(), screen.geometry()
        size = self.sizeHint()
        x, y = place_popup(
            (max(size.width(), WIDTH), size.height()),
            self._anchor,
            self._cursor,
            Rect(ag.x(), ag.y(), ag.width(), ag.height()),
            Rect(sg.x(), sg.y(), sg.width(), sg.height()),
        )
        self.move(x, y)

    # ----- text
    def _update_texts(self, now: datetime) -> None:
        if self.state is not None:
            popup_layout.update_texts(self, self.state, now)

    def _tick(self) -> None:
        now = self.clock.now()
        if self.refreshing:
            pass  # the footer says "Refreshing…" until the answer
        elif (
            self.state is not None and self.state.age_seconds is not None and self.state.snapshot is not None
        ):
            age = (now - self.state.snapshot.fetched_at).total_seconds()
            self.footer.setText(popup_layout.footer_text(age, self.state.snapshot.source))
        for row in self._gauges.values():
            row.tick(now)

    # ----- look
    def apply_theme(self) -> None:
        self.theme = resolve(self.theme_setting)
        popup_layout.apply_look(self)
        self.update()

    @property
    def banner_is_error(self) -> bool:
        return self._banner_error

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(self.theme.bg))
        if not self.window_mode:
            p.setPen(QPen(QColor(self.theme.border), 1))
            p.drawRect(self.rect().adjusted(0, 0, -1, -1))
        p.end()

    def sizeHint(self) -> QSize:
        return QSize(WIDTH, popup_layout.needed_height(self))

    # ----- behaviour
    def showEvent(self, event: object) -> None:
        self._shown_at = self.clock.monotonic()
        self._tick()
        self._ticker.start()

    def hideEvent(self, event: object) -> None:
        log.info("dashboard hidden")
        self._ticker.stop()
        self._last_hidden = self.clock.monotonic()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.hide()
            return
        super().keyPressEvent(event)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.ActivationChange and not self.window_mode:
            if self.isVisible() and not self.isActiveWindow():
                # Give the click that moved focus a moment, then close like a menu would.
                QTimer.singleShot(0, self._hide_if_inactive)
        super().changeEvent(event)

    def _hide_if_inactive(self) -> None:
        if not self.isVisible() or self.isActiveWindow() or self.window_mode:
            return
        if self.clock.monotonic() - self._shown_at < FOCUS_GRACE:
            # Focus bounced away right after opening (the tray host or focus-stealing prevention
            # took it back): that is not the user leaving, so take it again instead of closing.
            log.info("dashboard lost focus while opening: reactivating")
            self.activateWindow()
            return
        log.info("dashboard lost focus: hiding")
        self.hide()

    @property
    def ticking(self) -> bool:
        return self._ticker.isActive()
