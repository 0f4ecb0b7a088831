"""Achievements as a feature of the tray app (listed in :mod:`trayapp.app_features`).

``attach`` builds the :class:`~trayapp.services.achievements_service.AchievementsService` (nothing
read yet) and registers the popup's Achievements section, there only while ``achievements.enabled``
is on (turned on with the popup already built, the section is added then; turned off, hidden).
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
_views: WeakKeyDictionary[ClaudeWatch, QWidget] = WeakKeyDictionary()


def service_of(cw: ClaudeWatch) -> AchievementsService | None:
    return _services.get(cw)


def attach(cw: ClaudeWatch) -> None:
    from trayapp.services.achievements_service import AchievementsService

    service = AchievementsService(cw.dispatcher, cw.settings.get, clock=cw.clock)
    _services[cw] = service
    cw.panel_factories.append(lambda: _panel(cw, service) if service.enabled else None)


def _panel(cw: ClaudeWatch, service: AchievementsService) -> QWidget:
    from trayapp.features.achievements_panel import AchievementsPanel
    from trayapp.services.achievements_service import report_zone

    view = AchievementsPanel(report_zone(cw.settings.get))
    view.set_standings(service.standings)
    service.changed.connect(view.set_standings)
    _views[cw] = view
    return view


def _follow(cw: ClaudeWatch, service: AchievementsService) -> None:
    """The setting changed: recompute when turned on; show, add (to a popup built without it) or
    hide the section."""
    view = _views.get(cw)
    if not service.enabled:
        if view is not None:
            view.hide()
        return
    runtime.try_spawn(service.recompute(), "achievements turned on", group=service)
    popup = cw.built_popup
    if view is not None:
        view.show()
    elif popup is not None:
        popup.add_panel(_panel(cw, service))


async def start(cw: ClaudeWatch) -> Callable[[], Awaitable[object]] | None:
    service = _services.get(cw)
    if service is None:
        return None

    def changed(keys: list[str], _settings: Any) -> None:
        if "achievements.enabled" in keys:
            _follow(cw, service)

    unfollow = cw.settings.subscribe("achievements", changed)
    service.start()
    log.info("achievements %s", "on" if service.enabled else "off (achievements.enabled)")

    async def stop() -> None:
        unfollow()
        await service.stop()

    return stop
