"""The Settings page "Accounts" wired to the real accounts file (in the test's folders) and real
Claude Code config folders: it lists each account with its folder, e-mail and login; a new
account's label and folder are checked as typed (errors inline, Add disabled); Add, Rename and
Remove (asked inline, history kept) really change accounts.json and nudge the app; the default
account cannot be removed; a folder without a login yet is said so."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.helpers.fixtures_usage import write_credentials
from tests.unit.cli.test_accounts_cli import calls, fake_cswap  # noqa: F401 (a fixture)
from trayapp import runtime
from trayapp.core.accounts import Account
from trayapp.features.accounts_page import make_page
from trayapp.store.accounts_repo import AccountsRepo
from trayapp.ui.accounts_page import AccountsPage

NOW = datetime.now(UTC)


@pytest.fixture
def folders(claude_dir: Path, tmp_path: Path) -> dict[str, Path]:
    write_credentials(claude_dir, login_expires_at=NOW + timedelta(days=12, hours=3))
    (claude_dir / ".claude.json").write_text(
        json.dumps({"oauthAccount": {"emailAddress": "me@home.example"}})
    )
    work = tmp_path / "claude-work"
    work.mkdir()
    write_credentials(work, login_expires_at=NOW + timedelta(days=3, hours=3))
    (work / ".claude.json").write_text(json.dumps({"oauthAccount": {"emailAddress": "me@work.example"}}))
    AccountsRepo().add("Work", work)
    empty = tmp_path / "claude-new"
    empty.mkdir()
    return {"default": claude_dir, "work": work, "new": empty}


@pytest.fixture
async def page(qtbot, folders):
    nudges: list[bool] = []
    signed: list[Account] = []
    p = make_page(changed=lambda: nudges.append(True), sign_in=signed.append)
    qtbot.addWidget(p)
    p.nudges, p.signed = nudges, signed  # type: ignore[attr-defined]
    await settle(p)
    yield p
    await runtime.wait(5, group=p)


async def settle(page: AccountsPage) -> None:
    for _ in range(3):
        await asyncio.sleep(0)
        await runtime.wait(5, group=page)


def labels() -> list[str]:
    return [a.label for a in AccountsRepo().load()]


@pytest.mark.qt_loop
async def test_it_lists_each_account_with_folder_email_and_login(page, folders) -> None:
    assert list(page.boxes) == ["default", "Work"]
    home, work = page.boxes["default"], page.boxes["Work"]
    assert home.email.text() == "me@home.example"
    assert home.login.text() == "Login renews in 12 days"
    assert work.email.text() == "me@work.example"
    assert work.login.text() == "Login renews in 3 days"
    assert work.sign_in.isHidden()
    assert not home.remove.isEnabled()  # the default account stays
    assert "cannot be removed" in home.remove.toolTip()
    shown = [w.text() for w in work.findChildren(type(work.email))]
    assert str(folders["work"]) in shown


@pytest.mark.qt_loop
async def test_a_new_account_is_checked_as_typed_and_added_for_real(page, folders) -> None:
    page.label_edit.setText("work")
    page.folder_edit.setText(str(folders["new"]))
    assert page.add_error.text() == "There is already an account named 'work'."
    assert not page.add_button.isEnabled()
    page.label_edit.setText("Side")
    page.folder_edit.setText(str(folders["work"]))
    assert "is already the folder of account 'Work'" in page.add_error.text()
    assert not page.add_button.isEnabled()
    page.label_edit.setText("a/b")
    assert page.add_error.text() == "An account label cannot hold / or \\."
    page.label_edit.setText("Side")
    page.folder_edit.setText(str(folders["new"]))
    assert page.add_error.isHidden()
    assert page.add_button.isEnabled()
    page.folder_edit.editingFinished.emit()
    await settle(page)
    assert page.folder_note.text().startswith("No Claude Code login in this folder yet")
    page.add_button.click()
    await settle(page)
    assert labels() == ["default", "Work", "Side"]
    assert list(page.boxes) == ["default", "Work", "Side"]
    side = page.boxes["Side"]
    assert side.login.text() == "Signed out"
    assert not side.sign_in.isHidden()
    side.sign_in.click()
    assert [a.label for a in page.signed] == ["Side"]
    assert page.nudges == [True]
    assert page.label_edit.text() == ""


@pytest.mark.qt_loop
async def test_a_folder_that_is_not_there_is_refused_inline(page, folders, tmp_path: Path) -> None:
    page.label_edit.setText("Ghost")
    page.folder_edit.setText(str(tmp_path / "nowhere"))
    page.add_button.click()
    await settle(page)
    assert page.add_error.text() == f"Not added: {tmp_path / 'nowhere'} is not a folder."
    assert labels() == ["default", "Work"]
    assert page.nudges == []


@pytest.mark.qt_loop
async def test_rename_and_remove_change_the_file(page, folders) -> None:
    work = page.boxes["Work"]
    work.rename.click()
    assert not work.rename_row.isHidden()
    work.new_label.setText("default")
    work.save_rename.click()
    await settle(page)
    assert page.error.text() == "Not renamed: there is already an account named 'default'."
    assert labels() == ["default", "Work"]
    work.new_label.setText("Job")
    work.save_rename.click()
    await settle(page)
    assert labels() == ["default", "Job"]
    assert [a.key for a in AccountsRepo().load()] == ["default", "Work"]  # history follows the key
    assert page.error.isHidden()
    job = page.boxes["Job"]
    job.remove.click()
    assert not job.confirm_row.isHidden()
    assert "kept" in job.confirm_text.text()
    assert labels() == ["default", "Job"]  # asked first
    job.confirm.click()
    await settle(page)
    assert labels() == ["default"]
    assert list(page.boxes) == ["default"]
    assert page.nudges == [True, True]


def test_the_app_has_the_page_in_settings(qapp, hermetic_env: Path) -> None:
    from trayapp.app import ClaudeWatch

    cw = ClaudeWatch(qapp, demo=False, self_test=True)
    cw.build()
    try:
        assert "Accounts" in [title for title, _ in cw.settings_pages]
    finally:
        cw.tray.hide()


@pytest.mark.qt_loop
async def test_claude_swap_slots_are_read_only_and_matched_by_email(
    qtbot,
    folders,
    fake_cswap: Path,  # noqa: F811 (the fixture imported above)
) -> None:
    p = make_page()
    qtbot.addWidget(p)
    await settle(p)
    assert not p.cswap_box.isHidden()
    p.cswap_button.click()
    await settle(p)
    assert p.cswap_lines.text().splitlines() == [
        "Slot 1: me@home.example (active): account default",
        "Slot 2: Me@Work.example: account Work",
    ]
    assert calls(fake_cswap) == ["--list --json"]  # never a switch
    fake_cswap.with_name("cswap-state.mode").write_text("v2")
    p.cswap_button.click()
    await settle(p)
    assert p.cswap_lines.text().startswith(
        "claude-swap could not be read: cswap's list is not schema version"
    )


@pytest.mark.qt_loop
async def test_without_claude_swap_there_is_no_line(
    qtbot, folders, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("CLAUDE_WATCH_CSWAP", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "nothing-here"))
    p = make_page()
    qtbot.addWidget(p)
    await settle(p)
    assert p.cswap_box.isHidden()
