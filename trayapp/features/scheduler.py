"""The window scheduler as a feature of the tray app (listed in :mod:`trayapp.app_features`).

``attach`` builds the :class:`~trayapp.services.scheduler_service.SchedulerService` (nothing read
yet) and registers the popup's "Window schedule" panel and the Settings page; ``start`` loads the
plan, memory and attempts on the io lane, follows the usage states, routes the reminder's
notification buttons to the service, and starts the tick. The service side is built by
:func:`trayapp.services.scheduler_feature.build_service`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from trayapp.app import ClaudeWatch
    from trayapp.core.models import AccountState
    from trayapp.services.scheduler_service import SchedulerService

log = logging.getLogger(__name__)

_services: WeakKeyDictionary[ClaudeWatch, SchedulerService] = WeakKeyDictionary()


def service_of(cw: ClaudeWatch) -> SchedulerService | None:
    """The app's scheduler (tests, other features), once attached."""
    return _services.get(cw)


async def _poll(cw: ClaudeWatch) -> AccountState | None:
    """One usage poll for the start's checks (a polite one: the usage service's own refresh)."""
    if cw.usage is None:
        return cw.state
    return await cw.usage.refresh_now()


def attach(cw: ClaudeWatch) -> None:
    from trayapp.services.scheduler_feature import build_service

    service = build_service(
        demo=cw.demo,
        clock=cw.clock,
        get_setting=cw.settings.get,
        dispatcher=cw.dispatcher,
        state=lambda: cw.state,
        alerts_paused_until=lambda: cw.alerts.paused_until,
        poll=lambda: _poll(cw),
    )
    _services[cw] = service

    def panel() -> QWidget:
        from trayapp.ui.schedule_panel import make_panel

        return make_panel(service, cw.clock, lambda: cw.state)

    def page() -> QWidget:
        from trayapp.ui.schedule_page import make_page

        return make_page(service, cw.clock.now)

    cw.panel_factories.append(panel)
    cw.settings_pages.append(("Window schedule", page))


async def start(cw: ClaudeWatch) -> Callable[[], Awaitable[object]] | None:
    service = _services.get(cw)
    if service is None:
        return None
    if cw.demo:  # a plan and a start to look at (the demo's folders are temporary)
        from trayapp import runtime
        from trayapp.services.scheduler_feature import seed_demo
        from trayapp.store.schedule_store import ScheduleStore

        await runtime.run_blocking(seed_demo, ScheduleStore(), cw.clock.now(), service.tz, lane="io")
    await service.load()
    if cw.usage is not None:
        cw.usage.state_changed.connect(service.on_state)
    cw.desktop.action_routes["schedule"] = service.on_action  # "schedule.start", "schedule.skip"
    service.start()
    log.info("window scheduler running (%d anchors, time zone %s)", len(service.plan.anchors), service.tz)
    return service.stop
