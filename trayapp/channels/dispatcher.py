"""Fans one :class:`Alert` out to the enabled channels, in the order that keeps alerts timely.

Instant channels (desktop, sound) go out at once, concurrently with the quip; the quip is written
once (cached by alert key) and then handed to the channels that want one (Telegram, Slack; a
channel says so with ``wants_quip = True``). Desktop notifications carry the quip only when
``alerts.desktop_quips`` is on, and then wait for it. Nothing here raises into the alert service:
a failing channel becomes a ``Delivery(ok=False)``. :meth:`Dispatcher.run_flusher` drains the
persisted outbox periodically, so alerts raised offline go out when the network is back.

Built by the composition root with :func:`build_default` (or, if that fails, as a dispatcher
holding the desktop channel alone). It is the only way alerts leave the app: the alert service
calls ``await dispatcher.dispatch(alert)``, which logs each channel's outcome; keep
``dispatcher.run_flusher()`` running so queued messages go out when the network is back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from trayapp.channels.base import Channel, Delivery
from trayapp.channels.quips import Quip, QuipWriter
from trayapp.core.models import Alert
from trayapp.runtime import LoopHealth

log = logging.getLogger(__name__)

FLUSH_INTERVAL = 60.0


@dataclass(frozen=True, slots=True)
class DispatchResult:
    alert: Alert
    quip: Quip | None
    deliveries: tuple[Delivery, ...]

    @property
    def ok(self) -> bool:
        return all(d.ok for d in self.deliveries)

    def by_channel(self) -> dict[str, Delivery]:
        return {d.channel: d for d in self.deliveries}


async def _guarded(channel: Channel, alert: Alert, quip: str | None) -> Delivery:
    try:
        return await channel.send(alert, quip)
    except Exception as exc:  # channels should not raise; make sure one bad one cannot hurt others
        log.exception("channel %s raised", channel.name)
        return Delivery(channel.name, False, f"internal error: {type(exc).__name__}")


class Dispatcher:
    """Owns the channel list and the quip writer. ``setting`` reads current settings by key."""

    def __init__(
        self,
        channels: Sequence[Channel],
        quips: QuipWriter,
        setting: Callable[[str], Any],
    ) -> None:
        self.channels = list(channels)
        self.quips = quips
        self.setting = setting
        self._flusher: asyncio.Task[None] | None = None

    def channel(self, name: str) -> Channel | None:
        for c in self.channels:
            if c.name == name:
                return c
        return None

    async def dispatch(self, alert: Alert, only: Iterable[str] | None = None) -> DispatchResult:
        """Send ``alert`` through the enabled channels (or exactly the ones in ``only``)."""
        wanted = set(only) if only is not None else None
        chosen = [c for c in self.channels if (c.name in wanted if wanted is not None else c.enabled())]
        desktop_quips = bool(self.setting("alerts.desktop_quips"))

        def wants_quip(c: Channel) -> bool:
            return bool(getattr(c, "wants_quip", False)) or (c.name == "desktop" and desktop_quips)

        instant = {
            c.name: asyncio.ensure_future(_guarded(c, alert, None)) for c in chosen if not wants_quip(c)
        }
        quip: Quip | None = None
        later: dict[str, asyncio.Future[Delivery]] = {}
        if any(wants_quip(c) for c in chosen):
            quip = await self.quips.write(alert)
            later = {
                c.name: asyncio.ensure_future(_guarded(c, alert, quip.text)) for c in chosen if wants_quip(c)
            }
        futures = {**instant, **later}
        if futures:
            await asyncio.gather(*futures.values())
        deliveries = tuple(futures[c.name].result() for c in chosen)
        for d in deliveries:
            log.info("alert %s via %s: %s", alert.key, d.channel, d.detail or ("sent" if d.ok else "failed"))
        return DispatchResult(alert, quip, deliveries)

    async def flush(self) -> int:
        """Retry everything due in the remote channels' outbox; returns how many went out."""
        total = 0
        for c in self.channels:
            flush = getattr(c, "flush", None)
            if flush is not None:
                total += int(await flush())
        return total

    async def _flush_forever(self, interval: float) -> None:
        health = LoopHealth("outbox flusher")
        wait = interval
        while True:
            await asyncio.sleep(wait)
            try:
                await self.flush()
            except Exception as exc:
                wait = max(interval, health.failed(exc))
                continue
            health.succeeded()
            wait = interval

    def run_flusher(self, interval: float = FLUSH_INTERVAL) -> asyncio.Task[None]:
        """Start the periodic outbox drain on the running loop (idempotent); keep the task."""
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.get_running_loop().create_task(self._flush_forever(interval))
        return self._flusher

    def stop_flusher(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
            self._flusher = None


def build_default(
    setting: Callable[[str], Any] | None = None,
    desktop: Channel | None = None,
) -> Dispatcher:
    """The standard set: desktop (when given or importable), sound, Telegram, Slack."""
    from trayapp.channels.outbox import Outbox
    from trayapp.channels.slack import SlackChannel
    from trayapp.channels.sound import SoundChannel
    from trayapp.channels.telegram import TelegramChannel

    if setting is None:
        from trayapp import settings as st

        cfg = st.load()
        setting = cfg.get
    outbox = Outbox()
    writer = QuipWriter(setting)
    channels: list[Channel] = []
    if desktop is not None:
        channels.append(desktop)
    channels += [
        SoundChannel(setting),
        TelegramChannel(outbox, setting, quips=writer),
        SlackChannel(outbox, setting, quips=writer),
    ]
    return Dispatcher(channels, writer, setting)


def build_or_desktop_only(setting: Callable[[str], Any], desktop: Channel) -> Dispatcher:
    """The standard channel set with ``desktop``; if it cannot be built (an unreadable outbox,
    say), a dispatcher with the desktop channel alone, so alerts still take the one delivery path."""
    try:
        return build_default(setting, desktop=desktop)
    except Exception:
        log.exception("alert channels unavailable; desktop notifications only")
        return Dispatcher([desktop], QuipWriter(setting), setting)
