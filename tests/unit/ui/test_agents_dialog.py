"""The "New agent" dialog: inline validation (an empty prompt, a folder that does not exist), the
spec it emits, "Skip all permission prompts" only as its own box with a red warning (never the
default), the headless billing warning, the estimate line, and the slot picker only with slots."""

from __future__ import annotations

from pathlib import Path

from trayapp.core.agents import PermissionMode, RunKind, TaskSpec
from trayapp.core.models import Level
from trayapp.ui.agents_dialog import BILLING_WARNING, BYPASS_WARNING, KINDS, MODELS, NewAgentDialog
from trayapp.ui.theme import DARK


def test_start_refuses_an_empty_prompt_and_a_missing_folder(qapp, tmp_path: Path):
    dialog = NewAgentDialog([str(tmp_path / "gone")])
    sent: list[TaskSpec] = []
    dialog.submitted.connect(sent.append)
    dialog.start()
    assert sent == []
    assert dialog.error.isVisibleTo(dialog)
    assert "Write a prompt." in dialog.error.text()
    assert f"The folder {tmp_path / 'gone'} does not exist." in dialog.error.text()
    dialog.prompt.setPlainText("Fix the flaky test")
    dialog.folder.setEditText("relative/path")
    dialog.start()
    assert sent == []
    assert "does not exist" in dialog.error.text()
    dialog.folder.setEditText(str(tmp_path))
    dialog.start()
    assert len(sent) == 1
    assert not dialog.start_button.isEnabled()  # until the queue answers
    dialog.submit_failed("Could not start: no claude")
    assert dialog.start_button.isEnabled()
    assert dialog.error.text() == "Could not start: no claude"


def test_the_spec_carries_every_field(qapp, tmp_path: Path):
    dialog = NewAgentDialog([], slots=["local", "docker:py"])
    dialog.prompt.setPlainText("  Line one\nline two  ")
    dialog.folder.setEditText(str(tmp_path))
    dialog.worktree.setChecked(True)
    dialog.kind.setCurrentIndex([k for _t, k in KINDS].index(RunKind.BACKGROUND))
    dialog.model.setCurrentIndex([m for _t, m in MODELS].index("sonnet"))
    dialog.mode.setCurrentIndex(1)
    dialog.max_turns.setValue(12)
    dialog.budget.setValue(2.5)
    dialog.priority.setValue(3)
    dialog.slot.setCurrentIndex(dialog.slot.findData("docker:py"))
    spec = dialog.spec()
    assert spec == TaskSpec(
        prompt="Line one\nline two",
        folder=str(tmp_path),
        kind=RunKind.BACKGROUND,
        worktree=True,
        model="sonnet",
        permission_mode=PermissionMode.ACCEPT_EDITS,
        max_turns=12,
        budget_usd=2.5,
        priority=3,
        slot="docker:py",
    )


def test_defaults_never_bypass_and_no_limits(qapp, tmp_path: Path):
    dialog = NewAgentDialog([str(tmp_path)])
    dialog.prompt.setPlainText("x")
    spec = dialog.spec()
    assert spec.permission_mode is PermissionMode.DEFAULT
    assert not dialog.bypass.isChecked()
    assert PermissionMode.BYPASS not in [dialog.mode.itemData(i) for i in range(dialog.mode.count())]
    assert (spec.max_turns, spec.budget_usd, spec.slot, spec.model) == (None, None, None, None)
    assert spec.kind is RunKind.HEADLESS
    assert not dialog.slot.isVisibleTo(dialog)  # no container slots: no picker


def test_bypass_is_a_separate_box_with_a_red_warning(qapp, tmp_path: Path):
    dialog = NewAgentDialog([str(tmp_path)], theme=DARK)
    assert not dialog.bypass_warning.isVisibleTo(dialog)
    dialog.bypass.setChecked(True)
    assert dialog.bypass_warning.isVisibleTo(dialog)
    assert dialog.bypass_warning.text() == BYPASS_WARNING
    assert DARK.levels[Level.AT_LIMIT] in dialog.bypass_warning.styleSheet()
    assert not dialog.mode.isEnabled()
    assert dialog.spec().permission_mode is PermissionMode.BYPASS
    dialog.bypass.setChecked(False)
    assert dialog.spec().permission_mode is PermissionMode.DEFAULT


def test_billing_warning_for_headless_only_and_the_estimate(qapp, tmp_path: Path):
    asked: list[str] = []

    def estimate(folder: str) -> float | None:
        asked.append(folder)
        return 0.42 if folder == str(tmp_path) else None

    dialog = NewAgentDialog([str(tmp_path)], estimate=estimate)
    assert dialog.billing.isVisibleTo(dialog)
    assert "billed separately" in BILLING_WARNING
    assert dialog.estimate_line.text() == "Estimated cost: about $0.42 (past tasks in this project)"
    dialog.folder.setEditText("/elsewhere")
    assert "not known yet" in dialog.estimate_line.text()
    dialog.kind.setCurrentIndex([k for _t, k in KINDS].index(RunKind.BACKGROUND))
    assert not dialog.billing.isVisibleTo(dialog)
    assert asked[0] == str(tmp_path)


def test_recent_folders_are_offered_once_newest_first(qapp):
    dialog = NewAgentDialog(["/a", "/b", "/a", "/c"])
    assert [dialog.folder.itemText(i) for i in range(dialog.folder.count())] == ["/a", "/b", "/c"]
