"""Popup panel listing the Claude Code sessions active in the last few minutes.

Each row shows the project, the model, a context-window fill bar with its percentage, the
session's cost, its duration and the lines added and removed, from the session's latest
statusline capture (``trayapp.sources.statusline_capture.live_sessions``). Reading the capture
files is disk I/O, so :meth:`LiveSessionsPanel.refresh` runs the loader in a worker thread and
the rows are rebuilt on the GUI thread when the result arrives. While the panel is visible it
refreshes every few seconds; when no session is live it says how to connect Claude Code.

Signals:
    sessions_loaded(object): a list of ``LiveSession`` arrived from the worker thread.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, timedelta

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QHideEvent, QPainter, QPaintEvent, QShowEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from trayapp.core.clock import Clock, SystemClock
from trayapp.core.humanize import format_duration, format_money, format_percent
from trayapp.core.models import level_for
from trayapp.runtime import LoopHealth
from trayapp.sources.statusline_capture import LiveSession, live_sessions
from trayapp.ui.theme import LIGHT, Theme, muted_style, text_style

log = logging.getLogger(__name__)

LIVE_FOR = timedelta(minutes=5)
REFRESH_MS = 5000
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


class ContextBar(QWidget):
    """A thin bar showing the context-window fill, coloured by level."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.percent: float | None = None
        self.theme = LIGHT  # until the popup hands over its own (set_theme)
        self.setFixedHeight(4)

    def set_percent(self, percent: float | None) -> None:
        self.percent = percent
        self.update()

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.update()

    def colour(self) -> QColor:
        return QColor(self.theme.levels[level_for(self.percent or 0)])

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt API)
        return QSize(120, 4)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt API)
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(self.theme.track))
        p.drawRoundedRect(self.rect(), 2, 2)
        if self.percent:
            filled = self.rect()
            filled.setWidth(max(2, int(self.width() * min(self.percent, 100) / 100)))
            p.setBrush(self.colour())
            p.drawRoundedRect(filled, 2, 2)
        p.end()


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

    sessions_loaded = Signal(object)

    def __init__(
        self,
        loader: Callable[[], Sequence[LiveSession]] | None = None,
        clock: Clock | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.clock = clock or SystemClock()
        self.loader = loader or self._default_loader
        self._pool: ThreadPoolExecutor | None = None
        self._pending = False
        self._health = LoopHealth("live sessions reader")
        self._retry_at = 0.0  # time.monotonic() before which a failed reader is not asked again
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
        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self.refresh)
        self.sessions_loaded.connect(self._on_loaded)

    def _default_loader(self) -> list[LiveSession]:
        return live_sessions(self.clock.now().astimezone(UTC), LIVE_FOR)

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

    def refresh(self) -> None:
        """Load the sessions in a worker thread; the rows update when they arrive."""
        if self._pending or time.monotonic() < self._retry_at:
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="live-sessions")
        self._pending = True
        self._pool.submit(self._load)

    def shutdown(self) -> None:
        self.timer.stop()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    # ----- internals
    def _load(self) -> None:
        try:
            sessions: list[LiveSession] = list(self.loader())
        except Exception as exc:  # logged once and backed off, not retried every few seconds
            self._retry_at = time.monotonic() + self._health.failed(exc)
            sessions = []
        else:
            self._health.succeeded()
        self.sessions_loaded.emit(sessions)  # queued to the GUI thread

    def _on_loaded(self, sessions: object) -> None:
        self._pending = False
        if isinstance(sessions, list):
            self.set_sessions(sessions)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt API)
        super().showEvent(event)
        self.refresh()
        self.timer.start()

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802 (Qt API)
        super().hideEvent(event)
        self.timer.stop()


def make_panel(clock: Clock | None = None) -> LiveSessionsPanel:
    """The panel as the app wires it: ``popup.add_panel(make_panel(clock))``."""
    return LiveSessionsPanel(clock=clock)
