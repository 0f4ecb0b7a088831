"""The channel actions of the Settings dialog: secrets, Telegram chat linking, "Send test".

The dialog's Notifications page already edits the plain settings (``telegram.enabled``,
``quips.model``, ``sound.volume``...); this page adds what a schema field cannot do, in one block
per channel that the dialog places beside that channel's settings. It is a view: it emits intents
and shows the outcomes that :class:`~trayapp.services.channels_service.ChannelsService` announces
(:func:`make_page` wires the two). Secret fields hand their value to the service and clear
themselves; a value is never read back into a widget: a row only shows whether the secret is set
and where from.

Signals:
    save_requested(str, str): store a secret (its name and the pasted value; never shown again).
    remove_requested(str): remove a secret from the keyring (its name).
    refresh_requested(): re-check whether each secret is set (the page was shown).
    link_requested(): link the Telegram chat that last wrote to the bot.
    test_requested(str): send the sample alert through a channel, or "all" (each channel has its
        own "Send test" button, its outcome shown beside it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from trayapp.platform.secrets import ENV_OVERRIDES, NAMES, SecretStatus
from trayapp.services.channels_service import CHANNEL_CHOICES, LinkOutcome, SendOutcome

if TYPE_CHECKING:
    from trayapp.services.channels_service import ChannelsService

LABELS = {
    "telegram-bot-token": "Bot token",
    "slack-webhook-url": "Webhook URL",
    "anthropic-api-key": "Anthropic API key",
}


def status_text(name: str, status: SecretStatus) -> str:
    """A secret row's status line."""
    if status.is_set and status.origin == "keyring":
        return "Set in the keyring."
    if status.is_set:
        return f"Set by the environment variable {ENV_OVERRIDES[name]} (it overrides the keyring)."
    if status.origin:
        return status.origin.capitalize()
    return "Not set."


def results_text(outcome: SendOutcome) -> str:
    """What "Send test" shows: the quip, then each channel's outcome."""
    lines: list[str] = []
    result = outcome.result
    if result is not None:
        lines = [
            f"{d.channel}: {'delivered' if d.ok else 'failed'}" + (f" ({d.detail})" if d.detail else "")
            for d in result.deliveries
        ]
    lines += [f"{m}: not available" for m in outcome.missing]
    if outcome.error:
        lines.append(f"Not sent: {outcome.error}")
    if not lines:
        lines = ["No channel is turned on."]
    if result is not None and result.quip is not None:
        lines.insert(0, f"Quip: {result.quip.text}")
    return "\n".join(lines)


class SecretRow(QWidget):
    """Password field + Save + Remove + a status line; the value never comes back into the UI."""

    def __init__(self, name: str, page: ChannelsPage) -> None:
        super().__init__()
        self.name = name
        self.page = page
        self.edit = QLineEdit()
        self.edit.setObjectName(f"secret:{name}")
        self.edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.edit.setPlaceholderText("Paste to store")
        self.edit.setToolTip("Stored in the OS keyring, never in the settings file; never shown again.")
        self.save = QPushButton("Save")
        self.save.setObjectName(f"save:{name}")
        self.remove = QPushButton("Remove")
        self.remove.setObjectName(f"remove:{name}")
        self.status = QLabel("checking…")
        self.status.setObjectName(f"status:{name}")
        self.status.setWordWrap(True)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.edit, 1)
        row.addWidget(self.save)
        row.addWidget(self.remove)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addLayout(row)
        box.addWidget(self.status)
        self.save.clicked.connect(self._save)
        self.edit.returnPressed.connect(self._save)
        self.remove.clicked.connect(lambda: self.page.remove_requested.emit(self.name))

    def _save(self) -> None:
        value = self.edit.text().strip()
        self.edit.clear()  # the value lives only in this call (and the service's) from here on
        if not value:
            self.status.setText("Nothing to save: paste the value first.")
            return
        self.status.setText("Saving to the keyring…")
        self.page.save_requested.emit(self.name, value)


