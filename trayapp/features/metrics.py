"""Feature module (``app_features``): the tray app's opt-in metrics listener (issue 18).

Starts :class:`~trayapp.services.metrics_listener.MetricsListener`, which serves ``/metrics`` on
``metrics.listen`` (empty by default: nothing beyond loopback) with the token rules of the local API
the sessions hub runs; ``/metrics`` on the loopback port needs no feature (it is an API route).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from trayapp.services.metrics_listener import MetricsListener

if TYPE_CHECKING:
    from trayapp.app import ClaudeWatch
    from trayapp.services.local_api import LocalApi


async def start(cw: ClaudeWatch) -> Callable[[], Awaitable[None]]:
    def api() -> LocalApi | None:
        host = cw.sessions.host if cw.sessions is not None else None
        return host.api if host is not None else None

    listener = MetricsListener(cw.settings, api)
    await listener.start()
    return listener.stop
