"""Slack alerts through an incoming webhook, via the persisted outbox (same retry rules as Telegram).

The webhook URL is a secret (``slack-webhook-url`` in the keyring or
``CLAUDE_WATCH_SLACK_WEBHOOK_URL``). Slack answers ``200 ok``; ``429`` with a ``Retry-After``
header (seconds or an HTTP date); ``400 invalid_payload``, ``403``/``404``/``410`` for a bad or
revoked hook (permanent); ``5xx`` (back off). Text is escaped as Slack's mrkdwn requires.
"""

from __future__ import annotations

import logging
import os
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from trayapp.channels.http import http_client
from trayapp.channels.outbox import Attempt, SettingsChannel
from trayapp.platform.secrets import redact, register_sensitive

log = logging.getLogger(__name__)

URL_SECRET = "slack-webhook-url"
TIMEOUT = 10.0


def escape(text: str) -> str:
    """Slack mrkdwn control characters (&, <, >) as entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta seconds or HTTP date)."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


_SLACK_CODE = re.compile(r"[a-z][a-z_]{2,39}")


def interpret(status: int, body: str, retry_after: str | None) -> Attempt:
    """Turn a webhook answer into an :class:`Attempt` (pure)."""
    # Slack's errors are short codes ("no_service", "invalid_token"); anything else a server says is
    # not repeated (it may echo the webhook back in some form): only generic text is kept.
    code = body.strip()
    reason = code if _SLACK_CODE.fullmatch(code) else f"HTTP {status}"
    if 200 <= status < 300:
        return Attempt(True, "sent")
    if status == 429:
        wait = parse_retry_after(retry_after)
        return Attempt(False, "Slack rate limit", retry_after=30.0 if wait is None else wait)
    if status >= 500:
        return Attempt(False, f"Slack server error ({status})")
    if status in (403, 404, 410):
        return Attempt(
            False,
            f"Slack rejected the webhook ({reason}); create a new one and store it with "
            "`claude-watch secrets set slack-webhook-url`",
            permanent=True,
        )
    return Attempt(False, f"Slack refused the message ({reason})", permanent=True)


class SlackTransport:
    def __init__(self, url: str, timeout: float = TIMEOUT) -> None:
        self.url = url
        self.timeout = timeout
        register_sensitive(url)

    async def post(self, text: str) -> Attempt:
        import httpx

        try:
            async with http_client(self.timeout) as client:
                r = await client.post(self.url, json={"text": escape(text)})
        except httpx.TimeoutException:
            return Attempt(False, "Slack did not answer in time")
        except httpx.HTTPError as exc:
            return Attempt(False, f"cannot reach Slack ({type(exc).__name__}); offline?")
        attempt = interpret(r.status_code, r.text, r.headers.get("Retry-After"))
        return Attempt(attempt.ok, redact(attempt.detail, self.url), attempt.retry_after, attempt.permanent)


class SlackChannel(SettingsChannel):
    name = "slack"

    def enabled(self) -> bool:
        """On by setting, or by the headless environment override of the webhook URL."""
        return bool(self.setting("slack.enabled") or os.environ.get("CLAUDE_WATCH_SLACK_WEBHOOK_URL"))

    async def transport(self) -> tuple[SlackTransport | None, str]:
        url = await self.secrets.aget_quietly(URL_SECRET)
        if not url:
            return None, self.secrets.why_missing(  # a locked or missing keyring says so
                URL_SECRET, "no webhook URL: run `claude-watch secrets set slack-webhook-url`"
            )
        return SlackTransport(url), ""
