"""The Settings dialog's "Accounts" page: the Claude Code config folders Claude Watch reads, each
with its label, folder, signed-in e-mail and login ("renews in 12 days", "signed out"), and ways to
add one (a label and a folder, checked as you type), rename one, or remove one (asked inline,
saying its history is kept). The default account (``$CLAUDE_CONFIG_DIR`` or ``~/.claude``) can be
renamed but never removed.

A view: it shows :class:`AccountRow` values and emits intents; the feature
(:mod:`trayapp.features.accounts_page`) reads the folders and writes ``accounts.json`` off the GUI
thread and answers with :meth:`AccountsPage.set_rows`, :meth:`AccountsPage.show_error` and
:meth:`AccountsPage.show_folder_note`.

Signals:
    add_requested(str, str): a label and a folder to add.
    remove_requested(str): the label of an account to forget (already confirmed).
    rename_requested(str, str): an account's label and its new one.
    sign_in_requested(str): "Open sign-in" on an account's row (its label).
    folder_chosen(str): a folder typed or picked for a new account (the feature looks whether it
        holds a login yet).
    refresh_requested(): the page was shown (the feature reads the folders again).
    cswap_requested(): "Read claude-swap's slots" (shown only when ``cswap`` is installed).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from trayapp.core.accounts import Account, AccountError, check_new, validate_label
from trayapp.core.humanize import display_text

REMOVE_NOTE = "Its readings and ledger rows are kept: add the folder again to see them."


@dataclass(frozen=True, slots=True)
class AccountRow:
    """One account as the page shows it (read from its folder by the feature)."""

    account: Account
    email: str | None = None
    login: str = "checking…"  # "renews in 12 days", "signed out"
    ok: bool = True
    sign_in: str = ""  # the sign-in command for this account, for the button's tooltip


def login_words(row: AccountRow) -> str:
    """ "Login renews in 12 days"; "Signed out" (what the row's login line says)."""
    return f"Login {row.login}" if row.ok else row.login[:1].upper() + row.login[1:]


def _role(label: QLabel, role: str) -> QLabel:
    label.setProperty("cwRole", role)  # coloured by the application style sheet (ui/theme.py)
    label.setWordWrap(True)
    return label


class AccountBox(QWidget):
    """One account's row: what it is, and its Rename / Remove (each asked inline)."""

    def __init__(self, row: AccountRow, page: AccountsPage) -> None:
        super().__init__(page)
        account = row.account
        self.setObjectName(f"account:{account.key}")
        self.row = row
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 4, 0, 4)
        box.setSpacing(2)
        head = QHBoxLayout()
        self.title = QLabel(f"<b>{_escape(account.label)}</b>" + (" (default)" if account.is_default else ""))
        self.title.setObjectName("account-title")
        head.addWidget(self.title)
        self.email = _role(QLabel(row.email or "no identity in this folder"), "hint")
        self.email.setObjectName("account-email")
        self.email.setWordWrap(False)
        head.addWidget(self.email, 1)
        self.login = QLabel(login_words(row))
        self.login.setObjectName("account-login")
        self.login.setProperty("cwRole", "" if row.ok else "error")
        head.addWidget(self.login)
        self.sign_in = QToolButton()
        self.sign_in.setText("Open sign-in")
        self.sign_in.setToolTip(
            display_text(f"Open a terminal running `{row.sign_in}`") if row.sign_in else ""
        )
        self.sign_in.setVisible(not row.ok)
        self.sign_in.clicked.connect(lambda: page.sign_in_requested.emit(account.label))
        head.addWidget(self.sign_in)
        self.rename = QToolButton()
        self.rename.setText("Rename")
        self.rename.clicked.connect(self._start_rename)
        head.addWidget(self.rename)
        self.remove = QToolButton()
        self.remove.setText("Remove")
        if account.is_default:
            self.remove.setEnabled(False)
            self.remove.setToolTip("The default account cannot be removed (rename it instead)")
        self.remove.clicked.connect(self._ask_remove)
        head.addWidget(self.remove)
        box.addLayout(head)
        folder = _role(QLabel(str(account.config_dir)), "hint")
        folder.setObjectName("account-folder")
        folder.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        box.addWidget(folder)
        # Rename, inline: a field with Save and Cancel.
        self.rename_row = QWidget()
        line = QHBoxLayout(self.rename_row)
        line.setContentsMargins(0, 0, 0, 0)
        self.new_label = QLineEdit(account.label)
        self.new_label.setObjectName("rename-field")
        self.new_label.returnPressed.connect(self._save_rename)
        self.save_rename = QPushButton("Save")
        self.save_rename.clicked.connect(self._save_rename)
        cancel = QPushButton("Cancel")
        cancel.clicked.connect(lambda: self.rename_row.hide())
        line.addWidget(QLabel("New label"))
        line.addWidget(self.new_label, 1)
        line.addWidget(self.save_rename)
        line.addWidget(cancel)
        self.rename_row.hide()
        box.addWidget(self.rename_row)
        # Remove, asked inline.
        self.confirm_row = QWidget()
        ask = QHBoxLayout(self.confirm_row)
        ask.setContentsMargins(0, 0, 0, 0)
        self.confirm_text = QLabel(f"Remove {account.label}? {REMOVE_NOTE}")
        self.confirm_text.setWordWrap(True)
        ask.addWidget(self.confirm_text, 1)
        self.confirm = QPushButton("Remove")
        self.confirm.setObjectName("confirm-remove")
        self.confirm.clicked.connect(lambda: page.remove_requested.emit(account.label))
        keep = QPushButton("Keep")
        keep.clicked.connect(lambda: self.confirm_row.hide())
        ask.addWidget(self.confirm)
        ask.addWidget(keep)
        self.confirm_row.hide()
        box.addWidget(self.confirm_row)
        self._page = page

    def _start_rename(self) -> None:
        self.confirm_row.hide()
        self.new_label.setText(self.row.account.label)
        self.rename_row.show()
        self.new_label.setFocus()
        self.new_label.selectAll()

    def _save_rename(self) -> None:
        old = self.row.account.label
        try:
            new = validate_label(self.new_label.text())
        except AccountError as exc:
            self._page.show_error(f"Not renamed: {exc}.")
            return
        if new != old:
            self._page.rename_requested.emit(old, new)
        else:
            self.rename_row.hide()

    def _ask_remove(self) -> None:
        self.rename_row.hide()
        self.confirm_row.show()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class AccountsPage(QWidget):
    """The page (see the module docstring)."""

    add_requested = Signal(str, str)
    remove_requested = Signal(str)
    rename_requested = Signal(str, str)
    sign_in_requested = Signal(str)
    folder_chosen = Signal(str)
    refresh_requested = Signal()
    cswap_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("accounts-page")
        self.rows: list[AccountRow] = []
        self.boxes: dict[str, AccountBox] = {}
        root = QVBoxLayout(self)
        intro = QLabel(
            "Each account is a Claude Code config folder (what Claude Code runs with as "
            "CLAUDE_CONFIG_DIR). Claude Watch reads each folder's login and usage, read-only: it never "
            "stores or switches a login. Changes on this page are saved at once."
        )
        intro.setWordWrap(True)
        root.addWidget(intro)
        self.list_box = QGroupBox("Accounts")
        self.list_rows = QVBoxLayout(self.list_box)
        root.addWidget(self.list_box)
        add_box = QGroupBox("Add an account")
        form = QFormLayout(add_box)
        self.label_edit = QLineEdit()
        self.label_edit.setObjectName("new-label")
        self.label_edit.setPlaceholderText("Work")
        form.addRow("Label", self.label_edit)
        folder_row = QHBoxLayout()
        self.folder_edit = QLineEdit()
        self.folder_edit.setObjectName("new-folder")
        self.folder_edit.setPlaceholderText(str(Path("~") / ".claude-work"))
        self.choose = QPushButton("Choose…")
        self.choose.clicked.connect(self._choose)
        folder_row.addWidget(self.folder_edit, 1)
        folder_row.addWidget(self.choose)
        form.addRow("Folder", folder_row)
        self.add_button = QPushButton("Add account")
        self.add_button.setObjectName("add-account")
        self.add_button.setEnabled(False)
        self.add_button.clicked.connect(self._add)
        form.addRow("", self.add_button)
        self.add_error = _role(QLabel(""), "error")
        self.add_error.setObjectName("add-error")
        self.add_error.hide()
        form.addRow(self.add_error)
        self.folder_note = _role(QLabel(""), "hint")
        self.folder_note.setObjectName("folder-note")
        self.folder_note.hide()
        form.addRow(self.folder_note)
        root.addWidget(add_box)
        self.cswap_box = QGroupBox("claude-swap")
        swap = QVBoxLayout(self.cswap_box)
        swap_line = QHBoxLayout()
        swap_line.addWidget(
            _role(QLabel("claude-swap is installed: see which of its slots have an account here."), "hint"), 1
        )
        self.cswap_button = QPushButton("Read claude-swap's slots")
        self.cswap_button.setObjectName("cswap-read")
        self.cswap_button.setToolTip(
            display_text("Runs `cswap --list --json`, read-only: nothing is switched")
        )
        self.cswap_button.clicked.connect(self.cswap_requested)
        swap_line.addWidget(self.cswap_button)
        swap.addLayout(swap_line)
        self.cswap_lines = QLabel("")
        self.cswap_lines.setObjectName("cswap-lines")
        self.cswap_lines.setWordWrap(True)
        self.cswap_lines.hide()
        swap.addWidget(self.cswap_lines)
        self.cswap_box.hide()
        root.addWidget(self.cswap_box)
        self.error = _role(QLabel(""), "error")
        self.error.setObjectName("accounts-error")
        self.error.hide()
        root.addWidget(self.error)
        root.addStretch(1)
        self.label_edit.textChanged.connect(self._check)
        self.folder_edit.textChanged.connect(self._check)
        self.folder_edit.editingFinished.connect(self._folder_done)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.refresh_requested.emit()

    # ----- values in
    def set_rows(self, rows: list[AccountRow]) -> None:
        """Every account, the default first (the page redraws its list)."""
        self.rows = list(rows)
        while self.list_rows.count():
            item = self.list_rows.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.boxes = {}
        for row in rows:
            box = self.boxes[row.account.label] = AccountBox(row, self)
            self.list_rows.addWidget(box)
        self._check()

    def show_error(self, message: str) -> None:
        """A refusal or failure of a rename or a removal ("" hides it)."""
        self.error.setText(message)
        self.error.setVisible(bool(message))

    def show_add_error(self, message: str) -> None:
        self.add_error.setText(message)
        self.add_error.setVisible(bool(message))

    def show_folder_note(self, message: str) -> None:
        """A word on the folder being added ("no Claude Code login in it yet")."""
        self.folder_note.setText(display_text(message))
        self.folder_note.setVisible(bool(message))

    def set_cswap_available(self, available: bool) -> None:
        self.cswap_box.setVisible(available)

    def show_cswap(self, lines: list[str]) -> None:
        """claude-swap's slots, one line each, or what went wrong."""
        self.cswap_lines.setText("\n".join(lines))
        self.cswap_lines.setVisible(bool(lines))

    def added(self) -> None:
        """The account was added: the fields are emptied for the next one."""
        for edit in (self.label_edit, self.folder_edit):
            edit.blockSignals(True)
            edit.clear()
            edit.blockSignals(False)
        self._check()

    # ----- intents
    def folder(self) -> Path | None:
        text = self.folder_edit.text().strip()
        return Path(text).expanduser().absolute() if text else None

    def _check(self, *_: object) -> str | None:
        """Check the new account as typed (label rules, duplicates); the error shows inline."""
        label, folder = self.label_edit.text(), self.folder()
        error: str | None = None
        if label.strip() and folder is not None:
            try:
                check_new([r.account for r in self.rows], label, folder)
            except AccountError as exc:
                error = str(exc)
        elif label.strip():
            try:
                validate_label(label)
            except AccountError as exc:
                error = str(exc)
        self.show_add_error(f"{error[:1].upper()}{error[1:]}." if error else "")
        self.add_button.setEnabled(error is None and bool(label.strip()) and folder is not None)
        return error

    def _add(self) -> None:
        folder = self.folder()
        if self._check() is None and folder is not None:
            self.add_requested.emit(self.label_edit.text().strip(), str(folder))

    def _folder_done(self) -> None:
        folder = self.folder()
        if folder is not None:
            self.folder_chosen.emit(str(folder))
        else:
            self.show_folder_note("")

    def _choose(self) -> None:
        start = self.folder_edit.text().strip() or str(Path.home())
        chosen = QFileDialog.getExistingDirectory(self, "Claude Code config folder", start)
        if chosen:
            self.folder_edit.setText(chosen)
            self._folder_done()
