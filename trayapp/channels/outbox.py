"""A persisted queue for the remote channels (Telegram, Slack), so alerts are never late twice,
never duplicated and never lost.

Every message is written to a small SQLite file in the state dir before it is sent, keyed by
channel and alert key (a second enqueue of the same alert is ignored). :class:`RemoteChannel`
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
import sqlite3
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from trayapp.channels.base import Delivery
from trayapp.channels.offthread import off_thread
from trayapp.core.clock import Clock, SystemClock
from trayapp.core.models import Alert
from trayapp.runtime import LoopHealth

if TYPE_CHECKING:
    from trayapp.channels.quips import QuipWriter
    from trayapp.platform.secrets import SecretStore

log = logging.getLogger(__name__)

MIGRATIONS = [
    """
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        channel TEXT NOT NULL,
        alert_key TEXT NOT NULL,
        created_at TEXT NOT NULL,
        text TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT NOT NULL,
        claimed_at TEXT,
        sent_at TEXT,
        last_error TEXT NOT NULL DEFAULT '',
        UNIQUE (channel, alert_key)
    );
    CREATE INDEX outbox_due ON outbox (channel, state, next_attempt_at);
    CREATE INDEX outbox_sent ON outbox (channel, sent_at)
    """
]

LATE_AFTER = timedelta(minutes=2)
MAX_AGE = timedelta(hours=24)
INLINE_WAIT_MAX = 60.0  # a retry_after up to this is waited in place
BACKOFF_BASE = 30.0
BACKOFF_CAP = 1800.0


def outbox_file() -> Path:
    from trayapp import paths

    return paths.state_dir() / "outbox.sqlite3"


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


@dataclass(frozen=True, slots=True)
class Item:
    id: int
    channel: str
    alert_key: str
    created_at: datetime
    text: str
    state: str
    attempts: int
    next_attempt_at: datetime
    last_error: str


def _iso(t: datetime) -> str:
    return t.isoformat()


def _row(r: sqlite3.Row) -> Item:
    return Item(
        id=r["id"],
        channel=r["channel"],
        alert_key=r["alert_key"],
        created_at=datetime.fromisoformat(r["created_at"]),
        text=r["text"],
        state=r["state"],
        attempts=r["attempts"],
        next_attempt_at=datetime.fromisoformat(r["next_attempt_at"]),
        last_error=r["last_error"],
    )


class Outbox:
    """The queue's storage. Thread-safe; callers on the GUI thread go through ``off_thread``."""

    def __init__(self, path: Path | None = None, clock: Clock | None = None) -> None:
        from trayapp.store.db import open_database

        self.path = path or outbox_file()
        self.clock = clock or SystemClock()
        self._lock = threading.Lock()
        self._db = open_database(self.path, MIGRATIONS, check_same_thread=False)
        now = self.clock.now()
        with self._lock:
            # A claim older than 10 minutes belongs to a process that died mid-send.
            self._db.execute(
                "UPDATE outbox SET state='pending', claimed_at=NULL WHERE state='sending' AND claimed_at < ?",
                (_iso(now - timedelta(minutes=10)),),
            )
            self._db.execute(
                "DELETE FROM outbox WHERE state != 'pending' AND created_at < ?",
                (_iso(now - timedelta(days=7)),),
            )

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def enqueue(self, channel: str, alert_key: str, created_at: datetime, text: str) -> bool:
        """Queue a message; False when this alert was already queued or sent on this channel."""
        with self._lock:
            cur = self._db.execute(
                "INSERT OR IGNORE INTO outbox (channel, alert_key, created_at, text, next_attempt_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (channel, alert_key, _iso(created_at), text, _iso(created_at)),
            )
            return cur.rowcount == 1

    def get(self, channel: str, alert_key: str) -> Item | None:
        with self._lock:
            r = self._db.execute(
                "SELECT * FROM outbox WHERE channel=? AND alert_key=?", (channel, alert_key)
            ).fetchone()
        return _row(r) if r else None

    def due(self, channel: str, now: datetime) -> list[Item]:
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM outbox WHERE channel=? AND state='pending' AND next_attempt_at <= ? "
                "ORDER BY created_at, id",
                (channel, _iso(now)),
            ).fetchall()
        return [_row(r) for r in rows]

    def pending(self, channel: str | None = None) -> list[Item]:
        sql = "SELECT * FROM outbox WHERE state IN ('pending', 'sending')"
        args: tuple[str, ...] = ()
        if channel:
            sql += " AND channel=?"
            args = (channel,)
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY created_at, id", args).fetchall()
        return [_row(r) for r in rows]

    def claim(self, item_id: int, now: datetime) -> bool:
        """Mark as being sent; False when another worker or process got there first."""
        with self._lock:
            cur = self._db.execute(
                "UPDATE outbox SET state='sending', claimed_at=? WHERE id=? AND state='pending'",
                (_iso(now), item_id),
            )
            return cur.rowcount == 1

    def mark_sent(self, item_id: int, now: datetime) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE outbox SET state='sent', sent_at=?, attempts=attempts+1, last_error='' WHERE id=?",
                (_iso(now), item_id),
            )

    def mark_retry(self, item_id: int, next_at: datetime, error: str) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE outbox SET state='pending', claimed_at=NULL, attempts=attempts+1, "
                "next_attempt_at=?, last_error=? WHERE id=?",
                (_iso(next_at), error, item_id),
            )

    def release(self, item_id: int, next_at: datetime, why: str) -> None:
        """Back to pending without counting an attempt (cap reached, not configured)."""
        with self._lock:
            self._db.execute(
                "UPDATE outbox SET state='pending', claimed_at=NULL, next_attempt_at=?, last_error=? "
                "WHERE id=?",
                (_iso(next_at), why, item_id),
            )

    def mark_final(self, item_id: int, state: str, error: str) -> None:
        """``failed`` (permanent error) or ``expired`` (too old to matter)."""
        with self._lock:
            self._db.execute(
                "UPDATE outbox SET state=?, claimed_at=NULL, attempts=attempts+1, last_error=? WHERE id=?",
                (state, error, item_id),
            )

    def drop(self, channel: str, alert_key: str) -> None:
        with self._lock:
            self._db.execute(
                "DELETE FROM outbox WHERE channel=? AND alert_key=? AND state != 'sent'", (channel, alert_key)
            )

    def sent_since(self, channel: str, since: datetime) -> list[datetime]:
        with self._lock:
            rows = self._db.execute(
                "SELECT sent_at FROM outbox WHERE channel=? AND state='sent' AND sent_at > ? "
                "ORDER BY sent_at",
                (channel, _iso(since)),
            ).fetchall()
        return [datetime.fromisoformat(r[0]) for r in rows]


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
            fresh = await off_thread(
                self.outbox.enqueue, self.name, alert.key, alert.created_at, compose(alert, quip)
            )
            if not fresh:
                item = await off_thread(self.outbox.get, self.name, alert.key)
                if item is not None and item.state == "sent":
                    return Delivery(self.name, True, "already sent")
            async with self._flush_lock:
                await self._flush(transport, why)
            item = await off_thread(self.outbox.get, self.name, alert.key)
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
                if not await off_thread(self.outbox.due, self.name, self.clock.now()):
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
        due = await off_thread(self.outbox.due, self.name, now)
        sent = 0
        for item in due:
            now = self.clock.now()
            if now - item.created_at > MAX_AGE:
                await off_thread(self.outbox.mark_final, item.id, "expired", "too old to send")
                continue
            if not await off_thread(self.outbox.claim, item.id, now):
                continue
            if transport is None:
                await off_thread(self.outbox.release, item.id, now + timedelta(minutes=5), why)
                break
            recent = await off_thread(self.outbox.sent_since, self.name, now - timedelta(hours=1))
            cap = self.max_per_hour()
            if len(recent) >= cap:
                free_at = recent[len(recent) - cap] + timedelta(hours=1)
                reason = f"held back: at most {cap} messages an hour (channels.max_per_hour)"
                await off_thread(self.outbox.release, item.id, free_at, reason)
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
                await off_thread(self.outbox.mark_sent, item.id, now)
                sent += 1
                continue
            if attempt.permanent:
                log.warning("%s: giving up on a message: %s", self.name, attempt.detail)
                await off_thread(self.outbox.mark_final, item.id, "failed", attempt.detail)
                continue
            delay = attempt.retry_after if attempt.retry_after is not None else self._backoff(item.attempts)
            log.info("%s: not delivered (%s); next try in %.0f s", self.name, attempt.detail, delay)
            await off_thread(self.outbox.mark_retry, item.id, now + timedelta(seconds=delay), attempt.detail)
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
