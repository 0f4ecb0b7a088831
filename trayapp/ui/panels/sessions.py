"""Popup panel listing every Claude Code session on the machine (issue 13).

One row per :class:`~trayapp.core.sessions.Session`: the project in bold, a state chip (Working,
Needs you, Idle, Done, Failed), how long it has been in that state, the model, the context fill
as a bar and a percentage, the cost so far and, for a session that waits for you, the reason (the
prompt's first line, elided). When Claude Code's telemetry reaches the app (``claude-watch
telemetry --install``), the cost and the tokens so far are its live figures, labelled "Claude
Code telemetry (local estimate)" in a caption and in the row's tooltip (:meth:`set_telemetry`).
"Needs you" rows carry a filled chip and an accent stripe; the list
arrives sorted (needs-you first) and keeps that order. Each row has an "Open" button: the panel
only emits ``open_requested(session_id)``; the app decides (focus the terminal, else
:meth:`SessionsPanel.highlight` the row). With no session the panel says how to connect Claude
Code. The list shows at most :data:`MAX_VISIBLE` rows and scrolls beyond, with a "+N more" line,
so twenty sessions do not push the popup off the screen.

The panel is a view: the sessions service reads and merges the sources, :func:`make_panel` wires
its ``sessions_changed`` to :meth:`SessionsPanel.set_sessions`. Durations are computed from the
injected clock and refreshed every :data:`TICK_MS` while the panel is visible.

Signals:
    open_requested(str): the "Open" button of the row for this session id was pressed.
    visibility_changed(bool): the panel was shown (True) or hidden (False).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor, QHideEvent, QPainter, QPaintEvent, QShowEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from trayapp import runtime
from trayapp.core.clock import Clock, SystemClock
from trayapp.core.humanize import format_duration, format_money, format_percent, format_tokens
from trayapp.core.models import Level
from trayapp.core.sessions import Session, SessionState
from trayapp.core.telemetry import LABEL, SessionFigures, TelemetryTotals
from trayapp.ui.panels import button_style, chip_style
from trayapp.ui.panels.widgets import ContextBar, ElidedLabel
from trayapp.ui.theme import LIGHT, Theme, muted_style, text_style

MAX_VISIBLE = 5  # rows shown before the list scrolls
TICK_MS = 15_000  # "for 3 min" refresh while visible
HIGHLIGHT_MS = 2_500
HEADING = "Claude Code sessions"
EMPTY_TEXT = (
    "No Claude Code session running.\n"
    "To connect Claude Code, run:\n"
    "  claude-watch hooks --install\n"
    "  claude-watch statusline --install"
)
STATE_WORDS = {
    SessionState.WORKING: "Working",
    SessionState.NEEDS_YOU: "Needs you",
    SessionState.IDLE: "Idle",
    SessionState.DONE: "Done",
    SessionState.FAILED: "Failed",
}


def state_colour(theme: Theme, state: SessionState) -> str:
    """The chip colour of ``state`` in ``theme`` (the accent marks what waits for you)."""
    return {
        SessionState.WORKING: theme.series[1],
        SessionState.NEEDS_YOU: theme.accent,
        SessionState.IDLE: theme.muted,
        SessionState.DONE: theme.levels[Level.OK],
        SessionState.FAILED: theme.levels[Level.AT_LIMIT],
    }[state]


def detail_text(session: Session, now: datetime, figures: SessionFigures | None = None) -> str:
    """The row's detail line: ``for 12 min · Opus 4.8 · $1.23`` (words from ``core.humanize``);
    with telemetry ``figures``, their cost and tokens: ``$1.25 · 1.2M tokens``."""
    parts: list[str] = []
    since = session.state_since or session.last_activity or session.started_at
    if since is not None:
        parts.append(f"for {format_duration(now - since)}")
    if session.model:
        parts.append(session.model)
    if figures is not None:
        parts.append(
            f"{format_money(figures.cost_usd)} \u00b7 {format_tokens(figures.tokens, compact=True)} tokens"
        )
    elif session.cost_usd is not None:
        parts.append(format_money(session.cost_usd))
    return " \u00b7 ".join(parts)


def figures_tip(figures: SessionFigures | None) -> str:
    """The detail line's tooltip: where the figures come from."""
    if figures is None:
        return ""
    requests = f"{figures.requests} request{'s' if figures.requests != 1 else ''}"
    return f"{LABEL}: {requests}, {format_tokens(figures.tokens)} tokens, {format_money(figures.cost_usd)}"


