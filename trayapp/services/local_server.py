"""The app's small, strict HTTP/1.1 server on loopback (hook events and the local API).

Runs on the app's asyncio loop (qasync) with ``asyncio.start_server``: no threads, and handlers
are quick coroutines, so it never stalls the GUI. Routing is generic: ``method + path ->
handler``, and each :class:`Route` declares the bearer token it requires (or None) and its body
cap. Everything a client sends is untrusted, even on loopback (any local process, or a web page
through DNS rebinding, can reach the port), so the server refuses rather than guesses:

- binds loopback addresses only, and answers only requests whose ``Host`` is a loopback name
  (``127.0.0.1``, ``localhost``, ``[::1]``, with or without our port): 421 otherwise. The one
  exception is the opt-in metrics listener (``services/metrics_listener``): ``allow_remote``
  lets it bind another address and ``host_ok`` widens its Host check for that address;
- the token is compared in constant time and only from ``Authorization: Bearer``; a token route
  takes no query string (a token there would end up in logs);
- the request head is capped (16 KiB, 100 headers), bodies need ``Content-Length`` under the
  route's cap (411/413); ``Transfer-Encoding`` is refused except ``chunked`` on a route that takes
  it (``Route.chunked``: Node's OTLP exporters send their bodies so), capped the same way; slow or
  idle clients are dropped after a timeout, connections are capped (503 beyond);
- every reply has ``Content-Length`` and ``Cache-Control: no-store`` and no CORS headers of its
  own (a handler may add one); a route may take a query string (``Route.query``: its handler
  parses it strictly) and may authenticate itself (``Route.auth``: bearer token or cookie, before
  any body is read);
- a streamed reply (``Response.stream``: Server-Sent Events) is written without a length on a
  connection that closes afterwards, and holds no connection slot while it streams (its own
  module bounds how many there are, see ``services/sse``).

Keep-alive is supported (Claude Code may reuse a connection) with a bounded number of requests.
A handler exception is a 500 and goes to the server's ``LoopHealth`` (logged once per streak).
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import errno
import hmac
import ipaddress
import json
import logging
import re
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from http import HTTPStatus

from trayapp import runtime
from trayapp.services.http_chunked import ChunkError, read_chunked

log = logging.getLogger(__name__)

Handler = Callable[["Request"], Awaitable["Response"]]
Auth = Callable[["Request"], "Response | None"]  # None: let it through; a Response: the refusal
Stream = Callable[[asyncio.StreamWriter], Awaitable[None]]

_TOKEN_RE = re.compile(rb"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_BAD_VALUE_RE = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_SINGLE = frozenset({"host", "content-length", "authorization", "transfer-encoding", "expect"})


@dataclass(frozen=True, slots=True)
class Request:
    """One parsed request: header names lower-case, the body complete."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes
    query: str = ""  # the raw query string (without "?"), only on routes that take one


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()
    stream: Stream | None = None  # writes the body itself, then the connection closes

    @classmethod
    def text(cls, status: int, text: str, headers: tuple[tuple[str, str], ...] = ()) -> Response:
        return cls(status, (text + "\n").encode("utf-8"), headers=headers)

    @classmethod
    def json(cls, status: int, value: object) -> Response:
        return cls(status, json.dumps(value).encode("utf-8"), "application/json")


@dataclass(frozen=True, slots=True)
class Route:
    """``method path`` served by ``handler``; ``token`` is the bearer token it requires (None: open)."""

    method: str
    path: str
    handler: Handler
    token: str | None
    max_body: int = 0
    auth: Auth | None = None  # checked before the body is read (instead of ``token``)
    query: bool = False  # takes a query string (never the token: only ``Authorization`` counts)
    chunked: bool = False  # takes ``Transfer-Encoding: chunked`` (the decoded body under max_body)


@dataclass(frozen=True, slots=True)
class Limits:
    max_head: int = 16 * 1024
    max_headers: int = 100
    read_timeout: float = 10.0  # a whole request head (or a keep-alive wait), a whole body, a reply
    max_requests_per_connection: int = 1000
    max_connections: int = 64  # served at once
    max_waiting: int = 256  # accepted and waiting for a slot; beyond that a 503 at once


