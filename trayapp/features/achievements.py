"""Achievements as a feature of the tray app (listed in :mod:`trayapp.app_features`).

``attach`` builds the :class:`~trayapp.services.achievements_service.AchievementsService` (nothing
read yet) and the popup's Achievements section, shown only while ``achievements.enabled`` is on.
``start`` recomputes at once and hourly; turning the setting on recomputes straight away (a first
run over the existing history: one notification for everything found).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from trayapp import runtime

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from trayapp.app import ClaudeWatch
    from trayapp.services.achievements_service import AchievementsService

log = logging.getLogger(__name__)

_services: WeakKeyDictionary[ClaudeWatch, AchievementsService] = WeakKeyDictionary()


def service_of(cw: ClaudeWatch) -> AchievementsService | None:
    return _services.get(cw)


def attach(cw: ClaudeWatch) -> None:
    from trayapp.services.achievements_service import AchievementsService

    service = AchievementsService(cw.dispatcher, cw.settings.get, clock=cw.clock)
    _services[cw] = service

    def panel() -> QWidget:
        from trayapp.features.achievements_panel import AchievementsPanel
        from trayapp.services.achievements_service import report_zone

        view = AchievementsPanel(report_zone(cw.settings.get))
        view.set_standings(service.standings)
        view.setVisible(service.enabled)
        service.changed.connect(view.set_standings)

        def follow(_keys: list[str], _settings: Any) -> None:
            view.setVisible(service.enabled)

        unfollow = cw.settings.subscribe("achievements", follow)
        view.destroyed.connect(lambda *_: unfollow())
        return view

    cw.panel_factories.append(panel)


async def start(cw: ClaudeWatch) -> Callable[[], Awaitable[object]] | None:
    service = _services.get(cw)
    if service is None:
        return None

    def changed(keys: list[str], _settings: Any) -> None:
        if "achievements.enabled" in keys and service.enabled:
            runtime.try_spawn(service.recompute(), "achievements turned on", group=service)

    unfollow = cw.settings.subscribe("achievements", changed)
    service.start()
    log.info("achievements %s", "on" if service.enabled else "off (achievements.enabled)")

    async def stop() -> None:
        unfollow()
        await service.stop()

    return stop
