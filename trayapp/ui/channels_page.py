"""The "Alert channels" page of the settings dialog: secrets, Telegram chat linking, "Send test".

The schema-driven tab already edits the plain settings (``telegram.enabled``, ``quips.model``,
``sound.volume``...); this page adds what a schema row cannot do. Secret fields write straight to
the OS keyring and are never read back into a widget: a row only shows whether the secret is set
and where from. "Link chat" reads the bot's ``getUpdates`` and saves ``telegram.chat_id``; "Send
test" sends the sample 90% alert through the chosen channels exactly as ``claude-watch notify
test`` does. Every keyring and network call runs as an asyncio task (qasync in the app), so the
GUI thread never waits; results come back as widget updates on the GUI thread.

Signals:
    secret_changed(str): a secret was stored or removed (its name; never the value).
    settings_changed(list): settings keys this page saved (``telegram.chat_id``, ``telegram.enabled``).
    test_finished(object): the :class:`~trayapp.channels.dispatcher.DispatchResult` of "Send test".
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
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

from trayapp import settings as st
from trayapp.platform import secrets as sec

if TYPE_CHECKING:
    from trayapp.channels.dispatcher import Dispatcher

log = logging.getLogger(__name__)

LABELS = {
    "telegram-bot-token": "Telegram bot token",
    "slack-webhook-url": "Slack webhook URL",
    "anthropic-api-key": "Anthropic API key (quips)",
}


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
        self.remove.clicked.connect(lambda: self.page.spawn(self._remove()))

    def _save(self) -> None:
        value = self.edit.text().strip()
        self.edit.clear()  # the value lives only in this call from here on
        if not value:
            self.status.setText("Nothing to save: paste the value first.")
            return
        problem = sec.validate(self.name, value)
        if problem:
            self.status.setText(f"Not saved: {problem}.")
            return
        self.page.spawn(self._store(value))

    async def _store(self, value: str) -> None:
        self.status.setText("Saving to the keyring…")
        try:
            await self.page.store.aset(self.name, value)
        except sec.SecretsError as exc:
            self.status.setText(f"Not saved: {exc}")
            return
        self.page.secret_changed.emit(self.name)
        await self.refresh()

    async def _remove(self) -> None:
        try:
            removed = await self.page.store.adelete(self.name)
        except sec.SecretsError as exc:
            self.status.setText(f"Could not remove: {exc}")
            return
        if removed:
            self.page.secret_changed.emit(self.name)
        await self.refresh()

    async def refresh(self) -> None:
        status = await self.page.store.astatus(self.name)
        if status.is_set and status.origin == "keyring":
            self.status.setText("Set in the keyring.")
        elif status.is_set:
            var = sec.ENV_OVERRIDES[self.name]
            self.status.setText(f"Set by the environment variable {var} (it overrides the keyring).")
        elif status.origin:
            self.status.setText(status.origin.capitalize())
        else:
            self.status.setText("Not set.")


class ChannelsPage(QWidget):
    """Secrets, Telegram linking and "Send test". Embed it as a tab of the settings dialog.

    ``dispatcher_factory`` builds the dispatcher used by "Send test" (default: the standard one
    from :func:`trayapp.channels.dispatcher.build_default`, with the desktop channel when given).
    """

    secret_changed = Signal(str)
    settings_changed = Signal(list)
    test_finished = Signal(object)

    def __init__(
        self,
        settings: st.Settings,
        store: sec.SecretStore | None = None,
        dispatcher_factory: Callable[[], Dispatcher] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("channels-page")
        self.settings = settings
        self.store = store or sec.default_store()
        self.dispatcher_factory = dispatcher_factory
        self.tasks: set[asyncio.Task[Any]] = set()
        self.rows = {name: SecretRow(name, self) for name in sec.NAMES}

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
        self.link_button.clicked.connect(lambda: self.spawn(self.link_chat()))

        test_box = QGroupBox("Try it")
        tb = QHBoxLayout(test_box)
        self.test_channel = QComboBox()
        self.test_channel.setObjectName("test-channel")
        self.test_channel.addItems(["all", "desktop", "telegram", "slack", "sound"])
        self.test_button = QPushButton("Send test")
        self.test_button.setObjectName("send-test")
        self.test_result = QLabel()
        self.test_result.setObjectName("test-result")
        self.test_result.setWordWrap(True)
        tb.addWidget(self.test_channel)
        tb.addWidget(self.test_button)
        tb.addWidget(self.test_result, 1)
        self.test_button.clicked.connect(lambda: self.spawn(self.send_test(self.test_channel.currentText())))

        layout = QVBoxLayout(self)
        layout.addWidget(secrets_box)
        layout.addWidget(telegram_box)
        layout.addWidget(test_box)
        layout.addStretch(1)
        self._show_chat()

    # --- task plumbing: keep a reference, report exceptions
    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any] | None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # shown without the qasync loop (a widget test): nothing can run
            coro.close()
            log.debug("channels page: no running event loop; task skipped")
            return None
        task = loop.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("channels page task failed", exc_info=task.exception())

    async def wait_idle(self) -> None:
        """Wait for every running task (tests, and the dialog before it closes)."""
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)

    def refresh(self) -> asyncio.Task[Any] | None:
        """Re-read whether each secret is set (off the GUI thread)."""

        async def all_rows() -> None:
            for row in self.rows.values():
                await row.refresh()

        return self.spawn(all_rows())

    def showEvent(self, event: Any) -> None:  # noqa: N802 (Qt naming)
        super().showEvent(event)
        self.refresh()

    def _show_chat(self) -> None:
        chat = self.settings.get("telegram.chat_id")
        self.chat_label.setText(f"Linked to chat {chat}." if chat else "No chat linked yet.")

    async def link_chat(self) -> None:
        from trayapp.channels import telegram as tg

        self.link_button.setEnabled(False)
        try:
            token = await self.store.aget_quietly(tg.TOKEN_SECRET)
            if not token:
                self.chat_label.setText("Store the bot token first.")
                return
            self.chat_label.setText("Looking for your message…")
            try:
                chats = tg.chats_from_updates(await tg.get_updates(token))
            except tg.TelegramError as exc:
                self.chat_label.setText(f"Could not link: {exc}.")
                return
            if not chats:
                self.chat_label.setText("No message found: send any message to your bot, then try again.")
                return
            chosen = chats[0]
            self.settings.set("telegram.chat_id", str(chosen.chat_id))
            self.settings.set("telegram.enabled", True)
            try:
                self.settings.save()
            except OSError as exc:
                self.chat_label.setText(f"Found chat {chosen.chat_id} but could not save settings: {exc}")
                return
            self.settings_changed.emit(["telegram.chat_id", "telegram.enabled"])
            self.chat_label.setText(f"Linked to {chosen.title} (chat {chosen.chat_id}).")
        finally:
            self.link_button.setEnabled(True)

    def _dispatcher(self) -> Dispatcher:
        if self.dispatcher_factory is not None:
            return self.dispatcher_factory()
        from trayapp.channels.dispatcher import build_default

        return build_default(self.settings.get)

    async def send_test(self, choice: str) -> None:
        from trayapp.cli.notify import sample_alert

        self.test_button.setEnabled(False)
        self.test_result.setText("Sending…")
        try:
            dispatcher = self._dispatcher()
            names = [c.name for c in dispatcher.channels]
            wanted = names if choice == "all" else [choice]
            if choice == "all":
                wanted = [c.name for c in dispatcher.channels if c.enabled()]
            missing = [w for w in wanted if w not in names]
            wanted = [w for w in wanted if w in names]
            result = await dispatcher.dispatch(sample_alert(), only=wanted)
            lines = [
                f"{d.channel}: {'delivered' if d.ok else 'failed'}" + (f" ({d.detail})" if d.detail else "")
                for d in result.deliveries
            ]
            lines += [f"{m}: not available" for m in missing]
            if not lines:
                lines = ["No channel is turned on."]
            if result.quip is not None:
                lines.insert(0, f"Quip: {result.quip.text}")
            self.test_result.setText("\n".join(lines))
            self.test_finished.emit(result)
        finally:
            self.test_button.setEnabled(True)