class ChannelsPage(QWidget):
    """Secrets, Telegram linking and a "Send test" per channel.

    The widgets come in blocks, one per channel (:attr:`BLOCKS`): :meth:`block_rows` gives a
    block's labelled rows, which the Settings dialog places in its own channel groups (next to
    the channel's on/off and settings); shown alone, the page lays the blocks out itself.
    ``before_test`` (optional) runs before a test is sent: the dialog saves pending edits there,
    so a test uses what the user sees; it returns a problem to show instead of sending, or None.
    """

    BLOCKS = {
        "telegram": "Telegram",
        "slack": "Slack",
        "sound": "Sound",
        "desktop": "Desktop notifications",
        "quips": "Quips written by Claude",
        "all": "Every channel",
    }
    SECRET_OF = {"telegram": "telegram-bot-token", "slack": "slack-webhook-url", "quips": "anthropic-api-key"}

    save_requested = Signal(str, str)
    remove_requested = Signal(str)
    refresh_requested = Signal()
    link_requested = Signal()
    test_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("channels-page")
        self.service: ChannelsService | None = None  # kept alive by the page (make_page)
        self.before_test: Callable[[], str | None] | None = None
        self.rows = {name: SecretRow(name, self) for name in NAMES}
        self.link_button = QPushButton("Link chat")
        self.link_button.setObjectName("link-chat")
        self.link_button.setToolTip(
            "Create a bot with @BotFather, store its token, send it any message, then link."
        )
        self.chat_label = QLabel()
        self.chat_label.setObjectName("chat-status")
        self.chat_label.setWordWrap(True)
        self.link_button.clicked.connect(self._link)
        self.test_buttons: dict[str, QPushButton] = {}
        self.test_results: dict[str, QLabel] = {}
        for channel in CHANNEL_CHOICES:
            button = QPushButton(
                "Send a test to every channel that is on" if channel == "all" else "Send test"
            )
            button.setObjectName(f"send-test:{channel}")
            result = QLabel()
            result.setObjectName(f"test-result:{channel}")
            result.setWordWrap(True)
            result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            button.clicked.connect(lambda _=False, c=channel: self._test(c))
            self.test_buttons[channel] = button
            self.test_results[channel] = result
        self._testing: str | None = None
        self._placed = False
        self.show_chat(None)

    def block_rows(self, channel: str) -> list[tuple[str, QWidget]]:
        """``channel``'s rows as (label, widget), for a form layout (they move to its parent)."""
        rows: list[tuple[str, QWidget]] = []
        secret = self.SECRET_OF.get(channel)
        if secret is not None:
            rows.append((LABELS[secret], self.rows[secret]))
        if channel == "telegram":
            rows.append(("", _line(self.link_button, self.chat_label)))
        if channel in self.test_buttons:
            rows.append(("", _line(self.test_buttons[channel], self.test_results[channel])))
        return rows

    def placed(self) -> None:
        """The dialog took the blocks: the page itself stays empty (it keeps the signals)."""
        self._placed = True

    def lay_out_alone(self) -> None:
        """Group boxes of every block, for the page shown on its own."""
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Secrets are stored in the OS keyring, never in the settings file."))
        for channel, title in self.BLOCKS.items():
            box = QGroupBox(title)
            form = QFormLayout(box)
            for label, widget in self.block_rows(channel):
                form.addRow(label, widget)
            layout.addWidget(box)
        layout.addStretch(1)

    # --- intents
    def _link(self) -> None:
        self.link_button.setEnabled(False)
        self.chat_label.setText("Looking for your message…")
        self.link_requested.emit()

    def _test(self, channel: str) -> None:
        result = self.test_results[channel]
        problem = self.before_test() if self.before_test is not None else None
        if problem:
            result.setText(problem)
            return
        self._testing = channel
        for button in self.test_buttons.values():
            button.setEnabled(False)  # one test at a time: its outcome goes under its button
        result.setText("Sending…")
        self.test_requested.emit(channel)

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self.refresh_requested.emit()

    # --- outcomes
    def show_status(self, name: str, status: SecretStatus) -> None:
        self.rows[name].status.setText(status_text(name, status))

    def show_problem(self, name: str, message: str) -> None:
        self.rows[name].status.setText(message)

    def show_chat(self, chat_id: str | None) -> None:
        self.chat_label.setText(f"Linked to chat {chat_id}." if chat_id else "No chat linked yet.")

    def show_link(self, outcome: LinkOutcome) -> None:
        self.chat_label.setText(outcome.message)
        self.link_button.setEnabled(True)

    def show_test(self, outcome: SendOutcome) -> None:
        channel = self._testing or "all"
        self._testing = None
        self.test_results[channel].setText(results_text(outcome))
        for button in self.test_buttons.values():
            button.setEnabled(True)


def _line(*widgets: QWidget) -> QWidget:
    box = QWidget()
    row = QHBoxLayout(box)
    row.setContentsMargins(0, 0, 0, 0)
    for i, w in enumerate(widgets):
        row.addWidget(w, 1 if i == len(widgets) - 1 else 0)
    return box


def make_page(service: ChannelsService, alone: bool = True) -> ChannelsPage:
    """The page wired to ``service``: intents start its coroutines, its outcomes fill the page.
    ``alone``: lay the blocks out on the page (False when the Settings dialog places them)."""
    page = ChannelsPage()
    if alone:
        page.lay_out_alone()
    page.service = service
    page.save_requested.connect(lambda name, value: service.run(service.store_secret(name, value)))
    page.remove_requested.connect(lambda name: service.run(service.remove_secret(name)))
    page.refresh_requested.connect(lambda: service.run(service.check_all()))
    page.link_requested.connect(lambda: service.run(service.link_chat()))
    page.test_requested.connect(lambda choice: service.run(service.send_test(choice)))
    service.secret_checked.connect(page.show_status)
    service.secret_failed.connect(page.show_problem)
    service.chat_linked.connect(page.show_link)
    service.test_finished.connect(page.show_test)
    page.show_chat(service.chat_id())
    return page
