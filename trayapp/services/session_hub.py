"""The app's sessions wiring in one object: the sessions service and the hook receiver beside it.

:class:`SessionsHub` builds :class:`~trayapp.services.sessions_service.SessionsService` (its
notifications take the alerts' path: the dispatcher, the alert service's pause, quiet hours) and
runs the loopback hook receiver (``services/hook_receiver``) while the ``hooks.receiver``
setting is on, following the setting as it changes. The tray's badge follows
``service.needs_you_changed``. The composition root makes one and registers the stop
:meth:`SessionsHub.start` returns: the receiver closes first, then the watcher, then
notifications in flight (bounded).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Protocol

from trayapp import runtime
from trayapp.core.clock import Clock
from trayapp.services.sessions_service import SessionsService
from trayapp.store import session_hooks

if TYPE_CHECKING:
    from trayapp.channels.dispatcher import Dispatcher
    from trayapp.services.alerts import AlertService
    from trayapp.services.hook_receiver import RunningReceiver
    from trayapp.settings import Settings

log = logging.getLogger(__name__)


class TrayLike(Protocol):
    """What the hub needs of the tray (``ui.tray.Tray``; services do not import ui)."""

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
        self.service.needs_you_changed.connect(tray.set_needs_you)
        self.receiver: RunningReceiver | None = None
        self._unsubscribe: Callable[[], None] | None = None

    async def start(self) -> Callable[[], Awaitable[None]]:
        """Watch the sessions and (setting on) receive hook events; returns the stop."""
        self.service.start_watching()
        self._unsubscribe = self.settings.subscribe("hooks.receiver", self._setting_changed)
        if bool(self.settings.get("hooks.receiver")):
            await self.start_receiver()
        return self.stop

    async def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        await self.stop_receiver()
        await self.service.stop_watching()

    async def start_receiver(self) -> None:
        """Listen on the stored loopback port (another when it is taken: hooks need reinstalling)."""
        from trayapp.services.hook_receiver import start_receiver

        if self.receiver is not None:
            return
        try:
            running = await start_receiver(self.service.on_hook_event)
        except Exception:
            log.exception("hook receiver unavailable: sessions come from the registry and jobs only")
            return
        self.receiver = running
        log.info("hook receiver listening on 127.0.0.1:%d", running.port)
        if running.port_changed:
            log.warning("hook port changed to %d: run `claude-watch hooks --install` again", running.port)
            self.tray.show_message(
                "Claude Code hooks need reinstalling",
                f"The hook port is now {running.port}: run `claude-watch hooks --install` again.",
            )

    async def stop_receiver(self) -> None:
        running, self.receiver = self.receiver, None
        if running is not None:
            await running.stop()

    def _setting_changed(self, keys: list[str], settings: Settings) -> None:
        on = bool(settings.get("hooks.receiver"))
        runtime.try_spawn(self.start_receiver() if on else self.stop_receiver(), "hook receiver", group=self)
