"""What the agents views share: the words and row of one agent, and the coalescer that keeps
repaints bounded.

The list itself (:class:`AgentItem`, :func:`agent_items`, :func:`title_text`: one item per agent,
ours and the Claude Code sessions we did not start, in the views' order) is plain data in
:mod:`trayapp.core.agent_list`, re-exported here; so the agents feature keeps its list without
loading these widgets until a view is shown. Words for durations, money and tokens come from
``core.humanize``; colours from the theme.

:class:`Coalescer` (:mod:`trayapp.ui.coalescer`, re-exported) takes every change as it comes and
hands the latest one on at most every :data:`COALESCE_MS` (about five repaints a second, whatever
the stream rate): a flood of queue events costs a bounded number of repaints.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from trayapp.core.agent_list import (
    FOREIGN_PREFIX,
    STATE_WORDS,
    AgentItem,
    agent_items,
    foreign_task,
    item_for,
    title_text,
)
from trayapp.core.agents import ACTIVE, FINISHED, Task, TaskState
from trayapp.core.humanize import format_clock, format_duration, format_money, format_tokens
from trayapp.core.models import Level
from trayapp.ui.coalescer import COALESCE_MS, Coalescer
from trayapp.ui.panels import button_style, chip_style
from trayapp.ui.panels.widgets import ElidedLabel
from trayapp.ui.theme import LIGHT, Theme, muted_style, text_style


def tokens_of(task: Task) -> int:
    return task.input_tokens + task.output_tokens + task.cache_read_tokens + task.cache_creation_tokens


def detail_text(item: AgentItem, now: datetime) -> str:
    """``for 12 min · 45.1k tokens · $0.42``; held: the reason and the resume time; queued: the
    estimate ("est. $0.40")."""
    task = item.task
    parts: list[str] = []
    if task.state is TaskState.HELD:
        parts.append(task.held_reason or "near the limit")
        if task.resume_at is not None:
            parts.append(f"resumes {format_clock(task.resume_at, now)}")
    elif task.started_at is not None:
        end = task.finished_at if task.state in FINISHED and task.finished_at else now
        parts.append(("ran " if task.state in FINISHED else "for ") + format_duration(end - task.started_at))
    elif task.created_at is not None and task.state is TaskState.QUEUED:
        parts.append(f"waiting {format_duration(now - task.created_at)}")
    tokens = tokens_of(task)
    if tokens:
        parts.append(f"{format_tokens(tokens, compact=True)} tokens")
    if task.cost_usd is not None:
        parts.append(format_money(task.cost_usd))
    elif item.estimate is not None:
        parts.append(f"est. {format_money(item.estimate)}")
    if not task.ours:
        parts.append("not started here")
    return " \u00b7 ".join(parts)


def activity_text(task: Task) -> str:
    """The last activity line; a failure's error first."""
    if task.state is TaskState.FAILED and task.error:
        return task.error
    return task.last_line


def state_colour(theme: Theme, state: TaskState) -> str:
    return {
        TaskState.QUEUED: theme.muted,
        TaskState.HELD: theme.levels[Level.WARNING],
        TaskState.STARTING: theme.series[1],
        TaskState.RUNNING: theme.series[1],
        TaskState.NEEDS_YOU: theme.accent,
        TaskState.DONE: theme.levels[Level.OK],
        TaskState.FAILED: theme.levels[Level.AT_LIMIT],
        TaskState.STOPPED: theme.muted,
        TaskState.LOST: theme.levels[Level.CRITICAL],
    }[state]


