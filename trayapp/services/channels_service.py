"""The work behind the settings dialog's "Alert channels" page: secrets, Telegram linking, "Send test".

The page (``ui/channels_page.py``) is a view: it emits intents and shows outcomes. This service
does the work without blocking the GUI thread: secrets go through the
:class:`~trayapp.platform.secrets.SecretStore` coroutine API (the keyring lane, with its
timeout), "Link chat" reads the bot's ``getUpdates`` over HTTP and saves ``telegram.chat_id``
through :meth:`Settings.update`, and "Send test" sends the sample 90% alert
(:func:`trayapp.channels.sample.sample_alert`) through the app's dispatcher exactly as
``claude-watch notify test`` does. Each coroutine announces its outcome as a signal and returns
it; :meth:`ChannelsService.run` starts one in the service's own runtime task group (a click),
and :meth:`ChannelsService.wait_idle` waits for them. A secret value is never emitted, stored
anywhere but the keyring, or put in a message.

Signals:
    secret_checked(str, object): a secret's name and :class:`~trayapp.platform.secrets.SecretStatus`.
    secret_failed(str, str): a secret's name and why it was not stored or removed (safe to show).
    secret_changed(str): a secret was stored or removed (its name; never the value).
    chat_linked(object): the :class:`LinkOutcome` of "Link chat".
    settings_changed(list): settings keys this service saved (``telegram.chat_id``, ``telegram.enabled``).
    test_finished(object): the :class:`SendOutcome` of "Send test".
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from trayapp import runtime
from trayapp.platform import secrets as sec

if TYPE_CHECKING:
    from trayapp.channels.dispatcher import Dispatcher, DispatchResult
    from trayapp.settings import Settings

log = logging.getLogger(__name__)

CHANNEL_CHOICES = ("all", "desktop", "telegram", "slack", "sound")


@dataclass(frozen=True, slots=True)
class LinkOutcome:
    """What "Link chat" did: ``message`` is for the user; ``chat_id`` is set when a chat was saved."""

    message: str
    chat_id: str | None = None


@dataclass(frozen=True, slots=True)
class SendOutcome:
    """What "Send test" did: the dispatch (None when no channel was chosen or it failed), the
    channels asked for that the dispatcher does not have, and an internal error if any."""

    result: DispatchResult | None
    missing: tuple[str, ...] = ()
    error: str | None = None


class ChannelsService(QObject):
    """Secrets, Telegram linking and "Send test" for the channels page (see the module docstring).

    ``dispatcher_factory`` gives the dispatcher "Send test" uses (the app passes its own, so the
    test takes the same channels, outbox and quip writer as a real alert); by default the
    standard one from :func:`trayapp.channels.dispatcher.build_default`.
    """

    secret_checked = Signal(str, object)
    secret_failed = Signal(str, str)
    secret_changed = Signal(str)
    chat_linked = Signal(object)
    settings_changed = Signal(list)
    test_finished = Signal(object)

    def __init__(
        self,
        settings: Settings,
        store: sec.SecretStore | None = None,
        dispatcher_factory: Callable[[], Dispatcher] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.settings = settings
        self.store = store or sec.default_store()
        self.dispatcher_factory = dispatcher_factory

    # --- starting work from a click
    def run(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any] | None:
        """Start ``coro`` (one of the coroutines below) in this service's task group; without a
        running event loop (a widget test) it is dropped and None is returned."""
        name = getattr(coro, "__qualname__", "work")  # ChannelsService.link_chat, ...
        return runtime.try_spawn(coro, f"channels: {name}", group=self)

    async def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait for everything :meth:`run` started (tests; a dialog about to close)."""
        return await runtime.wait(timeout, group=self)

    def chat_id(self) -> str | None:
        """The linked Telegram chat, or None."""
        chat = self.settings.get("telegram.chat_id")
        return str(chat) if chat else None

    # --- secrets
    async def check(self, name: str) -> sec.SecretStatus:
        """Whether ``name`` is set, and where from (``secret_checked``)."""
        status = await self.store.astatus(name)
        self.secret_checked.emit(name, status)
        return status

    async def check_all(self) -> None:
        for name in sec.NAMES:
            await self.check(name)

    async def store_secret(self, name: str, value: str) -> bool:
        """Validate ``value`` and store it in the keyring; False (and ``secret_failed``) when not."""
        value = value.strip()
        if not value:
            self.secret_failed.emit(name, "Nothing to save: paste the value first.")
            return False
        problem = sec.validate(name, value)
        if problem:
            self.secret_failed.emit(name, f"Not saved: {problem}.")
            return False
        try:
            await self.store.aset(name, value)
        except sec.SecretsError as exc:
            self.secret_failed.emit(name, f"Not saved: {exc}")
            return False
        self.secret_changed.emit(name)
        await self.check(name)
        return True

    async def remove_secret(self, name: str) -> bool:
        """Remove ``name`` from the keyring; False when it was not there or the keyring failed."""
        try:
            removed = await self.store.adelete(name)
        except sec.SecretsError as exc:
            self.secret_failed.emit(name, f"Could not remove: {exc}")
            return False
        if removed:
            self.secret_changed.emit(name)
        await self.check(name)
        return removed

    # --- Telegram
    async def link_chat(self) -> LinkOutcome:
        """Find the chat that last wrote to the bot and save it as ``telegram.chat_id``."""
        try:
            outcome = await self._link()
        except Exception as exc:  # a bug must not leave the page waiting for an answer
            log.exception("linking a Telegram chat failed")
            outcome = LinkOutcome(f"Could not link: internal error ({type(exc).__name__}).")
        self.chat_linked.emit(outcome)
        return outcome

    async def _link(self) -> LinkOutcome:
        from trayapp.channels import telegram as tg

        token = await self.store.aget_quietly(tg.TOKEN_SECRET)
        if not token:
            return LinkOutcome("Store the bot token first.")
        try:
            chats = tg.chats_from_updates(await tg.get_updates(token))
        except tg.TelegramError as exc:
            return LinkOutcome(f"Could not link: {exc}.")
        if not chats:
            return LinkOutcome("No message found: send any message to your bot, then try again.")
        chosen = chats[0]
        chat_id = str(chosen.chat_id)
        try:
            self.settings.update({"telegram.chat_id": chat_id, "telegram.enabled": True})
        except (OSError, ValueError) as exc:  # ValueError: the settings file does not parse
            return LinkOutcome(f"Found chat {chat_id} but could not save settings: {exc}")
        self.settings_changed.emit(["telegram.chat_id", "telegram.enabled"])
        return LinkOutcome(f"Linked to {chosen.title} (chat {chat_id}).", chat_id)

    # --- "Send test"
    def _dispatcher(self) -> Dispatcher:
        if self.dispatcher_factory is not None:
            return self.dispatcher_factory()
        from trayapp.channels.dispatcher import build_default

        return build_default(self.settings.get)

    async def send_test(self, choice: str) -> SendOutcome:
        """Send the sample alert through ``choice`` (a channel name, or "all" turned-on channels)."""
        try:
            outcome = await self._send_test(choice)
        except Exception as exc:  # the dispatcher never raises for a channel; this is a bug
            log.exception("sending a test alert failed")
            outcome = SendOutcome(None, error=f"internal error ({type(exc).__name__})")
        self.test_finished.emit(outcome)
        return outcome

    async def _send_test(self, choice: str) -> SendOutcome:
        from trayapp.channels.sample import sample_alert

        dispatcher = self._dispatcher()
        names = [c.name for c in dispatcher.channels]
        if choice == "all":
            wanted = [c.name for c in dispatcher.channels if c.enabled()]
        else:
            wanted = [choice]
        missing = tuple(w for w in wanted if w not in names)
        wanted = [w for w in wanted if w in names]
        result = await dispatcher.dispatch(sample_alert(), only=wanted) if wanted else None
        return SendOutcome(result, missing)
