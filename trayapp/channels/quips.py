"""Quips: a short, playful, slightly sarcastic line for each alert, written by Claude when it can.

Claude writes the quip through the anthropic SDK (imported on a worker lane at the first call: about a
second and 70 MB), with the user's own API key (``anthropic-api-key`` in the keyring, or
``ANTHROPIC_API_KEY``), the ``quips.model`` setting, ``ANTHROPIC_BASE_URL`` honoured, a 5 s
timeout and no retries. Never the Claude Code subscription token: an OAuth token
(``sk-ant-oat...``) is refused. One call per alert key; the result is cached. Without a key, with
``quips.enabled`` off, offline, on an error or a timeout, a canned quip from
``resources/quips.json`` is chosen by level and local time of day.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import re
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from functools import lru_cache
from pathlib import Path
from typing import Any

from trayapp import runtime
from trayapp.core.humanize import format_duration
from trayapp.core.models import Alert, AlertKind, Level
from trayapp.platform.secrets import SecretStore, default_store, redact, register_sensitive

log = logging.getLogger(__name__)

KEY_SECRET = "anthropic-api-key"
TIMEOUT = 5.0
MAX_CHARS = 99  # "under 100 characters"
CACHE_SIZE = 256

SYSTEM_PROMPT = (
    "You write one-line alert quips for Claude Watch, a tray app that tells a developer how close "
    "they are to their Claude usage limits. Be playful and slightly sarcastic, never mean, never "
    "preachy. Use the numbers you are given when they make the joke better. Reply with the quip "
    "only: one line, under 90 characters, no quotes, no hashtags, no emoji."
)


@dataclass(frozen=True, slots=True)
class Quip:
    text: str
    source: str  # "claude", "canned" or "none" (a session notice)
    detail: str = ""  # why it is canned


NO_QUIP_KINDS = frozenset(
    {
        AlertKind.SESSION_NEEDS_YOU,
        AlertKind.SESSION_FINISHED,
        AlertKind.SESSION_FAILED,
        AlertKind.SESSION_STARTED,
        AlertKind.WINDOW_REMINDER,
        AlertKind.WINDOW_START,
        AlertKind.AGENT_STARTED,
        AlertKind.AGENT_DONE,
        AlertKind.AGENT_FAILED,
    }
)


def time_of_day(local: datetime) -> str:
    h = local.hour
    if 5 <= h < 12:
        return "morning"
    if 12 <= h < 17:
        return "afternoon"
    if 17 <= h < 22:
        return "evening"
    return "night"


def category(alert: Alert) -> str:
    if alert.kind == AlertKind.FRESH_WINDOW:
        return "fresh"
    if alert.kind == AlertKind.PREDICTIVE:
        return "predictive"
    if alert.level in (Level.OK, Level.WARNING, Level.CRITICAL, Level.AT_LIMIT):
        return str(alert.level.value)
    return "warning"


def context(alert: Alert, now: datetime, tz: tzinfo | None = None) -> dict[str, str]:
    """What the quip may talk about, as short strings."""
    local = now.astimezone(tz)
    to_reset = alert.resets_at - now if alert.resets_at else None
    ctx = {
        "window": alert.window_label,
        "percent": f"{alert.utilization:.0f}",
        "reset": format_duration(to_reset) if to_reset is not None else "a while",
        "local_time": local.strftime("%A %H:%M"),
        "time_of_day": time_of_day(local),
        "kind": str(alert.kind.value),
    }
    if alert.burn_rate_per_hour is not None:
        ctx["burn_rate"] = f"{alert.burn_rate_per_hour:.0f}% per hour"
    if alert.projected_full_at is not None:
        ctx["full_in"] = format_duration(alert.projected_full_at - now)
    return ctx


def prompt(ctx: dict[str, str]) -> str:
    lines = [
        f"Alert: {ctx['kind'].replace('_', ' ')}",
        f"Window: {ctx['window']}",
        f"Used: {ctx['percent']}%",
        f"Resets in: {ctx['reset']}",
        f"Local time: {ctx['local_time']} ({ctx['time_of_day']})",
    ]
    if "burn_rate" in ctx:
        lines.append(f"Burn rate: {ctx['burn_rate']}")
    if "full_in" in ctx:
        lines.append(f"At this pace 100% in: {ctx['full_in']}")
    return "\n".join(lines) + "\nWrite the quip."


def clean(text: str) -> str | None:
    """First non-empty line, unquoted, whitespace collapsed, cut under 100 characters."""
    for line in text.splitlines():
        line = re.sub(r"\s+", " ", line).strip().strip("\"'`*“”").strip()
        if line:
            break
    else:
        return None
    if len(line) > MAX_CHARS:
        cut = line[: MAX_CHARS - 1]
        cut = cut[: cut.rfind(" ")] if " " in cut[40:] else cut
        line = cut.rstrip(" ,;:-") + "…"
    return line or None


@lru_cache(maxsize=1)
def canned_table(path: str | None = None) -> dict[str, list[dict[str, str]]]:
    from trayapp import paths

    file = Path(path) if path else paths.resources_dir() / "quips.json"
    data: dict[str, Any] = json.loads(file.read_text(encoding="utf-8"))
    return {k: v for k, v in data.items() if not k.startswith("_") and isinstance(v, list)}


def canned(alert: Alert, now: datetime, tz: tzinfo | None = None, detail: str = "") -> Quip:
    """A bundled quip for the alert's level and the local time of day (stable per alert key)."""
    ctx = context(alert, now, tz)
    table = canned_table()
    pool = table.get(category(alert)) or table["warning"]
    timed = [q for q in pool if q.get("when") == ctx["time_of_day"]]
    generic = [q for q in pool if q.get("when", "any") == "any"]
    choices = timed + generic
    digest = int(hashlib.sha256(alert.key.encode()).hexdigest(), 16)
    template = choices[digest % len(choices)]["text"]
    try:
        text = template.format(**ctx)
    except (KeyError, IndexError, ValueError):
        text = template
    return Quip(clean(text) or text[:MAX_CHARS], "canned", detail)