@dataclass(frozen=True, slots=True)
class ServerStats:
    port: int | None
    requests: int
    refused: tuple[tuple[int, int], ...]  # (status, count) for every 4xx/5xx sent
    open_connections: int


class _Refuse(Exception):
    """Answer ``status`` with a short text and close the connection."""

    def __init__(self, status: int, text: str, headers: tuple[tuple[str, str], ...] = ()) -> None:
        super().__init__(text)
        self.response = Response.text(status, text, headers)


class _Refused(_Refuse):
    """Answer with a route's own refusal (``Route.auth``) and close the connection."""

    def __init__(self, response: Response) -> None:
        Exception.__init__(self, response.status)
        self.response = response


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


async def _health(_request: Request) -> Response:
    return Response.json(200, {"ok": True, "app": "claude-watch"})


class LocalServer:
    """A loopback HTTP/1.1 server for ``routes`` plus a tokenless ``GET /health``.

    Args:
        routes: what to serve; one handler per ``(method, path)``.
        host: a loopback address literal (anything else raises ``ValueError``).
        port: the port to try first; when taken, ``start`` binds a free one instead.
        limits: caps and timeouts (tests shrink them).
        allow_remote: may bind a non-loopback address (the metrics listener only).
        host_ok: also accept a ``Host`` header this says yes to (with ``allow_remote``).
    """

    def __init__(
        self,
        routes: Iterable[Route],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        limits: Limits | None = None,
        health: runtime.LoopHealth | None = None,
        allow_remote: bool = False,
        host_ok: Callable[[str], bool] | None = None,
    ) -> None:
        if not allow_remote and not is_loopback(host):
            raise ValueError(f"the local server binds loopback addresses only, not {host!r}")
        self._host_ok = host_ok if allow_remote else None
        self.host = host
        self.requested_port = port
        self.limits = limits or Limits()
        self.health = health or runtime.LoopHealth("local-server")
        self._routes: dict[str, dict[str, Route]] = {}
        for route in [*routes, Route("GET", "/health", _health, token=None)]:
            by_method = self._routes.setdefault(route.path, {})
            if route.method in by_method:
                raise ValueError(f"two routes for {route.method} {route.path}")
            by_method[route.method] = route
        self._server: asyncio.Server | None = None
        self._port: int | None = None
        self._hosts: frozenset[str] = frozenset()
        self._slots = asyncio.Semaphore(self.limits.max_connections)
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = False  # stop() has begun: a connection task that starts now closes at once
        self._requests = 0
        self._refused: Counter[int] = Counter()
        self._date = (0, "")
        self._keep_alive_hint = max(1, int(self.limits.read_timeout) // 2)

    @property
    def port(self) -> int | None:
        """The bound port while running."""
        return self._port

    async def start(self) -> int:
        """Listen; returns the bound port (another one when ``port`` was taken: the caller saves it)."""
        try:
            server = await self._listen(self.requested_port)
        except OSError as exc:
            if self.requested_port == 0 or exc.errno not in (errno.EADDRINUSE, errno.EACCES):
                raise
            log.warning(
                "port %d is taken; the local server listens on a new port: run "
                "`claude-watch hooks --install` again so Claude Code posts there",
                self.requested_port,
            )
            server = await self._listen(0)
        self._server, self._stopping = server, False
        self._port = int(server.sockets[0].getsockname()[1])
        names = ("127.0.0.1", "localhost", "[::1]")
        self._hosts = frozenset([*names, *(f"{n}:{self._port}" for n in names)])
        log.info("local server listening on %s:%d", self.host, self._port)
        return self._port

    async def _listen(self, port: int) -> asyncio.Server:
        return await asyncio.start_server(self._accept, self.host, port, limit=self.limits.max_head)

    async def stop(self) -> None:
        """Stop listening and drop every open connection, including one accepted a moment ago whose
        task has not started yet (it takes a few loop turns to register: a later one closes at once)."""
        self._stopping = True
        if self._server is not None:
            self._server.close()
        for _turn in range(8):
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await asyncio.sleep(0)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None
        self._port = None

    def stats(self) -> ServerStats:
        return ServerStats(self._port, self._requests, tuple(sorted(self._refused.items())), len(self._tasks))

    # -- connections ---------------------------------------------------------------------------

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            if self._stopping or len(self._tasks) > self.limits.max_connections + self.limits.max_waiting:
                why = "shutting down" if self._stopping else "too many connections"
                await self._refuse(reader, writer, Response.text(503, why))
                return
            try:
                async with asyncio.timeout(self.limits.read_timeout):
                    await self._slots.acquire()
            except TimeoutError:
                await self._refuse(reader, writer, Response.text(503, "too many connections"))
                return
            try:
                stream = await self._connection(reader, writer)
            finally:
                self._slots.release()
            if stream is not None:
                await stream(writer)
        except (ConnectionError, TimeoutError, asyncio.IncompleteReadError):
            pass  # the client went away or stalled: nothing to answer
        except asyncio.CancelledError:
            pass  # stop(): the connection task ends quietly (asyncio logs a cancelled one)
        finally:
            self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                async with asyncio.timeout(1.0):
                    await writer.wait_closed()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> Stream | None:
        """Serve requests until the connection ends; a streamed reply's writer is returned (the
        caller runs it after giving the slot back)."""
        served = 0
        while True:
            try:
                async with asyncio.timeout(self.limits.read_timeout):
                    head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                return None  # closed between requests (or mid-head): nothing to answer
            except asyncio.LimitOverrunError:
                await self._refuse(reader, writer, Response.text(431, "request head too large"))
                return None
            served += 1
            try:
                response, keep_alive = await self._one(head, reader, writer)
            except _Refuse as refused:
                await self._refuse(reader, writer, refused.response)
                return None
            keep_alive = keep_alive and served < self.limits.max_requests_per_connection
            if response.stream is not None:
                await self._reply(writer, response, keep_alive=False)
                return response.stream
            await self._reply(writer, response, keep_alive=keep_alive)
            if not keep_alive:
                return None

    async def _refuse(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, response: Response
    ) -> None:
        """Answer and close gracefully: what the client still sends is read and dropped for a moment,
        so closing with unread input does not reset the connection before it reads the answer."""
        await self._reply(writer, response, keep_alive=False)
        if writer.can_write_eof():
            writer.write_eof()
        with contextlib.suppress(Exception):
            async with asyncio.timeout(min(1.0, self.limits.read_timeout)):
                while await reader.read(65536):
                    pass

    async def _one(
        self, head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> tuple[Response, bool]:
        method, target, version, headers = self._parse_head(head)
        keep_alive = version == "HTTP/1.1" and "close" not in headers.get("connection", "").lower()
        host = headers.get("host")
        if host is None:
            raise _Refuse(400, "Host header required")
        if host.lower() not in self._hosts and not (self._host_ok is not None and self._host_ok(host)):
            raise _Refuse(421, "this server answers only to loopback host names")
        path, _, query = target.partition("?")
        by_method = self._routes.get(path)
        chunked = self._chunked(headers, by_method.get(method) if by_method else None)
        if by_method is None:
            raise _Refuse(404, "not found")
        route = by_method.get(method)
        if route is None:
            raise _Refuse(405, "method not allowed", (("Allow", ", ".join(sorted(by_method))),))
        length = 0 if chunked else self._content_length(method, headers, route)
        if query and not route.query and (route.token is not None or route.auth is not None):
            raise _Refuse(400, "no query string here (send the token in the Authorization header)")
        if route.auth is not None:
            refusal = route.auth(Request(method, path, headers, b"", query))
            if refusal is not None:
                raise _Refused(refusal)
        elif route.token is not None:
            scheme, _, given = headers.get("authorization", "").partition(" ")
            ok = scheme.lower() == "bearer" and hmac.compare_digest(
                given.strip().encode("utf-8", "replace"), route.token.encode("utf-8")
            )
            if not ok:
                raise _Refuse(401, "unauthorized", (("WWW-Authenticate", "Bearer"),))
        body = b""
        if length or chunked:
            if headers.get("expect", "").lower() == "100-continue":
                writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            try:
                async with asyncio.timeout(self.limits.read_timeout):
                    body = await (
                        read_chunked(reader, route.max_body) if chunked else reader.readexactly(length)
                    )
            except ChunkError as exc:
                raise _Refuse(exc.status, exc.text) from None
        self._requests += 1
        try:
            async with asyncio.timeout(self.limits.read_timeout):
                response = await route.handler(Request(method, path, headers, body, query))
        except Exception as exc:  # a bug in a handler must not take the server down
            self.health.failed(exc)
            return Response.text(500, "internal error"), keep_alive
        self.health.succeeded()
        return response, keep_alive

    def _parse_head(self, head: bytes) -> tuple[str, str, str, dict[str, str]]:
        lines = head[:-4].split(b"\r\n")
        parts = lines[0].split(b" ")
        if len(parts) != 3 or not _TOKEN_RE.match(parts[0]) or not parts[1].startswith(b"/"):
            raise _Refuse(400, "bad request line")
        if parts[2] not in (b"HTTP/1.1", b"HTTP/1.0"):
            raise _Refuse(505, "HTTP/1.1 only")
        if len(lines) - 1 > self.limits.max_headers:
            raise _Refuse(431, "too many headers")
        if _BAD_VALUE_RE.search(parts[1]) or len(parts[1]) > 2048:
            raise _Refuse(400, "bad request target")
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(b":")
            if not sep or not _TOKEN_RE.match(name) or _BAD_VALUE_RE.search(value):
                raise _Refuse(400, "bad header line")  # also obs-fold: a name cannot start with a space
            key = name.decode("ascii").lower()
            text = value.strip(b" \t").decode("latin-1")
            if key in headers:
                if key in _SINGLE:
                    raise _Refuse(400, f"duplicate {key} header")
                text = f"{headers[key]}, {text}"
            headers[key] = text
        return parts[0].decode("ascii"), parts[1].decode("latin-1"), parts[2].decode("ascii"), headers

    @staticmethod
    def _chunked(headers: Mapping[str, str], route: Route | None) -> bool:
        """Whether the body comes chunked; any other transfer coding (or chunked where the route
        does not take it, or alongside Content-Length: a smuggling attempt) is refused."""
        coding = headers.get("transfer-encoding")
        if coding is None:
            return False
        if route is None or not route.chunked or coding.strip().lower() != "chunked":
            raise _Refuse(411, "Transfer-Encoding is not accepted here; send Content-Length")
        if "content-length" in headers:
            raise _Refuse(400, "both Content-Length and Transfer-Encoding")
        return True

    @staticmethod
    def _content_length(method: str, headers: Mapping[str, str], route: Route) -> int:
        raw = headers.get("content-length")
        if raw is None:
            if method in _BODY_METHODS:
                raise _Refuse(411, "Content-Length required")
            return 0
        if not raw.isdigit() or len(raw) > 12:
            raise _Refuse(400, "bad Content-Length")
        length = int(raw)
        if length > route.max_body:
            raise _Refuse(413, f"body too large (at most {route.max_body} bytes)")
        return length

    async def _reply(self, writer: asyncio.StreamWriter, response: Response, *, keep_alive: bool) -> None:
        if response.status >= 400:
            self._refused[response.status] += 1
        now = int(time.time())
        if self._date[0] != now:
            self._date = (now, email.utils.formatdate(now, usegmt=True))
        try:
            reason = HTTPStatus(response.status).phrase
        except ValueError:
            reason = "Status"
        streamed = response.stream is not None
        lines = [
            f"HTTP/1.1 {response.status} {reason}",
            *([] if streamed else [f"Content-Length: {len(response.body)}"]),
            f"Content-Type: {response.content_type}",
            "Cache-Control: no-store",
            "X-Content-Type-Options: nosniff",
            f"Date: {self._date[1]}",
            f"Connection: {'keep-alive' if keep_alive else 'close'}",
            # Tells the client (Node's undici honours it) to drop an idle connection before we do,
            # so it never sends an event on a socket we are closing.
            *([f"Keep-Alive: timeout={self._keep_alive_hint}"] if keep_alive else []),
            *(f"{name}: {value}" for name, value in response.headers),
        ]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + response.body)
        async with asyncio.timeout(self.limits.read_timeout):
            await writer.drain()
