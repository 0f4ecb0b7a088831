"""Container slots for the agents queue, as a feature of the tray app (listed in
:mod:`trayapp.app_features` after ``agents``, whose queue it extends).

``start`` removes containers an earlier run left (only with slots configured), then registers the
``docker`` executor (:mod:`trayapp.services.agent_containers`) with the agents feature's queue and
follows ``agents.container_slots``; with no slots configured no engine is asked. The stop ends the
subscription and the engine connection.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from trayapp.app import ClaudeWatch


async def start(cw: ClaudeWatch) -> Callable[[], Awaitable[None]] | None:
    from trayapp.features.agents import ui_of
    from trayapp.services.agent_containers import start_containers

    ui = ui_of(cw)
    if ui is None:  # the agents feature is not there: nothing to extend
        return None
    return await start_containers(ui.queue, cw.settings)