class AgentRow(QWidget):
    """One agent: title with its state chip (and, in the popup, an "Open" button), the detail line
    and the last activity line. Clicking the row selects it (the window).

    Signals:
        clicked(str): the row was clicked (its task id).
        open_clicked(str): its "Open" button (the popup: the agents window at this task).
    """

    clicked = Signal(str)
    open_clicked = Signal(str)

    def __init__(self, item: AgentItem, now: datetime, *, open_button: bool = False) -> None:
        super().__init__()
        self.item = item
        self.theme = LIGHT
        self.selected = False
        self.setObjectName("agent-row")
        box = QVBoxLayout(self)
        box.setContentsMargins(10, 5, 6, 5)
        box.setSpacing(2)
        top = QHBoxLayout()
        top.setSpacing(6)
        self.title = ElidedLabel("")
        self.chip = QLabel("")
        self.chip.setObjectName("state-chip")
        top.addWidget(self.title, 1)
        top.addWidget(self.chip, 0, Qt.AlignmentFlag.AlignVCenter)
        self.open_button: QToolButton | None = None
        if open_button:
            self.open_button = QToolButton(text="Open")
            self.open_button.setToolTip("Open the agents window at this agent")
            self.open_button.clicked.connect(lambda: self.open_clicked.emit(self.item.id))
            top.addWidget(self.open_button, 0, Qt.AlignmentFlag.AlignVCenter)
        box.addLayout(top)
        self.detail = ElidedLabel("")
        box.addWidget(self.detail)
        self.activity = ElidedLabel("")
        box.addWidget(self.activity)
        self.set_item(item, now)

    def set_item(self, item: AgentItem, now: datetime) -> None:
        changed_state = item.task.state is not self.item.task.state
        self.item = item
        task = item.task
        self.title.setText(title_text(task))
        self.title.setToolTip(f"{task.spec.folder}\n{task.spec.prompt[:500]}".strip())
        self.chip.setText(item.word)
        self.chip.setToolTip(task.held_reason if task.state is TaskState.HELD else "")
        line = activity_text(task)
        self.activity.setText(line)
        self.activity.setToolTip(line[:1000])
        self.activity.setVisible(bool(line))
        self.tick(now)
        if changed_state:
            self.set_theme(self.theme)

    def tick(self, now: datetime) -> None:
        self.detail.setText(detail_text(self.item, now))

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        state = self.item.task.state
        self.title.setStyleSheet(text_style(theme, "font-weight: 600;"))
        colour = state_colour(theme, state)
        self.chip.setStyleSheet(chip_style(theme, colour, filled=state is TaskState.NEEDS_YOU))
        self.detail.setStyleSheet(muted_style(theme, "font-size: 11px;"))
        failed = state is TaskState.FAILED and bool(self.item.task.error)
        self.activity.setStyleSheet(
            f"background: transparent; color: {theme.levels[Level.AT_LIMIT]}; font-size: 11px;"
            if failed
            else text_style(theme, "font-size: 11px;")
        )
        if self.open_button is not None:
            self.open_button.setStyleSheet(button_style(theme))
        self.update()

    def set_selected(self, on: bool) -> None:
        if on != self.selected:
            self.selected = on
            self.update()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit(self.item.id)
        super().mousePressEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        needs_you = self.item.task.state is TaskState.NEEDS_YOU
        if not (needs_you or self.selected):
            return
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(QColor(self.theme.accent) if self.selected else Qt.PenStyle.NoPen)
        p.setBrush(QColor(self.theme.banner_bg if self.selected else self.theme.surface))
        p.drawRoundedRect(self.rect().adjusted(1, 1, -1, -1), 6, 6)
        if needs_you:
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QColor(self.theme.accent))
            p.drawRoundedRect(1, 3, 3, self.height() - 6, 1.5, 1.5)
        p.end()


def sync_rows(
    box: QVBoxLayout,
    rows: list[AgentRow],
    items: Sequence[AgentItem],
    now: datetime,
    make: Callable[[AgentItem], AgentRow],
) -> tuple[list[AgentRow], bool]:
    """Bring the rows laid out in ``box`` to ``items``, in order, reusing the rows of the same ids
    (a flood of updates to one task changes text, not widgets); rows of ids gone are deleted.
    Returns the rows and whether the order changed (then they are laid out again)."""
    by_id = {row.item.id: row for row in rows}
    out: list[AgentRow] = []
    for item in items:
        row = by_id.pop(item.id, None)
        if row is None:
            row = make(item)
        elif row.item != item:
            row.set_item(item, now)
        out.append(row)
    for row in by_id.values():
        box.removeWidget(row)
        row.hide()
        row.deleteLater()
    moved = [r.item.id for r in out] != [r.item.id for r in rows]
    if moved:
        for i, row in enumerate(out):
            box.insertWidget(i, row)
            row.show()  # a row added to a visible list stays hidden until shown
    return out, moved


__all__ = [
    "ACTIVE",
    "COALESCE_MS",
    "FOREIGN_PREFIX",
    "STATE_WORDS",
    "AgentItem",
    "AgentRow",
    "Coalescer",
    "agent_items",
    "foreign_task",
    "item_for",
    "sync_rows",
    "title_text",
]