class SessionRow(QWidget):
    """One session: title line with chip and "Open", context bar, detail line, reason line."""

    open_clicked = Signal(str)

    def __init__(
        self,
        session: Session,
        now: datetime,
        parent: QWidget | None = None,
        figures: SessionFigures | None = None,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.figures = figures
        self.theme = LIGHT
        self.highlighted = False
        self.setObjectName("session-row")
        box = QVBoxLayout(self)
        box.setContentsMargins(10, 5, 6, 5)
        box.setSpacing(3)
        top = QHBoxLayout()
        top.setSpacing(6)
        self.title = ElidedLabel(session.name or session.project)
        self.title.setToolTip(session.project_dir or session.project)
        self.chip = QLabel(STATE_WORDS[session.state])
        self.chip.setObjectName("state-chip")
        self.open_button = QToolButton(text="Open")
        self.open_button.setToolTip("Bring this session's terminal to the front")
        self.open_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.open_button.clicked.connect(lambda: self.open_clicked.emit(session.session_id))
        top.addWidget(self.title, 1)
        top.addWidget(self.chip, 0, Qt.AlignmentFlag.AlignVCenter)
        top.addWidget(self.open_button, 0, Qt.AlignmentFlag.AlignVCenter)
        box.addLayout(top)
        ctx = QHBoxLayout()
        ctx.setSpacing(6)
        self.bar = ContextBar()
        self.bar.set_percent(session.context_percent)
        self.percent = QLabel(f"ctx {format_percent(session.context_percent)}")
        ctx.addWidget(self.bar, 1, Qt.AlignmentFlag.AlignVCenter)
        ctx.addWidget(self.percent)
        self.ctx_box = QWidget()
        self.ctx_box.setLayout(ctx)
        ctx.setContentsMargins(0, 0, 0, 0)
        self.ctx_box.setVisible(session.context_percent is not None)
        box.addWidget(self.ctx_box)
        self.detail = ElidedLabel("")
        self.detail.setToolTip(figures_tip(figures))
        box.addWidget(self.detail)
        self.reason = ElidedLabel(session.needs_you_reason or "")
        self.reason.setToolTip(session.needs_you_reason or "")
        self.reason.setVisible(session.state is SessionState.NEEDS_YOU and bool(session.needs_you_reason))
        box.addWidget(self.reason)
        self.tick(now)

    @property
    def needs_you(self) -> bool:
        return self.session.state is SessionState.NEEDS_YOU

    def tick(self, now: datetime) -> None:
        """Recompute the time-dependent text ("for 3 min")."""
        self.detail.setText(detail_text(self.session, now, self.figures))

    def set_figures(self, figures: SessionFigures | None, now: datetime) -> None:
        """Show this session's telemetry figures (None: none arrived)."""
        if figures == self.figures:
            return
        self.figures = figures
        self.detail.setToolTip(figures_tip(figures))
        self.tick(now)

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        colour = state_colour(theme, self.session.state)
        self.title.setStyleSheet(text_style(theme, "font-weight: 600;"))
        self.chip.setStyleSheet(chip_style(theme, colour, filled=self.needs_you))
        self.open_button.setStyleSheet(button_style(theme))
        self.percent.setStyleSheet(muted_style(theme, "font-size: 11px;"))
        self.detail.setStyleSheet(muted_style(theme))
        self.reason.setStyleSheet(f"background: transparent; color: {theme.accent};")
        self.bar.set_theme(theme)
        self.update()

    def set_highlighted(self, on: bool) -> None:
        self.highlighted = on
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        if not (self.needs_you or self.highlighted):
            return
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(QColor(self.theme.accent) if self.highlighted else Qt.PenStyle.NoPen)
        p.setBrush(QColor(self.theme.banner_bg if self.highlighted else self.theme.surface))
        p.drawRoundedRect(self.rect().adjusted(1, 1, -1, -1), 6, 6)
        if self.needs_you:  # the accent stripe on the left edge
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QColor(self.theme.accent))
            p.drawRoundedRect(1, 3, 3, self.height() - 6, 1.5, 1.5)
        p.end()


