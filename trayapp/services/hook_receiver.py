"""Claude Code's HTTP hook events, received on the local server and handed to the app.

Claude Code POSTs each subscribed hook event (``claude-watch hooks --install`` writes the
subscriptions) to ``POST /hooks/v1/event`` with ``Authorization: Bearer <token>``. The receiver
parses the body (``core.hook_events.parse_hook``: untrusted, strictly parsed, never evaluated),
answers 200 with an empty body at once, which Claude Code takes as success, and hands the
:class:`HookEvent` to ``on_event`` on the next loop iteration, so nothing the app does with it
delays the reply (Claude Code waits for it before going on). A malformed body is a 400 with a
short reason and is counted, never delivered. :class:`ReceiverStats` is what ``doctor`` shows.

Wiring (``app.py``)::

    running = await hook_receiver.start_receiver(on_event)   # on the app's loop
    running.port, running.receiver.stats()
    await running.stop()                                      # at shutdown
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from trayapp import runtime
from trayapp.core.hook_events import MAX_BODY, HookEventError, parse_hook
from trayapp.core.sessions import HookEvent
from trayapp.services.local_server import Limits, LocalServer, Request, Response, Route
from trayapp.store import local_endpoint

log = logging.getLogger(__name__)

HOOK_PATH = "/hooks/v1/event"


@dataclass(frozen=True, slots=True)
class ReceiverStats:
    """Counters since start, for ``doctor`` and the benchmark."""

    received: int = 0
    rejected: tuple[tuple[str, int], ...] = ()  # (reason, count)
    last_event_at: datetime | None = None
    last_event_name: str | None = None


class HookReceiver:
    """The ``POST /hooks/v1/event`` route: parse, answer at once, deliver on the next tick.

    Args:
        token: the bearer token Claude Code must send (``LocalEndpoint.hook_token``).
        on_event: called on the loop with each valid event; exceptions are logged, not raised.
        clock: the time of receipt (tests pin it).
    """

    def __init__(
        self,
        token: str,
        on_event: Callable[[HookEvent], object],
        *,
        clock: Callable[[], datetime] | None = None,
        health: runtime.LoopHealth | None = None,
    ) -> None:
        self._token = token
        self._on_event = on_event
        self._clock = clock or (lambda: datetime.now(UTC))
        self.health = health or runtime.LoopHealth("hook-receiver")
        self._received = 0
        self._rejected: Counter[str] = Counter()
        self._last: HookEvent | None = None

    def routes(self) -> list[Route]:
        return [Route("POST", HOOK_PATH, self._handle, token=self._token, max_body=MAX_BODY)]

    def stats(self) -> ReceiverStats:
        last = self._last
        return ReceiverStats(
            received=self._received,
            rejected=tuple(sorted(self._rejected.items())),
            last_event_at=last.received_at if last else None,
            last_event_name=last.event.value if last else None,
        )

    async def _handle(self, request: Request) -> Response:
        try:
            event = parse_hook(request.body, self._clock())
        except HookEventError as exc:
            self._rejected[exc.reason] += 1
            return Response.text(400, f"bad hook event: {exc.reason}")
        self._received += 1
        self._last = event
        asyncio.get_running_loop().call_soon(self._deliver, event)
        return Response(200)

    def _deliver(self, event: HookEvent) -> None:
        try:
            self._on_event(event)
        except Exception as exc:  # the app's handler failing must not break the receiver
            self.health.failed(exc)
        else:
            self.health.succeeded()


@dataclass(frozen=True, slots=True)
class RunningReceiver:
    """A started receiver: its server, the bound port and the endpoint it was started from."""

    server: LocalServer
    receiver: HookReceiver
    port: int
    port_changed: bool  # the stored port was taken: hooks must be reinstalled

    async def stop(self) -> None:
        await self.server.stop()


async def start_receiver(
    on_event: Callable[[HookEvent], object],
    *,
    endpoint_path: Path | None = None,
    extra_routes: tuple[Route, ...] = (),
    limits: Limits | None = None,
) -> RunningReceiver:
    """Load (or create) the endpoint on a worker lane, listen, and save a changed port.

    Runs on the app's loop; the file I/O goes through ``runtime.run_blocking``.
    """
    endpoint = await runtime.run_blocking(local_endpoint.load_or_create, endpoint_path)
    receiver = HookReceiver(endpoint.hook_token, on_event)
    server = LocalServer([*receiver.routes(), *extra_routes], port=endpoint.port, limits=limits)
    port = await server.start()
    changed = port != endpoint.port
    if changed:
        await runtime.run_blocking(local_endpoint.save_port, port, endpoint_path)
    return RunningReceiver(server, receiver, port, changed)
