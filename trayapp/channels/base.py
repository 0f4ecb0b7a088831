"""The interface every alert channel implements, and the record of one delivery attempt."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from trayapp.core.models import Alert


@dataclass(frozen=True, slots=True)
class Delivery:
    """Outcome of sending one alert through one channel."""

    channel: str
    ok: bool
    detail: str = ""  # why it failed, or what was used ("tray fallback", "queued until online")
    queued: bool = False


class Channel(Protocol):
    name: str

    def enabled(self) -> bool:
        """Whether the user turned this channel on (and it is configured)."""
        ...

    async def send(self, alert: Alert, quip: str | None = None) -> Delivery:
        """Deliver ``alert``; never raises, failures come back as ``Delivery(ok=False)``."""
        ...
