"""The Agents window: every agent in a list (ours, Claude Code background sessions and other
sessions), and for the one selected its details, the actions Stop, Restart, Open log and Open
folder, and a live tail of its output.

A view: the list comes through :meth:`AgentsWindow.set_items` (coalesced, at most ~5 repaints a
second); the actions leave as signals (the feature calls the queue, off the GUI thread). Stopping
a session we did not start asks first, naming that it was not started here. The tail follows the
selected task's log file through an injected ``read_chunk(task_id, offset) -> TailChunk | None``
coroutine (the feature reads on the io lane; this module never touches a file), every
:data:`TAIL_MS` while the window shows; it keeps at most :data:`MAX_TAIL_LINES` lines. Stream-json
lines are shown as people read them (:func:`readable`); other lines as they are.

Signals:
    stop_requested(str): stop this task id (a foreign session only after the confirmation).
    restart_requested(str): restart (resume) this task id.
    open_log_requested(str), open_folder_requested(str): show its log file / project folder.
    new_requested(): the "New agent…" button.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from PySide6.QtCore import Qt, QTimer, Signal, SignalInstance
from PySide6.QtGui import QCloseEvent, QHideEvent, QShowEvent, QTextCursor
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from trayapp import runtime
from trayapp.core import stream_json as sj
from trayapp.core.agent_list import TailChunk
from trayapp.core.agents import ACTIVE, FINISHED
from trayapp.core.clock import Clock, SystemClock
from trayapp.core.humanize import format_money
from trayapp.ui.agents_rows import AgentItem, AgentRow, Coalescer, detail_text, sync_rows, title_text
from trayapp.ui.theme import LIGHT, Theme, muted_style, text_style

MAX_TAIL_LINES = 2000
TAIL_MS = 300
_LINE = 300  # characters of one readable line


ReadChunk = Callable[[str, int], Awaitable[TailChunk | None]]


def _one_line(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _LINE else flat[: _LINE - 1] + "…"


def readable(line: str) -> str | None:
    """One log line as people read it (None: nothing worth a line). Stream-json events become
    ``▶ started``, the assistant's text, ``→ Tool(argument)``, ``■ done``; anything else is shown
    as written (a background session's plain log)."""
    event = sj.parse_line(line)
    if event is None:
        return None
    if isinstance(event, sj.ParseError):  # plain text is shown; a JSON event we cannot read is not
        return None if line.lstrip().startswith("{") else (_one_line(line) or None)
    if isinstance(event, sj.SystemEvent):
        return f"▶ started ({event.model})" if event.subtype == "init" and event.model else None
    if isinstance(event, sj.AssistantEvent):
        parts = []
        for block in event.blocks:
            if isinstance(block, sj.ToolUse):
                arg = next((str(v) for v in block.input.values() if isinstance(v, str)), "")
                parts.append(f"→ {block.name}({_one_line(arg)[:80]})")
            elif block.text.strip():
                parts.append(_one_line(block.text))
        return "\n".join(parts) or None
    if isinstance(event, sj.UserEvent):
        errors = [r for r in event.results if r.is_error]
        return "\n".join(f"← error: {_one_line(r.content)[:160]}" for r in errors) or None
    if isinstance(event, sj.ResultEvent):
        cost = f" · {format_money(event.total_cost_usd)}" if event.total_cost_usd is not None else ""
        turns = f" · {event.num_turns} turns" if event.num_turns is not None else ""
        word = "failed" if event.is_error else "done"
        return f"■ {word}{turns}{cost}"
    if isinstance(event, sj.RateLimitEvent):
        return None if event.status == "allowed" else f"! rate limit: {event.status}"
    return None


def confirm_foreign_stop(parent: QWidget, item: AgentItem) -> bool:
    """Ask before stopping a session Claude Watch did not start."""
    answer = QMessageBox.question(
        parent,
        "Stop a session not started here?",
        f"“{title_text(item.task)}” was not started by Claude Watch.\n"
        "Stop it anyway? Its work in progress ends.",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes


class AgentsWindow(QWidget):
    """The Agents window (see the module docstring)."""

    stop_requested = Signal(str)
    restart_requested = Signal(str)
    open_log_requested = Signal(str)
    open_folder_requested = Signal(str)
    new_requested = Signal()

    def __init__(self, read_chunk: ReadChunk | None = None, clock: Clock | None = None) -> None:
        super().__init__()
        self.setObjectName("agents-window")
        self.setWindowTitle("Claude Watch — Agents")
        self.resize(860, 560)
        self.clock: Clock = clock or SystemClock()
        self.read_chunk = read_chunk
        self.confirm: Callable[[QWidget, AgentItem], bool] = confirm_foreign_stop
        self.items: list[AgentItem] = []
        self.rows: list[AgentRow] = []
        self.selected: str | None = None
        self.theme: Theme = LIGHT
        self.renders = 0
        self._tail_id: str | None = None
        self._tail_offset = 0
        self._reading = False
        root = QVBoxLayout(self)
        top = QHBoxLayout()
        self.heading = QLabel("Agents")
        top.addWidget(self.heading, 1)
        self.new_button = QPushButton("New agent…")
        self.new_button.setObjectName("new-agent")
        self.new_button.clicked.connect(self.new_requested)
        top.addWidget(self.new_button)
        root.addLayout(top)
        split = QSplitter(Qt.Orientation.Horizontal)
        self.list_scroll = QScrollArea()
        self.list_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.list_scroll.setWidgetResizable(True)
        self.list_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list_widget = QWidget()
        self.list_widget.setObjectName("agents-list")
        self.list_box = QVBoxLayout(self.list_widget)
        self.list_box.setContentsMargins(0, 0, 0, 0)
        self.list_box.setSpacing(2)
        self.list_box.addStretch(1)
        self.list_scroll.setWidget(self.list_widget)
        self.list_scroll.setMinimumWidth(300)
        split.addWidget(self.list_scroll)
        side = QWidget()
        box = QVBoxLayout(side)
        box.setContentsMargins(8, 0, 0, 0)
        self.title = QLabel("Select an agent")
        self.title.setWordWrap(True)
        self.info = QLabel("")
        self.info.setWordWrap(True)
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        box.addWidget(self.title)
        box.addWidget(self.info)
        actions = QHBoxLayout()
        self.stop_button = QPushButton("Stop")
        self.restart_button = QPushButton("Restart")
        self.log_button = QPushButton("Open log")
        self.folder_button = QPushButton("Open folder")
        for button, slot in (
            (self.stop_button, self._stop),
            (self.restart_button, lambda: self._emit(self.restart_requested)),
            (self.log_button, lambda: self._emit(self.open_log_requested)),
            (self.folder_button, lambda: self._emit(self.open_folder_requested)),
        ):
            button.clicked.connect(slot)
            actions.addWidget(button)
        actions.addStretch(1)
        box.addLayout(actions)
        self.tail = QPlainTextEdit()
        self.tail.setObjectName("agent-tail")
        self.tail.setReadOnly(True)
        self.tail.setMaximumBlockCount(MAX_TAIL_LINES)
        self.tail.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.tail.setPlaceholderText("Output appears here while the agent runs.")
        box.addWidget(self.tail, 1)
        split.addWidget(side)
        split.setStretchFactor(1, 1)
        split.setSizes([340, 520])
        root.addWidget(split, 1)
        self.coalescer = Coalescer(self._render, parent=self)
        self._tail_timer = QTimer(self)
        self._tail_timer.setInterval(TAIL_MS)
        self._tail_timer.timeout.connect(self._read_tail)
        self._ticker = QTimer(self)
        self._ticker.setInterval(15_000)
        self._ticker.timeout.connect(self._tick)
        self.set_theme(LIGHT)
        self._show_selected()

    # ----- public API
    def set_items(self, items: Sequence[AgentItem]) -> None:
        self.coalescer.push(list(items))

    def select(self, task_id: str | None) -> bool:
        """Show ``task_id`` (its details and tail); False when it is not listed (yet)."""
        self.coalescer.flush()
        self.selected = task_id
        found = any(i.id == task_id for i in self.items)
        for row in self.rows:
            row.set_selected(row.item.id == task_id)
            if row.item.id == task_id:
                self.list_scroll.ensureWidgetVisible(row, 0, 4)
        self._show_selected()
        return found

    def item(self, task_id: str | None) -> AgentItem | None:
        return next((i for i in self.items if i.id == task_id), None)

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.heading.setStyleSheet(text_style(theme, "font-size: 15px; font-weight: 600;"))
        self.title.setStyleSheet(text_style(theme, "font-weight: 600;"))
        self.info.setStyleSheet(muted_style(theme, "font-size: 11px;"))
        self.list_scroll.setStyleSheet(
            f"QScrollArea, #agents-list {{ background: {theme.bg}; }}"  # rows paint on the window's bg
        )
        self.tail.setStyleSheet(
            f"QPlainTextEdit {{ background: {theme.surface}; color: {theme.text};"
            f" border: 1px solid {theme.border}; border-radius: 6px;"
            " font-family: monospace; font-size: 11px; }"
        )
        self.setStyleSheet(f"#agents-window {{ background: {theme.bg}; }}")
        for row in self.rows:
            row.set_theme(theme)

    # ----- rows
    def _make_row(self, item: AgentItem) -> AgentRow:
        row = AgentRow(item, self.clock.now())
        row.set_theme(self.theme)
        row.clicked.connect(self.select)
        return row

    def _render(self, items: list[AgentItem]) -> None:
        self.renders += 1
        self.items = items
        self.rows, _moved = sync_rows(self.list_box, self.rows, items, self.clock.now(), self._make_row)
        for row in self.rows:
            row.set_selected(row.item.id == self.selected)
        running = sum(i.task.state in ACTIVE for i in items)
        self.heading.setText(f"Agents ({len(items)} · {running} running)" if items else "Agents")
        self._show_selected()

    def _tick(self) -> None:
        now = self.clock.now()
        for row in self.rows:
            row.tick(now)
        self._show_selected()

    def _show_selected(self) -> None:
        item = self.item(self.selected)
        for button in (self.stop_button, self.restart_button, self.log_button, self.folder_button):
            button.setEnabled(item is not None)
        if item is None:
            self.title.setText("Select an agent" if self.items else "No agent yet")
            self.info.setText("")
            self._follow(None)
            return
        task = item.task
        self.title.setText(f"{title_text(task)} — {item.word}")
        lines = [detail_text(item, self.clock.now()), f"Folder: {task.spec.folder or '?'}"]
        if task.session_id:
            lines.append(f"Session: {task.session_id}")
        lines.append(f"Kind: {task.spec.kind.value}" + (f" on {task.slot}" if task.slot else ""))
        if task.error:
            lines.append(f"Error: {task.error}")
        self.info.setText("\n".join(lines))
        self.stop_button.setEnabled(task.state not in FINISHED)
        self.restart_button.setEnabled(task.ours and task.state in FINISHED and bool(task.session_id))
        self.log_button.setEnabled(task.ours)
        self.folder_button.setEnabled(bool(task.spec.folder))
        self._follow(task.id if task.ours else None)

    # ----- actions
    def _emit(self, signal: SignalInstance) -> None:
        if self.selected is not None:
            signal.emit(self.selected)

    def _stop(self) -> None:
        item = self.item(self.selected)
        if item is None:
            return
        if not item.ours and not self.confirm(self, item):
            return
        self.stop_requested.emit(item.id)

    # ----- the tail
    def _follow(self, task_id: str | None) -> None:
        if task_id == self._tail_id:
            return
        self._tail_id = task_id
        self._tail_offset = 0
        self.tail.clear()
        if task_id is not None and self.isVisible():
            self._read_tail()

    def _read_tail(self) -> None:
        if self._reading or self._tail_id is None or self.read_chunk is None:
            return
        self._reading = True
        runtime.try_spawn(self._read_once(self._tail_id, self._tail_offset), "agent tail", group=self)

    async def _read_once(self, task_id: str, offset: int) -> None:
        try:
            chunk = await self.read_chunk(task_id, offset) if self.read_chunk is not None else None
        finally:
            self._reading = False
        if chunk is None or task_id != self._tail_id:
            return
        self.append_chunk(chunk)

    def append_chunk(self, chunk: TailChunk) -> None:
        """Add what was read to the tail (kept at :data:`MAX_TAIL_LINES` lines), following the
        end unless the user scrolled up."""
        if chunk.reset:
            self.tail.clear()
        self._tail_offset = chunk.offset
        shown = [text for text in map(readable, chunk.lines) if text]
        if not shown:
            return
        bar = self.tail.verticalScrollBar()
        at_end = bar.value() >= bar.maximum() - 4
        self.tail.appendPlainText("\n".join(shown))
        if at_end:
            self.tail.moveCursor(QTextCursor.MoveOperation.End)
            bar.setValue(bar.maximum())

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.coalescer.flush()
        self._tail_timer.start()
        self._ticker.start()
        self._read_tail()

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        self._tail_timer.stop()
        self._ticker.stop()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.hide()  # kept for the next open: its list is current, the tail picks up again
        event.ignore()


__all__ = ["AgentsWindow", "TailChunk", "readable"]
