"""Server-Sent Events for the local API: one message encoded once, fanned out to every client.

:meth:`Broadcaster.publish` never waits: each client has a small bounded queue, and a client
whose queue is full (it stopped reading, or reads slower than changes arrive) is dropped, its
stream task cancelled, so it can never hold up the others or the loop. A new client first gets
the latest message of every event (the status and the sessions as they are now), then every
change; a ``: keep-alive`` comment goes out after 15 s of silence, which also notices a client
that went away. How many clients may listen at once is capped (503 beyond).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass

from trayapp.services.local_server import Response

log = logging.getLogger(__name__)

KEEP_ALIVE = b": keep-alive\n\n"


def encode(event: str, data: object) -> bytes:
    """One SSE message: ``event: <name>`` and the JSON document on one ``data:`` line."""
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


@dataclass(eq=False, slots=True)
class _Client:
    queue: asyncio.Queue[bytes]
    task: asyncio.Task[object] | None = None
    sent: int = 0


class Broadcaster:
    """The SSE fan-out.

    Args:
        max_clients: streams at once (the 129th gets a 503).
        queue_size: messages a client may lag behind before it is dropped.
        keep_alive: seconds of silence before a comment line.
        write_timeout: a write that cannot drain this long drops the client.
    """

    def __init__(
        self,
        *,
        max_clients: int = 128,
        queue_size: int = 16,
        keep_alive: float = 15.0,
        write_timeout: float = 5.0,
    ) -> None:
        self.max_clients = max_clients
        self.queue_size = queue_size
        self.keep_alive = keep_alive
        self.write_timeout = write_timeout
        self._clients: set[_Client] = set()
        self._latest: dict[str, bytes] = {}
        self.dropped = 0  # slow clients dropped so far (tests, the benchmark)

    @property
    def clients(self) -> int:
        return len(self._clients)

    def publish(self, event: str, data: object) -> bool:
        """Send ``event`` to every client unless it equals the last one sent; never blocks."""
        message = encode(event, data)
        if self._latest.get(event) == message:
            return False
        self._latest[event] = message
        for client in list(self._clients):
            try:
                client.queue.put_nowait(message)
            except asyncio.QueueFull:
                self._drop(client)
        return True

    def _drop(self, client: _Client) -> None:
        self._clients.discard(client)
        self.dropped += 1
        log.info("an event-stream client fell %d messages behind: dropped", self.queue_size)
        if client.task is not None:
            client.task.cancel()

    def response(self, headers: tuple[tuple[str, str], ...] = ()) -> Response:
        """The streamed reply for one new client (a 503 when there are too many already)."""
        if len(self._clients) >= self.max_clients:
            return Response.text(503, "too many event-stream clients", (("Retry-After", "30"),))
        client = _Client(asyncio.Queue(self.queue_size))
        for message in self._latest.values():
            client.queue.put_nowait(message)
        self._clients.add(client)

        async def stream(writer: asyncio.StreamWriter) -> None:
            await self._stream(client, writer)

        return Response(200, b"", "text/event-stream; charset=utf-8", headers, stream=stream)

    async def _stream(self, client: _Client, writer: asyncio.StreamWriter) -> None:
        client.task = asyncio.current_task()
        if client not in self._clients:  # dropped before its stream began
            return
        try:
            writer.write(b"retry: 3000\n\n")
            while True:
                try:
                    message = await asyncio.wait_for(client.queue.get(), self.keep_alive)
                except TimeoutError:
                    message = KEEP_ALIVE
                writer.write(message)
                async with asyncio.timeout(self.write_timeout):
                    await writer.drain()
                client.sent += 1
        except (ConnectionError, TimeoutError):
            pass  # the client went away or stopped reading
        finally:
            self._clients.discard(client)

    async def close(self) -> None:
        """End every stream (the server's stop cancels them too; this is for a route set change)."""
        tasks = [c.task for c in self._clients if c.task is not None]
        self._clients.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
