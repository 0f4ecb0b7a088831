"""The popup's "Agents" section: the first few agents (ours and the Claude Code sessions we did not
start), each with its state chip, detail line and last activity, a "n more…" line, and the buttons
"New agent…" and "All agents…".

A view: :meth:`AgentsPanel.set_items` takes the merged list (``ui.agents_rows.agent_items``),
coalesced to at most ~5 repaints a second whatever the stream rate; the buttons emit intents.

Signals:
    open_requested(str): open the agents window at this task id ("" for the whole list).
    new_requested(): the "New agent…" button.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from trayapp.core.agents import TaskState
from trayapp.core.clock import Clock, SystemClock
from trayapp.ui.agents_rows import AgentItem, AgentRow, Coalescer, sync_rows
from trayapp.ui.coalescer import COALESCE_MS, HIDDEN_MS
from trayapp.ui.panels import button_style
from trayapp.ui.panels.widgets import ElidedLabel
from trayapp.ui.theme import LIGHT, Theme, muted_style, text_style

MAX_ROWS = 3  # the popup shows the first few; the window shows all
TICK_MS = 15_000
HEADING = "Agents"
EMPTY_TEXT = (
    "No agent yet. Start one with New agent…, or from a terminal:\n  claude-watch agents run PROMPT --dir DIR"
)


def heading_text(items: Sequence[AgentItem]) -> str:
    """``Agents (5) · 2 running · 1 waiting``."""
    if not items:
        return HEADING
    states = [i.task.state for i in items]
    running = sum(s in (TaskState.RUNNING, TaskState.STARTING, TaskState.NEEDS_YOU) for s in states)
    waiting = sum(s in (TaskState.QUEUED, TaskState.HELD) for s in states)
    parts = [f"{HEADING} ({len(items)})"]
    if running:
        parts.append(f"{running} running")
    if waiting:
        parts.append(f"{waiting} waiting")
    return " \u00b7 ".join(parts)


class AgentsPanel(QWidget):
    """The "Agents" section of the popup (see the module docstring)."""

    open_requested = Signal(str)
    shown = Signal()  # the feature brings its list up to date (it, too, waits while nothing shows)
    new_requested = Signal()

    def __init__(self, clock: Clock | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("agents-panel")
        self.clock: Clock = clock or SystemClock()
        self.items: list[AgentItem] = []
        self.rows: list[AgentRow] = []
        self.theme: Theme = LIGHT
        self.renders = 0  # how many times the rows were brought up to date (tests)
        root = QVBoxLayout(self)
        root.setContentsMargins(16, 8, 16, 10)
        root.setSpacing(4)
        top = QHBoxLayout()
        self.heading = ElidedLabel(HEADING)  # elides rather than widening the popup
        top.addWidget(self.heading, 1)
        self.new_button = QToolButton(text="New agent…")
        self.new_button.setObjectName("new-agent")
        self.new_button.clicked.connect(self.new_requested)
        self.all_button = QToolButton(text="All agents…")
        self.all_button.setObjectName("all-agents")
        self.all_button.clicked.connect(lambda: self.open_requested.emit(""))
        top.addWidget(self.new_button)
        top.addWidget(self.all_button)
        root.addLayout(top)
        self.list_box = QVBoxLayout()
        self.list_box.setSpacing(2)
        root.addLayout(self.list_box)
        self.more = QToolButton(text="")
        self.more.setObjectName("agents-more")
        self.more.setAutoRaise(True)
        self.more.clicked.connect(lambda: self.open_requested.emit(""))
        self.more.hide()
        root.addWidget(self.more, 0, Qt.AlignmentFlag.AlignLeft)
        self.empty = QLabel(EMPTY_TEXT)
        self.empty.setWordWrap(True)
        self.empty.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        root.addWidget(self.empty)
        self.coalescer = Coalescer(self._render, HIDDEN_MS, parent=self)  # the popup starts hidden
        self._ticker = QTimer(self)
        self._ticker.setInterval(TICK_MS)
        self._ticker.timeout.connect(self.tick)
        self.set_theme(LIGHT)

    def set_items(self, items: Sequence[AgentItem]) -> None:
        """Show ``items`` (coalesced: the latest list wins)."""
        self.coalescer.push(list(items))

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.heading.setStyleSheet(text_style(theme, "font-weight: 600;"))
        for button in (self.new_button, self.all_button):
            button.setStyleSheet(button_style(theme))
        self.more.setStyleSheet(f"QToolButton {{ {muted_style(theme, 'font-size: 11px; border: none;')} }}")
        self.empty.setStyleSheet(muted_style(theme, "font-size: 11px;"))
        for row in self.rows:
            row.set_theme(theme)

    def tick(self) -> None:
        now = self.clock.now()
        for row in self.rows:
            row.tick(now)

    def _make_row(self, item: AgentItem) -> AgentRow:
        row = AgentRow(item, self.clock.now(), open_button=True)
        row.set_theme(self.theme)
        row.open_clicked.connect(self.open_requested)
        row.clicked.connect(self.open_requested)
        return row

    def _render(self, items: list[AgentItem]) -> None:
        self.renders += 1
        self.items = items
        shown = items[:MAX_ROWS]
        self.rows, moved = sync_rows(self.list_box, self.rows, shown, self.clock.now(), self._make_row)
        hidden = len(items) - len(shown)
        self.more.setText(f"{hidden} more…" if hidden > 0 else "")
        self.more.setVisible(hidden > 0)
        self.empty.setVisible(not items)
        self.heading.setText(heading_text(items))
        self.heading.setToolTip(heading_text(items))  # the popup is narrow: the line may elide
        if moved:
            self.updateGeometry()
            fit = getattr(self.window(), "fit_height", None)
            if self.window() is not self and callable(fit):
                fit(None)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.shown.emit()
        self.coalescer.set_interval(COALESCE_MS)
        self.coalescer.flush()  # what came while hidden shows at once
        self.tick()
        self._ticker.start()

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        self.coalescer.set_interval(HIDDEN_MS)
        self._ticker.stop()