class QuipWriter:
    """Writes and caches one quip per alert key. ``setting`` reads current settings by key."""

    def __init__(
        self,
        setting: Callable[[str], Any],
        secrets: SecretStore | None = None,
        now: Callable[[], datetime] | None = None,
        timeout: float = TIMEOUT,
        tz: tzinfo | None = None,
    ) -> None:
        self.setting = setting
        self.secrets = secrets or default_store()
        self._now = now
        self.timeout = timeout
        self.tz = tz
        self._cache: OrderedDict[str, Quip] = OrderedDict()
        self._inflight: dict[str, asyncio.Future[Quip]] = {}

    def now(self) -> datetime:
        if self._now is not None:
            return self._now()
        from datetime import UTC

        return datetime.now(UTC)

    async def write(self, alert: Alert) -> Quip:
        """The alert's quip; never raises, never calls Claude twice for one alert key. A Claude Code
        session notice gets none (empty text): it is about a prompt, not a limit, and comes often."""
        if alert.kind in NO_QUIP_KINDS:
            return Quip("", "none", "session notices carry no quip")
        if alert.key in self._cache:
            return self._cache[alert.key]
        if alert.key in self._inflight:
            return await asyncio.shield(self._inflight[alert.key])
        future: asyncio.Future[Quip] = asyncio.get_running_loop().create_future()
        self._inflight[alert.key] = future
        try:
            quip = await self._write(alert)
        except asyncio.CancelledError:
            # Whoever shares this call still gets a quip; the cancelled caller stops here.
            future.set_result(canned(alert, self.now(), self.tz, "cancelled"))
            raise
        except Exception as exc:  # never let a quip break an alert
            log.warning("quip failed (%s); using a canned one", type(exc).__name__)
            quip = canned(alert, self.now(), self.tz, f"error: {type(exc).__name__}")
        finally:
            self._inflight.pop(alert.key, None)
        future.set_result(quip)
        self._cache[alert.key] = quip
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        return quip

    async def _write(self, alert: Alert) -> Quip:
        now = self.now()
        if not self.setting("quips.enabled"):
            return canned(alert, now, self.tz, "quips.enabled is off")
        key = await self.secrets.aget_quietly(KEY_SECRET)
        if not key:
            return canned(alert, now, self.tz, "no Anthropic API key")
        if key.startswith("sk-ant-oat"):
            log.warning("the anthropic-api-key is a Claude subscription token; refusing to use it for quips")
            return canned(alert, now, self.tz, "subscription tokens are never used for quips")
        register_sensitive(key)
        try:
            # The SDK's first import takes about a second: on a worker lane, so the GUI does not
            # freeze, and before the timeout starts, which is for the request alone.
            client_class = await runtime.run_blocking(self.load_sdk, lane="io")
        except Exception as exc:
            log.info("quip: the anthropic SDK cannot be loaded (%s); using a canned one", type(exc).__name__)
            return canned(alert, now, self.tz, f"Claude unavailable: {type(exc).__name__}")
        try:
            text = await asyncio.wait_for(
                self._ask_claude(client_class, key, prompt(context(alert, now, self.tz))), self.timeout
            )
        except TimeoutError:
            log.info("quip: Claude did not answer within %.0f s; using a canned one", self.timeout)
            return canned(alert, now, self.tz, "timeout")
        except Exception as exc:
            detail = redact(f"{type(exc).__name__}", key)
            log.info("quip: Claude unavailable (%s); using a canned one", detail)
            return canned(alert, now, self.tz, f"Claude unavailable: {detail}")
        line = clean(text)
        if not line:
            return canned(alert, now, self.tz, "empty answer")
        return Quip(line, "claude")

    @staticmethod
    def load_sdk() -> Any:
        """The SDK's client class (blocking: about 1 s and 70 MB the first time; a worker lane)."""
        from anthropic import AsyncAnthropic

        return AsyncAnthropic

    async def _ask_claude(self, client_class: Any, key: str, user_prompt: str) -> str:
        client = client_class(
            api_key=key,
            base_url=os.environ.get("ANTHROPIC_BASE_URL") or None,
            timeout=self.timeout,
            max_retries=0,
        )
        try:
            message = await client.messages.create(
                model=str(self.setting("quips.model") or "claude-haiku-4-5"),
                max_tokens=80,
                system=SYSTEM_PROMPT,
                messages=[{"role": "user", "content": user_prompt}],
            )
        finally:
            await client.close()
        parts = [getattr(block, "text", "") for block in message.content]
        return "".join(p for p in parts if isinstance(p, str))
