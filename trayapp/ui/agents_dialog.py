"""The "New agent" dialog: what to ask, where, how it runs, and what it may cost.

Fields: the prompt (several lines), the project folder (a picker and the recent folders), a git
worktree on or off, how it runs (a Claude Code background session: survives restarts and can be
attached to; or a headless task in our queue), the model, the permission mode, and only as a
separate check box, with a warning in red, "Skip all permission prompts" (never the default),
max turns, an optional budget, the priority and, when container slots exist, the slot. Below them
the estimated cost (from past tasks of the same project) and, for headless runs, the warning that
``claude -p`` use may be billed separately from the plan's limits.

A view: the folder check and the estimate are injected callables; "Start" validates inline (the
folder exists, the prompt is not empty) and emits ``submitted(TaskSpec)``; the feature submits it
through the queue off the GUI thread and answers with :meth:`NewAgentDialog.submit_done` or
:meth:`NewAgentDialog.submit_failed`.

Signals:
    submitted(object): a valid :class:`~trayapp.core.agents.TaskSpec`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from trayapp.core.agents import PermissionMode, RunKind, TaskSpec
from trayapp.core.humanize import format_money
from trayapp.core.models import Level
from trayapp.ui.theme import LIGHT, Theme

MODELS: tuple[tuple[str, str | None], ...] = (
    ("Claude Code's default", None),
    ("Opus (most capable)", "opus"),
    ("Sonnet (balanced)", "sonnet"),
    ("Haiku (fastest, cheapest)", "haiku"),
)
MODES: tuple[tuple[str, PermissionMode], ...] = (
    ("Ask before edits and commands", PermissionMode.DEFAULT),
    ("Accept file edits, ask for commands", PermissionMode.ACCEPT_EDITS),
    ("Plan only (no changes)", PermissionMode.PLAN),
)
KINDS: tuple[tuple[str, RunKind], ...] = (
    ("Headless queued task (waits near your limit)", RunKind.HEADLESS),
    ("Background session (survives restarts, attachable)", RunKind.BACKGROUND),
)
BILLING_WARNING = (
    "Headless claude -p use may be billed separately from your plan's limits (Anthropic's Agent SDK credit)."
)
BYPASS_WARNING = (
    "Claude runs every command and edit without asking, including ones that delete files or "
    "reach the network. Use only in a sandbox or a throwaway worktree."
)
MAX_RECENT = 8


class NewAgentDialog(QDialog):
    """The "New agent" dialog (see the module docstring)."""

    submitted = Signal(object)

    def __init__(
        self,
        recent_folders: Sequence[str] = (),
        *,
        folder_ok: Callable[[str], bool] = os.path.isdir,
        estimate: Callable[[str], float | None] = lambda _folder: None,
        slots: Sequence[str] = (),
        theme: Theme = LIGHT,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("new-agent-dialog")
        self.setWindowTitle("New agent")
        self.folder_ok = folder_ok
        self.estimate = estimate
        self.theme = theme
        root = QVBoxLayout(self)
        form = QFormLayout()
        self.prompt = QPlainTextEdit()
        self.prompt.setObjectName("agent-prompt")
        self.prompt.setPlaceholderText("What should Claude do? (several lines are fine)")
        self.prompt.setMinimumHeight(90)
        form.addRow("Prompt", self.prompt)
        self.folder = QComboBox()
        self.folder.setObjectName("agent-folder")
        self.folder.setEditable(True)
        self.folder.setMinimumWidth(320)
        for path in list(dict.fromkeys(recent_folders))[:MAX_RECENT]:
            self.folder.addItem(path)
        self.browse = QPushButton("Browse…")
        self.browse.clicked.connect(self._pick_folder)
        row = QHBoxLayout()
        row.addWidget(self.folder, 1)
        row.addWidget(self.browse)
        form.addRow("Project folder", row)
        self.worktree = QCheckBox("Work in a new git worktree")
        form.addRow("", self.worktree)
        self.kind = self._combo(KINDS)
        form.addRow("Run as", self.kind)
        self.model = self._combo(MODELS)
        form.addRow("Model", self.model)
        self.mode = self._combo(MODES)
        form.addRow("Permissions", self.mode)
        self.bypass = QCheckBox("Skip all permission prompts")
        self.bypass.setObjectName("agent-bypass")
        self.bypass_warning = QLabel(BYPASS_WARNING)
        self.bypass_warning.setObjectName("bypass-warning")
        self.bypass_warning.setWordWrap(True)
        self.bypass_warning.hide()
        form.addRow("", self.bypass)
        form.addRow("", self.bypass_warning)
        self.max_turns = QSpinBox()
        self.max_turns.setRange(0, 500)
        self.max_turns.setSpecialValueText("no limit")
        form.addRow("Max turns", self.max_turns)
        self.budget = QDoubleSpinBox()
        self.budget.setRange(0.0, 1000.0)
        self.budget.setDecimals(2)
        self.budget.setPrefix("$")
        self.budget.setSpecialValueText("no budget")
        form.addRow("Budget", self.budget)
        self.priority = QSpinBox()
        self.priority.setRange(-10, 10)
        self.priority.setToolTip("Larger runs first; equal priorities run in the order queued")
        form.addRow("Priority", self.priority)
        self.slot = QComboBox()
        self.slot.addItem("Any slot with room", None)
        for name in slots:
            self.slot.addItem(name, name)
        self.slot_label = QLabel("Slot")
        form.addRow(self.slot_label, self.slot)
        self.slot.setVisible(len(slots) > 1 or any(s != "local" for s in slots))
        self.slot_label.setVisible(self.slot.isVisibleTo(self))
        root.addLayout(form)
        self.estimate_line = QLabel("")
        self.estimate_line.setObjectName("agent-estimate")
        self.billing = QLabel(BILLING_WARNING)
        self.billing.setObjectName("billing-warning")
        self.billing.setWordWrap(True)
        self.error = QLabel("")
        self.error.setObjectName("agent-error")
        self.error.setWordWrap(True)
        self.error.hide()
        root.addWidget(self.estimate_line)
        root.addWidget(self.billing)
        root.addWidget(self.error)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.reject)
        self.start_button = QPushButton("Start")
        self.start_button.setObjectName("agent-start")
        self.start_button.setDefault(True)
        self.start_button.clicked.connect(self.start)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.start_button)
        root.addLayout(buttons)
        self.bypass.toggled.connect(self._bypass_toggled)
        self.kind.currentIndexChanged.connect(self._update)
        self.folder.currentTextChanged.connect(self._update)
        self.set_theme(theme)
        self._update()

    @staticmethod
    def _combo(choices: Sequence[tuple[str, object]]) -> QComboBox:
        box = QComboBox()
        for text, value in choices:
            box.addItem(text, value)
        return box

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        red = theme.levels[Level.AT_LIMIT]
        self.bypass_warning.setStyleSheet(f"color: {red}; font-size: 11px; font-weight: 600;")
        self.error.setStyleSheet(f"color: {red};")
        self.billing.setStyleSheet(f"color: {theme.muted}; font-size: 11px;")
        self.estimate_line.setStyleSheet(f"color: {theme.text};")

    # ----- the form
    def folder_text(self) -> str:
        return self.folder.currentText().strip()

    def _pick_folder(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Project folder", self.folder_text())
        if chosen:
            self.folder.setEditText(chosen)

    def _bypass_toggled(self, on: bool) -> None:
        self.bypass_warning.setVisible(on)
        self.mode.setEnabled(not on)

    def _update(self) -> None:
        headless = self.kind.currentData() == RunKind.HEADLESS
        self.billing.setVisible(headless)
        folder = self.folder_text()
        cost = self.estimate(folder) if folder else None
        self.estimate_line.setText(
            f"Estimated cost: about {format_money(cost)} (past tasks in this project)"
            if cost is not None
            else "Estimated cost: not known yet (no finished task to learn from)"
        )

    def problems(self) -> list[str]:
        """What stops "Start": an empty prompt, a folder that does not exist."""
        found = []
        if not self.prompt.toPlainText().strip():
            found.append("Write a prompt.")
        folder = self.folder_text()
        if not folder:
            found.append("Choose a project folder.")
        elif not os.path.isabs(os.path.expanduser(folder)) or not self.folder_ok(os.path.expanduser(folder)):
            found.append(f"The folder {folder} does not exist.")
        return found

    def spec(self) -> TaskSpec:
        # Qt hands enum data back as plain strings: typed again here.
        mode = PermissionMode.BYPASS if self.bypass.isChecked() else PermissionMode(self.mode.currentData())
        budget = self.budget.value()
        return TaskSpec(
            prompt=self.prompt.toPlainText().strip(),
            folder=os.path.expanduser(self.folder_text()),
            kind=RunKind(self.kind.currentData()),
            worktree=self.worktree.isChecked(),
            model=self.model.currentData(),
            permission_mode=mode,
            max_turns=self.max_turns.value() or None,
            budget_usd=budget if budget > 0 else None,
            priority=self.priority.value(),
            slot=self.slot.currentData() if self.slot.isVisibleTo(self) else None,
        )

    # ----- start
    def start(self) -> None:
        problems = self.problems()
        self.error.setText("\n".join(problems))
        self.error.setVisible(bool(problems))
        if problems:
            return
        self.start_button.setEnabled(False)
        self.start_button.setText("Starting…")
        self.submitted.emit(self.spec())

    def submit_done(self) -> None:
        self.accept()

    def submit_failed(self, message: str) -> None:
        self.start_button.setEnabled(True)
        self.start_button.setText("Start")
        self.error.setText(message)
        self.error.show()
