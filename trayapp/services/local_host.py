"""The app's one loopback server: Claude Code's hooks and telemetry and the local API on one port.

:class:`LocalHost` runs a :class:`~trayapp.services.local_server.LocalServer` on the port kept in
``state/local-server.json`` while ``hooks.receiver``, ``telemetry.receiver`` or ``api.enabled`` is
on, carrying the hook route (``services/hook_receiver``), the OTLP routes
(``services/telemetry_receiver``, both with the hook token) and/or the API routes
(``services/local_api``), and rebuilds it on the same port when one of them changes. The
telemetry store opens the first time its routes are served; the API reads its totals.
:meth:`LocalHost.follow` feeds the API's event stream from the usage and sessions services'
signals (the one poller: no request ever polls).
Used by the tray app (through ``services/session_hub``) and by ``claude-watch serve``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trayapp import runtime
from trayapp.services.api_docs import add_telemetry, periods_json, sessions_json
from trayapp.services.hook_receiver import HookReceiver
from trayapp.services.local_api import ApiSources, LocalApi, set_port
from trayapp.services.local_server import Limits, LocalServer
from trayapp.services.telemetry_receiver import TelemetryReceiver
from trayapp.services.telemetry_service import TelemetryService
from trayapp.store import api_token, local_endpoint

if TYPE_CHECKING:
    from trayapp.core.sessions import HookEvent
    from trayapp.services.sessions_service import SessionsService
    from trayapp.services.usage_service import UsageService
    from trayapp.settings import Settings

log = logging.getLogger(__name__)

SETTINGS = ("hooks.receiver", "api.enabled", "telemetry.receiver")
Wanted = tuple[bool, bool, bool]  # hooks, API, telemetry


class LocalHost:
    """One server for the hook route, the telemetry routes and the API, following their settings.

    Args:
        settings: the app's settings (``hooks.receiver``, ``api.enabled``, ``telemetry.receiver``).
        sources: the API's data (see :func:`app_sources`); its ``telemetry`` reads ``telemetry``.
        on_hook_event: where hook events go (the sessions service).
        telemetry: the telemetry store and totals (default: a new one in the data folder, its
            days in ``tracking.timezone``).
        force_api: serve the API whatever ``api.enabled`` says (``claude-watch serve``).
        on_port_changed: told the new port when the stored one was taken.
    """

    def __init__(
        self,
        settings: Settings,
        sources: ApiSources,
        *,
        on_hook_event: Callable[[HookEvent], object] = lambda _event: None,
        force_api: bool = False,
        on_port_changed: Callable[[int], object] = lambda _port: None,
        endpoint_path: Path | None = None,
        limits: Limits | None = None,
        telemetry: TelemetryService | None = None,
    ) -> None:
        self.settings = settings
        self.telemetry = telemetry or TelemetryService(telemetry_timezone(settings))
        documents = sources.sessions
        self.sources = dataclasses.replace(
            sources,
            telemetry=self.telemetry.totals,
            sessions=lambda: add_telemetry(documents(), self.telemetry.totals()),
        )
        self.on_hook_event = on_hook_event
        self.force_api = force_api
        self.on_port_changed = on_port_changed
        self.endpoint_path = endpoint_path
        self.limits = limits
        self.server: LocalServer | None = None
        self.receiver: HookReceiver | None = None
        self.api: LocalApi | None = None
        self._serving: Wanted = (False, False, False)
        self._lock = asyncio.Lock()
        self._unsubscribe: list[Callable[[], None]] = []
        self._latest: tuple[Any, dict[str, Any] | None] = (None, None)

    @property
    def port(self) -> int | None:
        return self.server.port if self.server is not None else None

    def wanted(self) -> Wanted:
        """(hooks, api, telemetry) as the settings say now."""
        get = self.settings.get
        api = self.force_api or bool(get("api.enabled"))
        return bool(get("hooks.receiver")), api, bool(get("telemetry.receiver"))

    async def start(self) -> int | None:
        """Serve what the settings ask for and follow them; returns the port (None: nothing on)."""
        for key in SETTINGS:
            self._unsubscribe.append(self.settings.subscribe(key, self._setting_changed))
        await self.apply()
        return self.port

    async def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        async with self._lock:
            await self._stop_server()
        await self.telemetry.close()

    def follow(self, usage: UsageService | None, sessions: SessionsService | None) -> None:
        """Publish every state and session list the services emit to ``/v1/events``."""
        if usage is not None:
            usage.state_changed.connect(self.publish_state)
            self.publish_state(usage.state)
        if sessions is not None:
            sessions.sessions_changed.connect(lambda _list: self.publish_sessions(self.sources.sessions()))
            self.publish_sessions(self.sources.sessions())  # a client's first message, before any change
            self._unsubscribe.append(
                self.telemetry.subscribe(lambda: self.publish_sessions(self.sources.sessions()))
            )

    def publish_state(self, state: Any) -> None:
        self._latest = (state, self._latest[1])
        if self.api is not None and state is not None:
            self.api.publish_state(state)

    def publish_sessions(self, document: dict[str, Any]) -> None:
        self._latest = (self._latest[0], document)
        if self.api is not None:
            self.api.publish_sessions(document)

    def _setting_changed(self, keys: list[str], settings: Settings) -> None:
        runtime.try_spawn(self.apply(), "local server settings", group=self)

    async def apply(self) -> None:
        """(Re)start the server with the routes the settings want, on the stored port."""
        async with self._lock:
            wanted = self.wanted()
            if wanted == self._serving and (self.server is not None) == any(wanted):
                return
            await self._stop_server()
            if not any(wanted):
                return
            try:
                await self._start_server(*wanted)
            except Exception:
                log.exception("local server unavailable: no hook events and no local API")

    async def _start_server(self, hooks: bool, api: bool, telemetry: bool) -> None:
        endpoint = await runtime.run_blocking(local_endpoint.load_or_create, self.endpoint_path)
        routes = []
        if hooks:
            self.receiver = HookReceiver(endpoint.hook_token, self.on_hook_event)
            routes += self.receiver.routes()
        if telemetry:
            await self.telemetry.open()
            routes += TelemetryReceiver(endpoint.hook_token, self.telemetry).routes()
        if api:
            token = await runtime.run_blocking(api_token.load_or_create_token)
            clients = await runtime.run_blocking(api_token.load_clients)
            self.api = LocalApi(self.sources, token=token, clients=clients)
            routes += self.api.routes()
        server = LocalServer(routes, port=endpoint.port, limits=self.limits)
        port = await server.start()
        self.server, self._serving = server, (hooks, api, telemetry)
        if self.api is not None:
            self.api.port = port
            set_port(port)
            state, sessions = self._latest
            if state is not None:
                self.api.publish_state(state)
            if sessions is not None:
                self.api.publish_sessions(sessions)
        log.info(
            "local server on 127.0.0.1:%d (hooks: %s, API: %s, telemetry: %s)", port, hooks, api, telemetry
        )
        if hooks:  # the words tests and support scripts look for
            log.info("hook receiver listening on 127.0.0.1:%d", port)
        if port != endpoint.port:
            await runtime.run_blocking(local_endpoint.save_port, port, self.endpoint_path)
            self.on_port_changed(port)

    async def _stop_server(self) -> None:
        server, api = self.server, self.api
        self.server, self.api, self.receiver, self._serving = None, None, None, (False, False, False)
        if api is not None:
            set_port(None)
            await api.events.close()
        if server is not None:
            await server.stop()


def app_sources(
    settings: Settings,
    usage: UsageService | None,
    sessions: SessionsService | None,
    *,
    scan_reports: bool = False,
) -> ApiSources:
    """The API's data from the running services: their latest values, history and the ledger on
    worker lanes (``scan_reports``: scan transcripts before a report, when no tracking service
    keeps the ledger current, as in ``serve``)."""

    def state() -> Any:
        return usage.state if usage is not None else None

    async def history(since: datetime) -> list[Any]:
        if usage is None:
            return []
        ids = [ws.window.id for ws in usage.state.windows] or ["five_hour", "seven_day"]
        return list(await usage.history_async(ids, since))

    def sessions_doc() -> dict[str, Any]:
        now = datetime.now(UTC)
        if sessions is None:
            return sessions_json([], None, now)
        return sessions_json(sessions.sessions, sessions._hook_state(), now)  # its saved-file view

    async def report(since: date | None) -> dict[str, Any]:
        return await runtime.run_blocking(daily_report, settings, since, scan_reports, lane="ledger")

    from trayapp.services.metrics_api import activity_source

    return ApiSources(state=state, sessions=sessions_doc, history=history, report_daily=report,
                      get_setting=settings.get, activity=activity_source(usage, sessions))  # fmt: skip


def telemetry_timezone(settings: Settings) -> Any:
    """The day boundary of the telemetry's "today" (``tracking.timezone``, as the ledger's)."""
    from trayapp.services.ledger_service import resolve_timezone

    try:
        return resolve_timezone(str(settings.get("tracking.timezone") or ""))
    except ValueError:
        return None  # the settings dialog says so; days follow the system's zone meanwhile


def daily_report(settings: Settings, since: date | None, scan: bool) -> dict[str, Any]:
    """The ``report daily --json`` document from the ledger (blocking: a worker lane). The app's
    tracking service keeps the ledger current; ``serve`` without it scans first (``scan``)."""
    from trayapp.services.ledger_service import Tracker
    from trayapp.store.ledger import LedgerRepo

    tracker = Tracker.from_config(settings, LedgerRepo.open(check_same_thread=False))
    try:
        if scan:
            tracker.refresh()
        report = tracker.daily(since, None)
        return periods_json("daily", report, report.extra.get("projects", {}))
    finally:
        tracker.repo.close()
