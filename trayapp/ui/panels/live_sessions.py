"""Popup panel listing the Claude Code sessions active in the last few minutes.

Each row shows the project, the model, a context-window fill bar with its percentage, the
session's cost, its duration and the lines added and removed, from the session's latest
statusline capture. The panel is a view: :class:`~trayapp.services.live_sessions.LiveSessionsService`
reads the captures (off the GUI thread, only while the panel is visible, backing off when the
reader fails) and :func:`make_panel` wires its ``sessions_changed`` to :meth:`set_sessions` and
the panel's ``visibility_changed`` to the service's start and stop. When no session is live the
panel says how to connect Claude Code.

Signals:
    visibility_changed(bool): the panel was shown (True) or hidden (False).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from trayapp.core.humanize import format_duration, format_money, format_percent
from trayapp.sources.statusline_capture import LiveSession
from trayapp.ui.panels.sessions import ContextBar
from trayapp.ui.theme import Theme, muted_style, text_style

if TYPE_CHECKING:
    from trayapp.services.live_sessions import LiveSessionsService

log = logging.getLogger(__name__)

MAX_ROWS = 8
EMPTY_TEXT = (
    "No Claude Code session in the last 5 minutes.\n"
    "Run `claude-watch statusline --install` to connect Claude Code."
)


def detail_text(s: LiveSession) -> str:
    """The second line of a row: ``ctx 42% · $1.23 · 1 h 5 min · +48 −6`` (``core.humanize``)."""
    parts: list[str] = []
    if s.context_percent is not None:
        parts.append(f"ctx {format_percent(s.context_percent)}")
    if s.cost_usd is not None:
        parts.append(format_money(s.cost_usd))
    if s.duration is not None:
        parts.append(format_duration(s.duration))
    if s.lines_added is not None or s.lines_removed is not None:
        parts.append(f"+{s.lines_added or 0} \u2212{s.lines_removed or 0}")
    return " \u00b7 ".join(parts)


class SessionRow(QWidget):
    """One live session: title line, context bar, detail line."""

    def __init__(self, session: LiveSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 3, 0, 3)
        box.setSpacing(2)
        top = QHBoxLayout()
        self.title = QLabel(session.project)
        self.title.setStyleSheet("font-weight: 600;")
        self.title.setToolTip(session.project_dir or "")
        self.model = QLabel(session.model or "")
        self.model.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        top.addWidget(self.title, 1)
        top.addWidget(self.model)
        box.addLayout(top)
        self.bar = ContextBar()
        self.bar.set_percent(session.context_percent)
        self.bar.setVisible(session.context_percent is not None)
        box.addWidget(self.bar)
        self.detail = QLabel(detail_text(session))
        self.detail.setStyleSheet("color: palette(mid);")
        box.addWidget(self.detail)
        if session.session_name:
            self.setToolTip(session.session_name)

    def set_theme(self, theme: Theme) -> None:
        self.title.setStyleSheet(text_style(theme, "font-weight: 600;"))
        self.model.setStyleSheet(muted_style(theme))
        self.detail.setStyleSheet(muted_style(theme))
        self.bar.set_theme(theme)


class LiveSessionsPanel(QWidget):
    """The live-sessions section of the popup (see the module docstring)."""

    visibility_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service: LiveSessionsService | None = None  # kept alive by the panel (make_panel)
        self.rows: list[SessionRow] = []
        self.theme: Theme | None = None  # the popup's, once set_theme ran
        root = QVBoxLayout(self)
        root.setContentsMargins(16, 8, 16, 8)
        root.setSpacing(4)
        self.heading = QLabel("Claude Code sessions")
        self.heading.setStyleSheet("font-weight: 600;")
        root.addWidget(self.heading)
        self.list_box = QVBoxLayout()
        self.list_box.setSpacing(2)
        root.addLayout(self.list_box)
        self.empty = QLabel(EMPTY_TEXT)
        self.empty.setWordWrap(True)
        self.empty.setStyleSheet("color: palette(mid);")
        root.addWidget(self.empty)

    # ----- public API
    def set_theme(self, theme: Theme) -> None:
        """Follow the popup's palette (called by ``Popup.add_panel`` and on theme changes)."""
        self.theme = theme
        self.heading.setStyleSheet(text_style(theme, "font-weight: 600;"))
        self.empty.setStyleSheet(muted_style(theme))
        for row in self.rows:
            row.set_theme(theme)

    def set_sessions(self, sessions: Sequence[LiveSession]) -> None:
        """Rebuild the rows (GUI thread)."""
        for row in self.rows:
            self.list_box.removeWidget(row)
            row.deleteLater()
        self.rows = [SessionRow(s, self) for s in list(sessions)[:MAX_ROWS]]
        for row in self.rows:
            if self.theme is not None:
                row.set_theme(self.theme)
            self.list_box.addWidget(row)
        self.empty.setVisible(not self.rows)
        self.heading.setText(
            f"Claude Code sessions ({len(sessions)})" if sessions else "Claude Code sessions"
        )
        self.adjustSize()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.visibility_changed.emit(True)

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        self.visibility_changed.emit(False)


def make_panel(service: LiveSessionsService) -> LiveSessionsPanel:
    """The panel as the app wires it: ``popup.add_panel(make_panel(service))``. The service reads
    while the panel is visible and the panel shows what it reads."""
    panel = LiveSessionsPanel()
    panel.service = service
    service.sessions_changed.connect(panel.set_sessions)
    panel.visibility_changed.connect(lambda shown: service.start() if shown else service.stop())
    return panel
