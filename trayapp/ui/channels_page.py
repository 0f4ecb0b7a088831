"""The "Alert channels" page of the settings dialog: secrets, Telegram chat linking, "Send test".

The schema-driven tabs already edit the plain settings (``telegram.enabled``, ``quips.model``,
``sound.volume``...); this page adds what a schema row cannot do. It is a view: it emits intents
and shows the outcomes that :class:`~trayapp.services.channels_service.ChannelsService` announces
(:func:`make_page` wires the two). Secret fields hand their value to the service and clear
themselves; a value is never read back into a widget: a row only shows whether the secret is set
and where from.

Signals:
    save_requested(str, str): store a secret (its name and the pasted value; never shown again).
    remove_requested(str): remove a secret from the keyring (its name).
    refresh_requested(): re-check whether each secret is set (the page was shown).
    link_requested(): link the Telegram chat that last wrote to the bot.
    test_requested(str): send the sample alert through a channel, or "all".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
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
    "telegram-bot-token": "Telegram bot token",
    "slack-webhook-url": "Slack webhook URL",
    "anthropic-api-key": "Anthropic API key (quips)",
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
        self.edit.setPlaceholderText("paste to store in the keyring")
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
    """Secrets, Telegram linking and "Send test". Embed it as a tab of the settings dialog."""

    save_requested = Signal(str, str)
    remove_requested = Signal(str)
    refresh_requested = Signal()
    link_requested = Signal()
    test_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("channels-page")
        self.service: ChannelsService | None = None  # kept alive by the page (make_page)
        self.rows = {name: SecretRow(name, self) for name in NAMES}

        secrets_box = QGroupBox("Secrets (stored in the OS keyring, never in the settings file)")
        form = QFormLayout(secrets_box)
        for name, row in self.rows.items():
            form.addRow(LABELS[name], row)

        telegram_box = QGroupBox("Telegram")
        tg = QVBoxLayout(telegram_box)
        tg.addWidget(
            QLabel("Create a bot with @BotFather, store its token above, send it any message, then:")
        )
        link_row = QHBoxLayout()
        self.link_button = QPushButton("Link chat")
        self.link_button.setObjectName("link-chat")
        self.chat_label = QLabel()
        self.chat_label.setObjectName("chat-status")
        self.chat_label.setWordWrap(True)
        link_row.addWidget(self.link_button)
        link_row.addWidget(self.chat_label, 1)
        tg.addLayout(link_row)
        self.link_button.clicked.connect(self._link)

        test_box = QGroupBox("Try it")
        tb = QHBoxLayout(test_box)
        self.test_channel = QComboBox()
        self.test_channel.setObjectName("test-channel")
        self.test_channel.addItems(list(CHANNEL_CHOICES))
        self.test_button = QPushButton("Send test")
        self.test_button.setObjectName("send-test")
        self.test_result = QLabel()
        self.test_result.setObjectName("test-result")
        self.test_result.setWordWrap(True)
        tb.addWidget(self.test_channel)
        tb.addWidget(self.test_button)
        tb.addWidget(self.test_result, 1)
        self.test_button.clicked.connect(self._test)

        layout = QVBoxLayout(self)
        layout.addWidget(secrets_box)
        layout.addWidget(telegram_box)
        layout.addWidget(test_box)
        layout.addStretch(1)
        self.show_chat(None)

    # --- intents
    def _link(self) -> None:
        self.link_button.setEnabled(False)
        self.chat_label.setText("Looking for your message…")
        self.link_requested.emit()

    def _test(self) -> None:
        self.test_button.setEnabled(False)
        self.test_result.setText("Sending…")
        self.test_requested.emit(self.test_channel.currentText())

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
        self.test_result.setText(results_text(outcome))
        self.test_button.setEnabled(True)


def make_page(service: ChannelsService) -> ChannelsPage:
    """The page wired to ``service``: intents start its coroutines, its outcomes fill the page."""
    page = ChannelsPage()
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
