"""The app's sessions wiring in one object: the sessions service, Claude Code's telemetry and the
app's loopback server.

:class:`SessionsHub` builds :class:`~trayapp.services.sessions_service.SessionsService` (its
notifications take the alerts' path: the dispatcher, the alert service's pause, quiet hours) and
:class:`~trayapp.services.telemetry_service.TelemetryService` (live tokens and cost per session
from Claude Code's OpenTelemetry: the sessions panel and the dashboard's "today" read
:attr:`SessionsHub.telemetry`), and hands the hook and telemetry routes to the app's one loopback
server (``services/local_host``), which also carries the local API and runs while
``hooks.receiver``, ``telemetry.receiver`` or ``api.enabled`` is on, following the settings as
they change. The tray's badge follows ``service.needs_you_changed``; its "Open in
browser" opens the web dashboard through a one-time login link (:meth:`open_in_browser`). The
composition root makes one and registers the stop :meth:`SessionsHub.start` returns: the server
closes first, then the watcher, then notifications in flight (bounded).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

from trayapp.core.clock import Clock
from trayapp.services.sessions_service import SessionsService
from trayapp.services.telemetry_service import TelemetryService
from trayapp.store import session_hooks

if TYPE_CHECKING:
    from trayapp.channels.dispatcher import Dispatcher
    from trayapp.services.alerts import AlertService
    from trayapp.services.local_host import LocalHost
    from trayapp.services.usage_service import UsageService
    from trayapp.settings import Settings

log = logging.getLogger(__name__)


class TrayLike(Protocol):
    """What the hub needs of the tray (``ui.tray.Tray``; services do not import ui)."""

    open_in_browser_requested: Any  # a Qt signal without arguments

    def set_needs_you(self, count: int) -> None: ...
    def show_message(self, title: str, body: str, critical: bool = False) -> None: ...


class SessionsHub:
    """The sessions service plus the hook receiver, started and stopped together."""

    def __init__(
        self, settings: Settings, dispatcher: Dispatcher, alerts: AlertService, clock: Clock, tray: TrayLike
    ) -> None:
        self.settings = settings
        self.tray = tray
        self.service = SessionsService(
            settings.get,
            dispatcher,
            paused_until=lambda: alerts.paused_until,
            clock=clock,
            hooks_file=session_hooks.default_path(),
        )
        from trayapp.services.local_host import telemetry_timezone

        # Opened (on a worker lane) when the server first serves its routes.
        self.telemetry = TelemetryService(telemetry_timezone(settings))
        self._unfollow_tz: Callable[[], None] | None = None
        self.service.needs_you_changed.connect(tray.set_needs_you)
        tray.open_in_browser_requested.connect(self.open_in_browser)
        self.host: LocalHost | None = None

    def open_in_browser(self) -> None:
        """The web dashboard in the default browser, through a one-time login link (60 s) that
        sets the session cookie: the API token never reaches the browser or its history."""
        if self.host is None or self.host.api is None:
            self.tray.show_message(
                "The web dashboard is off",
                "Turn on the local API to open it: claude-watch config set api.enabled true",
            )
            return
        from PySide6.QtCore import QUrl
        from PySide6.QtGui import QDesktopServices

        from trayapp.services.local_api import login_url

        QDesktopServices.openUrl(QUrl(login_url()))

    async def start(self, usage: UsageService | None = None) -> Callable[[], Awaitable[None]]:
        """Watch the sessions and serve the hook route and the local API (settings on), the API
        reading ``usage``'s states; returns the stop."""
        from trayapp.services.local_host import LocalHost, app_sources, telemetry_timezone

        self.service.start_watching()
        sources = app_sources(self.settings, usage, self.service)
        self.host = LocalHost(
            self.settings,
            sources,
            on_hook_event=self.service.on_hook_event,
            on_port_changed=self._port_changed,
            telemetry=self.telemetry,
        )
        self.host.follow(usage, self.service)
        self._unfollow_tz = self.settings.subscribe(
            "tracking.timezone", lambda _keys, s: self.telemetry.set_timezone(telemetry_timezone(s))
        )
        await self.host.start()
        return self.stop

    async def stop(self) -> None:
        if self._unfollow_tz is not None:
            self._unfollow_tz()
            self._unfollow_tz = None
        host, self.host = self.host, None
        if host is not None:
            await host.stop()
        await self.service.stop_watching()

    def _port_changed(self, port: int) -> None:
        if self.host is None:
            return
        hooks, _api, telemetry = self.host.wanted()
        commands = [c for c, on in (("hooks", hooks), ("telemetry", telemetry)) if on]
        if not commands:
            return
        again = " and ".join(f"`claude-watch {c} --install`" for c in commands)
        log.warning("local server port changed to %d: run %s again", port, again)
        self.tray.show_message(
            "Claude Code hooks need reinstalling" if hooks else "Claude Code telemetry needs reinstalling",
            f"The app's port is now {port}: run {again} again.",
        )
