"""The opt-in second listener that serves ``GET /metrics`` to a Prometheus on another machine.

Everything else Claude Watch serves stays on loopback. With ``metrics.listen`` set
(``ADDRESS:PORT``, e.g. ``0.0.0.0:9464``), :class:`MetricsListener` runs one more
:class:`~trayapp.services.local_server.LocalServer` on that address carrying ``/metrics`` and
``/health`` only, logs a warning that it does, and follows the setting as it changes (empty: it
stops). Each scrape is checked by the running local API (``LocalApi.data_auth``: the API token or
a paired client's token), so ``serve --new-token`` revokes a scraper here too; with the API off
the route answers 503.

Its Host check is wider than loopback's, for that listener only: an IP literal (DNS rebinding needs
a name, so a literal cannot be one), the configured host, and this machine's own host name (alone
or with a domain) are accepted; any other name gets 421.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from collections.abc import Callable
from typing import TYPE_CHECKING

from trayapp import runtime
from trayapp.core.prom_metrics import parse_listen
from trayapp.services import metrics_api
from trayapp.services.local_server import Limits, LocalServer, Request, Response, Route

if TYPE_CHECKING:
    from trayapp.services.local_api import LocalApi
    from trayapp.settings import Settings

log = logging.getLogger(__name__)

SETTING = "metrics.listen"
LIMITS = Limits(max_connections=8, max_waiting=16)


def host_checker(listen_host: str, hostname: str | None = None) -> Callable[[str], bool]:
    """The metrics listener's Host check (see the module docstring)."""
    own = (hostname if hostname is not None else socket.gethostname()).lower().rstrip(".")
    configured = listen_host.lower().strip("[]").rstrip(".")

    def ok(header: str) -> bool:
        text = header.strip().lower()
        if text.startswith("["):
            name = text[1 : text.find("]")] if "]" in text else ""
        else:
            name = text.rsplit(":", 1)[0] if text.count(":") == 1 else text
        try:
            ipaddress.ip_address(name)
            return True
        except ValueError:
            pass
        name = name.rstrip(".")
        return bool(name) and (
            name == configured or (bool(own) and (name == own or name.startswith(own + ".")))
        )

    return ok


class MetricsListener:
    """``/metrics`` on ``metrics.listen``, following the setting.

    Args:
        settings: the app's settings.
        api: the running local API (None while it is off), asked at every scrape.
        limits: the listener's caps (small: one Prometheus or two scrape it).
    """

    def __init__(
        self, settings: Settings, api: Callable[[], LocalApi | None], *, limits: Limits | None = None
    ) -> None:
        self.settings = settings
        self.api = api
        self.limits = limits or LIMITS
        self.server: LocalServer | None = None
        self.listening: str = ""
        self._lock = asyncio.Lock()
        self._unsubscribe: Callable[[], None] | None = None

    @property
    def port(self) -> int | None:
        return self.server.port if self.server is not None else None

    async def start(self) -> int | None:
        """Listen when the setting asks for it and follow it; returns the port (None: off)."""
        self._unsubscribe = self.settings.subscribe(SETTING, self._changed)
        await self.apply()
        return self.port

    async def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        async with self._lock:
            await self._stop_server()

    def _changed(self, _keys: list[str], _settings: Settings) -> None:
        runtime.try_spawn(self.apply(), "metrics listener settings", group=self)

    async def apply(self) -> None:
        async with self._lock:
            wanted = str(self.settings.get(SETTING) or "").strip()
            if wanted == self.listening and (self.server is not None) == bool(wanted):
                return
            await self._stop_server()
            if not wanted:
                return
            try:
                host, port = parse_listen(wanted)
            except ValueError as exc:
                log.warning("metrics.listen %r ignored: %s", wanted, exc)
                return
            server = LocalServer(
                [Route("GET", "/metrics", self._metrics, token=None, auth=self._auth)],
                host=host,
                port=port,
                limits=self.limits,
                allow_remote=True,
                host_ok=host_checker(host),
            )
            try:
                bound = await server.start()
            except OSError as exc:
                log.warning("metrics listener on %s unavailable: %s", wanted, exc)
                return
            if bound != port:  # the port was taken: another one would only confuse the scraper
                await server.stop()
                log.warning(
                    "metrics listener: port %d on %s is taken; not serving /metrics there", port, host
                )
                return
            self.server, self.listening = server, wanted
            log.warning(
                "serving /metrics to other machines on %s:%d (metrics.listen): only /metrics, and only "
                "with the API token; everything else stays on loopback",
                host,
                bound,
            )

    async def _stop_server(self) -> None:
        server, self.server, self.listening = self.server, None, ""
        if server is not None:
            await server.stop()

    def _auth(self, request: Request) -> Response | None:
        api = self.api()
        if api is None:
            return Response.text(503, "the local API is off (api.enabled): no metrics")
        return api.data_auth(request)

    async def _metrics(self, _request: Request) -> Response:
        api = self.api()
        if api is None:
            return Response.text(503, "the local API is off (api.enabled): no metrics")
        return await metrics_api.metrics_response(api.sources)
