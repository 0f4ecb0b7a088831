"""Telegram alerts through the Bot API (``sendMessage`` over httpx), via the persisted outbox.

The bot token comes from the keyring (``telegram-bot-token``) or ``CLAUDE_WATCH_TELEGRAM_BOT_TOKEN``;
the chat id from the ``telegram.chat_id`` setting or ``CLAUDE_WATCH_TELEGRAM_CHAT_ID``. The API
base is ``https://api.telegram.org`` unless ``CLAUDE_WATCH_TELEGRAM_API_BASE`` says otherwise
(tests). Error answers follow the Bot API: ``{"ok": false, "error_code", "description",
"parameters": {"retry_after"}}``. The token is part of every URL, so it is registered with the
log redaction filter and never appears in a message this module produces.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

from trayapp.channels.http import http_client
from trayapp.channels.outbox import Attempt, SettingsChannel
from trayapp.platform.secrets import redact, register_sensitive

log = logging.getLogger(__name__)

DEFAULT_BASE = "https://api.telegram.org"
BASE_ENV = "CLAUDE_WATCH_TELEGRAM_API_BASE"
CHAT_ENV = "CLAUDE_WATCH_TELEGRAM_CHAT_ID"
TOKEN_SECRET = "telegram-bot-token"
MAX_TEXT = 4096
TIMEOUT = 10.0


def api_base() -> str:
    return (os.environ.get(BASE_ENV) or DEFAULT_BASE).rstrip("/")


class TelegramError(RuntimeError):
    """A Bot API call failed; the message never contains the token."""


class TelegramTransport:
    """One bot talking to one chat."""

    def __init__(self, token: str, chat_id: str, base: str | None = None, timeout: float = TIMEOUT) -> None:
        self.token = token
        self.chat_id = chat_id
        self.base = (base or api_base()).rstrip("/")
        self.timeout = timeout
        register_sensitive(token)

    def _url(self, method: str) -> str:
        return f"{self.base}/bot{self.token}/{method}"

    async def call(self, method: str, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """POST a Bot API method; returns (HTTP status, decoded body). Raises httpx errors."""

        async with http_client(self.timeout) as client:
            response = await client.post(self._url(method), json=payload)
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        return response.status_code, body

    async def post(self, text: str) -> Attempt:
        import httpx

        payload = {"chat_id": self.chat_id, "text": text[:MAX_TEXT], "disable_web_page_preview": True}
        try:
            status, body = await self.call("sendMessage", payload)
        except httpx.TimeoutException:
            return Attempt(False, "Telegram did not answer in time")
        except httpx.HTTPError as exc:
            return Attempt(False, f"cannot reach Telegram ({type(exc).__name__}); offline?")
        return interpret(status, body, self.token)


# Bot API descriptions worth showing; any other text from the server is replaced by the status, so
# an answer that echoes the token back in some form never reaches a log, the outbox or the screen.
_KNOWN_DESCRIPTIONS = (
    "chat not found",
    "bot was blocked by the user",
    "bot can't initiate conversation with a user",
    "bot was kicked",
    "user is deactivated",
    "not enough rights",
    "message is too long",
    "can't parse entities",
    "too many requests",
    "unauthorized",
    "forbidden",
)


def known_description(description: object, status: int, token: str = "") -> str:
    """The server's description when it contains one of the known Bot API phrases (that phrase
    alone, lower-case), else ``HTTP <status>``."""
    text = redact(str(description or ""), token).lower()
    for phrase in _KNOWN_DESCRIPTIONS:
        if phrase in text:
            return phrase
    return f"HTTP {status}"


def interpret(status: int, body: dict[str, Any], token: str = "") -> Attempt:
    """Turn a Bot API answer into an :class:`Attempt` (pure; tested on every error shape)."""
    if status == 200 and body.get("ok") is True:
        return Attempt(True, "sent")
    code = body.get("error_code", status)
    description = known_description(body.get("description"), status, token)
    params = body.get("parameters") if isinstance(body.get("parameters"), dict) else {}
    if code == 429 or status == 429:
        retry = params.get("retry_after") if params else None
        retry_after = float(retry) if isinstance(retry, int | float) and retry >= 0 else 30.0
        return Attempt(False, f"Telegram rate limit: {description}", retry_after=retry_after)
    if status >= 500 or (isinstance(code, int) and code >= 500):
        return Attempt(False, f"Telegram server error ({status})")
    if status in (401, 404) or code in (401, 404):
        return Attempt(
            False,
            "the bot token was rejected; store it again with `claude-watch secrets set telegram-bot-token`",
            permanent=True,
        )
    if "chat not found" in description.lower():
        return Attempt(
            False,
            "chat not found: message your bot, then run `claude-watch telegram link`",
            permanent=True,
        )
    if status == 403 or code == 403:
        return Attempt(False, f"Telegram refused: {description} (was the bot blocked?)", permanent=True)
    if params and "migrate_to_chat_id" in params:
        return Attempt(
            False, "the group became a supergroup; run `claude-watch telegram link` again", permanent=True
        )
    return Attempt(False, f"Telegram refused the message: {description}", permanent=True)


@dataclass(frozen=True, slots=True)
class ChatCandidate:
    chat_id: int
    title: str
    kind: str
    update_id: int


def chats_from_updates(updates: list[Any]) -> list[ChatCandidate]:
    """Distinct chats in a getUpdates result, most recent first."""
    seen: dict[int, ChatCandidate] = {}
    for update in updates:
        if not isinstance(update, dict):
            continue
        for key in ("message", "edited_message", "channel_post", "my_chat_member", "edited_channel_post"):
            msg = update.get(key)
            if not isinstance(msg, dict) or not isinstance(msg.get("chat"), dict):
                continue
            chat = msg["chat"]
            cid = chat.get("id")
            if not isinstance(cid, int) or isinstance(cid, bool):
                continue
            title = chat.get("title") or " ".join(
                p for p in (chat.get("first_name"), chat.get("last_name")) if p
            )
            if chat.get("username"):
                title = f"{title} (@{chat['username']})".strip()
            uid = update.get("update_id", 0)
            seen[cid] = ChatCandidate(cid, title or str(cid), str(chat.get("type", "?")), int(uid))
    return sorted(seen.values(), key=lambda c: c.update_id, reverse=True)


async def get_updates(token: str, base: str | None = None, timeout: float = TIMEOUT) -> list[Any]:
    """Call getUpdates; raises :class:`TelegramError` with a clear, token-free message."""
    import httpx

    transport = TelegramTransport(token, "", base=base, timeout=timeout)
    try:
        status, body = await transport.call("getUpdates", {"timeout": 0})
    except httpx.HTTPError as exc:
        raise TelegramError(f"cannot reach Telegram at {transport.base} ({type(exc).__name__})") from None
    if status == 200 and body.get("ok") is True and isinstance(body.get("result"), list):
        return list(body["result"])
    if status in (401, 404):
        raise TelegramError("the bot token was rejected (check it with @BotFather)")
    if status == 409:
        raise TelegramError("this bot has a webhook set; getUpdates cannot be used while it is active")
    description = known_description(body.get("description"), status, token)
    raise TelegramError(f"Telegram refused getUpdates: {description}")


class TelegramChannel(SettingsChannel):
    """Alerts to one Telegram chat. ``setting`` reads current settings by key."""

    name = "telegram"

    def enabled(self) -> bool:
        """On by setting, or by the headless pair of environment overrides (token and chat id)."""
        if self.setting("telegram.enabled"):
            return True
        return bool(os.environ.get("CLAUDE_WATCH_TELEGRAM_BOT_TOKEN") and os.environ.get(CHAT_ENV))

    def chat_id(self) -> str:
        return (os.environ.get(CHAT_ENV) or str(self.setting("telegram.chat_id") or "")).strip()

    async def transport(self) -> tuple[TelegramTransport | None, str]:
        token = await self.secrets.aget_quietly(TOKEN_SECRET)
        if not token:
            # a locked or missing keyring says so: the token may well be stored
            return None, self.secrets.why_missing(
                TOKEN_SECRET, "no bot token: run `claude-watch secrets set telegram-bot-token`"
            )
        chat = self.chat_id()
        if not chat:
            return None, "no chat id: message your bot, then run `claude-watch telegram link`"
        return TelegramTransport(token, chat), ""