class SessionsPanel(QWidget):
    """The "Sessions" section of the popup (see the module docstring)."""

    open_requested = Signal(str)
    visibility_changed = Signal(bool)

    def __init__(self, clock: Clock | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.clock: Clock = clock or SystemClock()
        self.service: Any = None  # kept alive by the panel (make_panel)
        self.sessions: list[Session] = []
        self.rows: list[SessionRow] = []
        self.telemetry: dict[str, SessionFigures] = {}  # session id -> live figures
        self.theme: Theme = LIGHT
        root = QVBoxLayout(self)
        root.setContentsMargins(16, 8, 16, 10)
        root.setSpacing(4)
        self.heading = QLabel(HEADING)
        root.addWidget(self.heading)
        self.caption = QLabel(f"Costs and tokens: {LABEL}")
        self.caption.setToolTip(
            "Live figures Claude Code exports with OpenTelemetry (claude-watch telemetry --install); "
            "dollar figures are Claude Code's own estimates at list price."
        )
        self.caption.hide()
        root.addWidget(self.caption)
        self.list_scroll = QScrollArea()
        self.list_scroll.setObjectName("sessions-scroll")
        self.list_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.list_scroll.setWidgetResizable(True)
        self.list_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list_widget = QWidget()
        self.list_widget.setObjectName("sessions-list")
        self.list_box = QVBoxLayout(self.list_widget)
        self.list_box.setContentsMargins(0, 0, 0, 0)
        self.list_box.setSpacing(2)
        self.list_box.addStretch(1)
        self.list_scroll.setWidget(self.list_widget)
        self.list_scroll.hide()
        root.addWidget(self.list_scroll)
        self.more = QLabel("")
        self.more.hide()
        root.addWidget(self.more)
        self.empty = QLabel(EMPTY_TEXT)
        self.empty.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        root.addWidget(self.empty)
        self._ticker = QTimer(self)
        self._ticker.setInterval(TICK_MS)
        self._ticker.timeout.connect(self.tick)
        self._unhighlight = QTimer(self)
        self._unhighlight.setSingleShot(True)
        self._unhighlight.setInterval(HIGHLIGHT_MS)
        self._unhighlight.timeout.connect(self._clear_highlight)
        self.set_theme(LIGHT)

    # ----- public API
    def set_theme(self, theme: Theme) -> None:
        """Follow the popup's palette (called by ``Popup.add_panel`` and on theme changes)."""
        self.theme = theme
        self.heading.setStyleSheet(text_style(theme, "font-weight: 600;"))
        self.empty.setStyleSheet(muted_style(theme))
        self.caption.setStyleSheet(muted_style(theme, "font-size: 11px;"))
        self.more.setStyleSheet(muted_style(theme, "font-size: 11px;"))
        self.list_scroll.setStyleSheet("QScrollArea, #sessions-list { background: transparent; }")
        for row in self.rows:
            row.set_theme(theme)
        self._fit()

    def set_sessions(self, sessions: Sequence[Session]) -> None:
        """Show ``sessions`` in the order given (needs-you first, as the service sorts them).
        The same list again changes nothing (rebuilding 20 rows costs about 100 ms)."""
        if self.rows and list(sessions) == self.sessions:
            return
        self.sessions = list(sessions)
        for row in self.rows:
            self.list_box.removeWidget(row)
            row.hide()
            row.deleteLater()
        now = self.clock.now()
        self.rows = []
        for i, session in enumerate(self.sessions):
            row = SessionRow(session, now, self.list_widget, self.telemetry.get(session.session_id))
            row.set_theme(self.theme)
            row.open_clicked.connect(self.open_requested)
            self.list_box.insertWidget(i, row)
            # Shown now, not when the layout gets round to it: a row added to a visible list
            # stays hidden until then, and is measured (and squeezed) as zero height.
            row.show()
            self.rows.append(row)
        waiting = sum(1 for s in self.sessions if s.state is SessionState.NEEDS_YOU)
        heading = f"{HEADING} ({len(self.sessions)})" if self.sessions else HEADING
        self.heading.setText(
            f"{heading} \u00b7 {waiting} need{'s' if waiting == 1 else ''} you" if waiting else heading
        )
        hidden = len(self.rows) - MAX_VISIBLE
        self.more.setText(f"+{hidden} more \u2014 scroll the list" if hidden > 0 else "")
        self.more.setVisible(hidden > 0)
        self.empty.setVisible(not self.rows)
        self.list_scroll.setVisible(bool(self.rows))
        self._show_caption()
        self._fit()

    def set_telemetry(self, totals: TelemetryTotals | None) -> None:
        """Claude Code's telemetry totals (None: the receiver is off): each listed session's live
        cost and tokens, without rebuilding the rows."""
        self.telemetry = dict(totals.sessions) if totals is not None else {}
        now = self.clock.now()
        for row in self.rows:
            row.set_figures(self.telemetry.get(row.session.session_id), now)
        self._show_caption()

    def figures_for(self, session_id: str) -> SessionFigures | None:
        row = self.row_for(session_id)
        return row.figures if row is not None else None

    def _show_caption(self) -> None:
        self.caption.setVisible(any(row.figures is not None for row in self.rows))

    def highlight(self, session_id: str) -> bool:
        """Scroll to the row of ``session_id`` and mark it for a moment; False when not listed."""
        found = False
        for row in self.rows:
            on = row.session.session_id == session_id
            row.set_highlighted(on)
            if on:
                found = True
                self.list_scroll.ensureWidgetVisible(row, 0, 4)
        if found:
            self._unhighlight.start()
        return found

    def row_for(self, session_id: str) -> SessionRow | None:
        return next((r for r in self.rows if r.session.session_id == session_id), None)

    def tick(self) -> None:
        now = self.clock.now()
        for row in self.rows:
            row.tick(now)

    # ----- internals
    def _clear_highlight(self) -> None:
        for row in self.rows:
            row.set_highlighted(False)

    def _fit(self) -> None:
        """Size the scroll area to the first :data:`MAX_VISIBLE` rows, then ask the popup (when
        the panel sits in one) to fit its height again."""
        if self.rows:
            visible = self.rows[:MAX_VISIBLE]
            for row in visible:
                row.ensurePolished()
            height = sum(r.sizeHint().height() for r in visible)
            height += self.list_box.spacing() * (len(visible) - 1)
            self.list_scroll.setFixedHeight(height)
        self.updateGeometry()
        fit = getattr(self.window(), "fit_height", None)
        if self.window() is not self and callable(fit):
            fit(None)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.tick()
        self._ticker.start()
        self.visibility_changed.emit(True)

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        self._ticker.stop()
        self.visibility_changed.emit(False)


def make_panel(
    service: Any,
    clock: Clock | None = None,
    focus: Callable[[int | None], Awaitable[bool]] | None = None,
    telemetry: Any = None,
) -> SessionsPanel:
    """The panel as the app wires it: ``popup.add_panel(make_panel(service))``.

    ``service.sessions_changed`` feeds :meth:`SessionsPanel.set_sessions`; the list the service
    already holds (a ``sessions`` attribute, when it has one) is shown at once; the panel's
    visibility starts and stops the service when it has ``start``/``stop``. "Open" awaits
    ``focus(pid)`` (the app passes ``platform.focus.focus_terminal_off_thread``) and shows the
    row with :meth:`SessionsPanel.highlight` when that answers False or there is no ``focus``.
    ``telemetry`` (a ``TelemetryService``): its totals now and after every change feed
    :meth:`SessionsPanel.set_telemetry` (its listeners are called on the loop: the GUI thread).
    """
    panel = SessionsPanel(clock or getattr(service, "clock", None))
    panel.service = service
    service.sessions_changed.connect(panel.set_sessions)

    async def focus_or_highlight(session_id: str) -> None:
        row = panel.row_for(session_id)
        if focus is None or row is None or not await focus(row.session.pid):
            panel.highlight(session_id)

    panel.open_requested.connect(lambda sid: runtime.spawn(focus_or_highlight(sid), name="open session"))
    current = getattr(service, "sessions", None)
    if isinstance(current, list | tuple):
        panel.set_sessions(current)
    if telemetry is not None:
        unsubscribe = telemetry.subscribe(lambda: panel.set_telemetry(telemetry.totals()))
        panel.destroyed.connect(lambda *_: unsubscribe())
        panel.set_telemetry(telemetry.totals())
    start, stop = getattr(service, "start", None), getattr(service, "stop", None)
    if callable(start) and callable(stop):
        panel.visibility_changed.connect(lambda shown: start() if shown else stop())
    return panel
