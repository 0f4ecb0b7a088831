"""A persisted queue for the remote channels (Telegram, Slack), so alerts are never late twice,
never duplicated and never lost.

Every message is written to a small SQLite file in the state dir before it is sent, keyed by
channel and alert key (a second enqueue of the same alert is ignored); that storage is
:class:`trayapp.store.outbox_repo.Outbox`, and this module keeps the sending rules. :class:`RemoteChannel`
drains it: a server's "retry after N s" (Telegram ``parameters.retry_after``, Slack's
``Retry-After``) is waited inline when short and otherwise kept as the next attempt time; server
errors and network failures back off exponentially with jitter (30 s doubling, cap 30 min); a
per-hour cap (``channels.max_per_hour``) holds the rest back. A message sent more than two
minutes after its alert is marked with the original time. Messages older than a day expire.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from trayapp.channels.base import Delivery
from trayapp.core.clock import Clock, SystemClock
from trayapp.core.models import Alert
from trayapp.runtime import LoopHealth, run_blocking
from trayapp.store.outbox_repo import Item, Outbox, outbox_file

# Outbox, Item and outbox_file are re-exported for callers that still import them from here.
__all__ = ["Attempt", "Item", "Outbox", "RemoteChannel", "SettingsChannel", "Transport", "outbox_file"]

if TYPE_CHECKING:
    from trayapp.channels.quips import QuipWriter
    from trayapp.platform.secrets import SecretStore

log = logging.getLogger(__name__)
T = TypeVar("T")

LATE_AFTER = timedelta(minutes=2)
MAX_AGE = timedelta(hours=24)
INLINE_WAIT_MAX = 60.0  # a retry_after up to this is waited in place
BACKOFF_BASE = 30.0
BACKOFF_CAP = 1800.0


@dataclass(frozen=True, slots=True)
class Attempt:
    """What one HTTP attempt produced. ``retry_after`` is the server's requested wait (seconds);
    ``permanent`` means retrying cannot help (bad token, unknown chat, revoked webhook)."""

    ok: bool
    detail: str = ""
    retry_after: float | None = None
    permanent: bool = False


class Transport(Protocol):
    async def post(self, text: str) -> Attempt: ...


def late_marker(created_at: datetime, now: datetime) -> str:
    """ "(raised at 14:05)" in local time, with the weekday when it was another day."""
    local = created_at.astimezone()
    same_day = local.date() == now.astimezone().date()
    stamp = local.strftime("%H:%M") if same_day else local.strftime("%a %H:%M")
    return f"(raised at {stamp}, delivered late)"


def compose(alert: Alert, quip: str | None) -> str:
    """The text Telegram and Slack get: the quip first, then the facts."""
    facts = alert.title if not alert.body else f"{alert.title}\n{alert.body}"
    return f"{quip}\n\n{facts}" if quip else facts


Sleeper = Callable[[float], Awaitable[None]]


class RemoteChannel:
    """Base of Telegram and Slack: enqueue, then drain the queue through :meth:`transport`.

    Subclasses set ``name`` and implement :meth:`enabled` and :meth:`transport` (None plus a
    reason when not configured). ``sleep`` and ``clock`` are injected so tests never wait. With
    ``quips`` set, a ``send`` without a quip writes one (cached per alert key).
    """

    name = "remote"
    wants_quip = True

    def __init__(
        self,
        outbox: Outbox,
        max_per_hour: Callable[[], int],
        clock: Clock | None = None,
        sleep: Sleeper | None = None,
        rng: random.Random | None = None,
        quips: QuipWriter | None = None,
    ) -> None:
        self.outbox = outbox
        self.quips = quips
        self.max_per_hour = max_per_hour
        self.clock = clock or SystemClock()
        self.sleep: Sleeper = sleep or asyncio.sleep
        self.rng = rng or random.Random()
        self._flush_lock = asyncio.Lock()
        # Unexpected errors while draining (a corrupt queue row, a bug) back off instead of being
        # retried on every flush tick; doctor shows them.
        self.health = LoopHealth(f"{self.name} outbox")
        self._paused_until = 0.0

    def enabled(self) -> bool:
        raise NotImplementedError

    async def _db(self, fn: Callable[..., T], *args: Any) -> T:
        """An outbox call on the io lane: SQLite never runs on the GUI thread."""
        return await run_blocking(fn, *args, lane="io")

    async def transport(self) -> tuple[Transport | None, str]:
        raise NotImplementedError

    async def send(self, alert: Alert, quip: str | None = None) -> Delivery:
        """Queue ``alert`` (once per alert key) and try to deliver everything due. Never raises."""
        transport, why = await self.transport()
        if transport is None:
            return Delivery(self.name, False, why)
        if quip is None and self.quips is not None:
            # Called straight from the alert service (one send per channel): write the quip here;
            # the writer's cache makes Telegram and Slack share one Claude call per crossing.
            quip = (await self.quips.write(alert)).text
        try:
            fresh = await self._db(
                self.outbox.enqueue, self.name, alert.key, alert.created_at, compose(alert, quip)
            )
            if not fresh:
                item = await self._db(self.outbox.get, self.name, alert.key)
                if item is not None and item.state == "sent":
                    return Delivery(self.name, True, "already sent")
            async with self._flush_lock:
                await self._flush(transport, why)
            item = await self._db(self.outbox.get, self.name, alert.key)
        except Exception as exc:  # a channel never raises into the alert service
            log.exception("%s: could not queue or send", self.name)
            return Delivery(self.name, False, f"internal error: {type(exc).__name__}")
        if item is None:
            return Delivery(self.name, False, "dropped")
        if item.state == "sent":
            return Delivery(self.name, True, "sent")
        if item.state == "pending":
            return Delivery(self.name, False, f"queued: {item.last_error}", queued=True)
        return Delivery(self.name, False, item.last_error or item.state)

    async def flush(self) -> int:
        """Send what is due, oldest first; returns how many went out. Never raises."""
        async with self._flush_lock:
            if time.monotonic() < self._paused_until:
                return 0
            try:
                if not await self._db(self.outbox.due, self.name, self.clock.now()):
                    return 0
                transport, why = await self.transport()
                sent = await self._flush(transport, why)
            except Exception as exc:
                self._paused_until = time.monotonic() + self.health.failed(exc)
                return 0
            self.health.succeeded()
            return sent

    def _backoff(self, attempts: int) -> float:
        base: float = min(BACKOFF_BASE * 2**attempts, BACKOFF_CAP)
        return base * self.rng.uniform(0.85, 1.15)

    async def _flush(self, transport: Transport | None, why: str) -> int:
        now = self.clock.now()
        due = await self._db(self.outbox.due, self.name, now)
        sent = 0
        for item in due:
            now = self.clock.now()
            if now - item.created_at > MAX_AGE:
                await self._db(self.outbox.mark_final, item.id, "expired", "too old to send")
                continue
            if not await self._db(self.outbox.claim, item.id, now):
                continue
            if transport is None:
                await self._db(self.outbox.release, item.id, now + timedelta(minutes=5), why)
                break
            recent = await self._db(self.outbox.sent_since, self.name, now - timedelta(hours=1))
            cap = self.max_per_hour()
            if len(recent) >= cap:
                free_at = recent[len(recent) - cap] + timedelta(hours=1)
                reason = f"held back: at most {cap} messages an hour (channels.max_per_hour)"
                await self._db(self.outbox.release, item.id, free_at, reason)
                break
            text = item.text
            if now - item.created_at > LATE_AFTER:
                text = f"{text}\n{late_marker(item.created_at, now)}"
            attempt = await transport.post(text)
            if not attempt.ok and attempt.retry_after is not None and attempt.retry_after <= INLINE_WAIT_MAX:
                log.info("%s: rate limited, retrying in %.0f s", self.name, attempt.retry_after)
                await self.sleep(attempt.retry_after)
                attempt = await transport.post(text)
            now = self.clock.now()
            if attempt.ok:
                await self._db(self.outbox.mark_sent, item.id, now)
                sent += 1
                continue
            if attempt.permanent:
                log.warning("%s: giving up on a message: %s", self.name, attempt.detail)
                await self._db(self.outbox.mark_final, item.id, "failed", attempt.detail)
                continue
            delay = attempt.retry_after if attempt.retry_after is not None else self._backoff(item.attempts)
            log.info("%s: not delivered (%s); next try in %.0f s", self.name, attempt.detail, delay)
            await self._db(self.outbox.mark_retry, item.id, now + timedelta(seconds=delay), attempt.detail)
            break  # the server or the network is unhappy: the rest waits too
        return sent


class SettingsChannel(RemoteChannel):
    """A remote channel configured from settings (``setting(key)``) and secrets in the keyring:
    the per-hour cap comes from ``channels.max_per_hour``, read at each send."""

    def __init__(
        self,
        outbox: Outbox,
        setting: Callable[[str], Any],
        secrets: SecretStore | None = None,
        **kwargs: Any,
    ) -> None:
        from trayapp.platform.secrets import default_store

        super().__init__(outbox, lambda: int(setting("channels.max_per_hour")), **kwargs)
        self.setting = setting
        self.secrets = secrets or default_store()
