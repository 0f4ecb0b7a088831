"""Where the status-bar formats get their numbers: the running app's local API, else the stored reading.

The app is the one poller: ``status --format waybar|polybar|i3blocks`` and every ``--watch`` ask
its loopback API (``GET /v1/status``, one request, short timeout; ``GET /v1/events``, Server-Sent
Events) with the bearer token it keeps in ``state/api-token``, on the port in
``state/local-server.json``. Nothing here creates either file (a reader must not invent a token
the app does not know) and nothing here polls Anthropic: with no app the last stored reading is
shown, derived with the app's own rules, so it says "stale" when it is old.

A plain socket speaks HTTP/1.1 (``http.client`` costs ~27 ms at import, ``httpx`` far more; a
status bar runs this every few seconds). Replies are untrusted: the head and the body are capped,
the status line and the framing (``Content-Length``, chunked, or until close) are parsed strictly,
and anything else is :class:`ApiUnavailable`.
"""

from __future__ import annotations

import socket

from trayapp import paths

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from datetime import datetime
    from typing import Any

TIMEOUT = 1.0  # seconds, one-shot: a bar must not hang on a stuck app
STREAM_IDLE = 45.0  # seconds without a byte (the app sends a keep-alive every 15 s)
MAX_HEAD = 16 * 1024
MAX_BODY = 512 * 1024
MAX_LINE = 512 * 1024
MAX_SMALL_FILE = 4096


class ApiUnavailable(Exception):
    """No app answers on the local API (no files, refused, timeout, refused token, bad reply)."""


def _read_small(name: str) -> bytes:
    try:
        with (paths.state_dir() / name).open("rb") as handle:
            raw = handle.read(MAX_SMALL_FILE + 1)
    except OSError as exc:
        raise ApiUnavailable(f"no {name}") from exc
    if len(raw) > MAX_SMALL_FILE:
        raise ApiUnavailable(f"{name} is too large")
    return raw


def endpoint() -> tuple[int, str]:
    """The app's port (``state/local-server.json``) and API token (``state/api-token``)."""
    import json

    try:
        data = json.loads(_read_small("local-server.json"))
    except ValueError as exc:
        raise ApiUnavailable("local-server.json is not JSON") from exc
    port = data.get("port") if isinstance(data, dict) else None
    if not isinstance(port, int) or isinstance(port, bool) or not 1024 <= port <= 65535:
        raise ApiUnavailable("no port in local-server.json")
    token = _read_small("api-token").decode("ascii", "replace").strip()
    # store.api_token's rule (importing it costs hashlib, secrets and dataclasses).
    if not 32 <= len(token) <= 128 or not token.isascii() or not all(c.isalnum() or c in "-_" for c in token):
        raise ApiUnavailable("api-token is not a token")
    return port, token


class _Reply:
    """A response read from a socket: status, headers, then the body as lines or as a whole."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._file = sock.makefile("rb")
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            line = self._file.readline(MAX_HEAD)
            if not line:
                raise ApiUnavailable("connection closed before the reply")
            head += line
            if len(head) > MAX_HEAD:
                raise ApiUnavailable("reply head too large")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        parts = status_line.split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
            raise ApiUnavailable("not an HTTP reply")
        self.status = int(parts[1])
        self.headers: dict[str, str] = {}
        for header in header_lines:
            name, sep, value = header.partition(":")
            if sep:
                self.headers[name.strip().lower()] = value.strip()
        self.chunked = "chunked" in self.headers.get("transfer-encoding", "").lower()
        length = self.headers.get("content-length")
        self.length = int(length) if length is not None and length.isdigit() else None
        self._chunk_left = 0
        self._done = False

    def _raw(self, limit: int) -> bytes:
        """Up to ``limit`` body bytes (a line at most), undoing chunked framing; b"" at the end."""
        if self._done:
            return b""
        if not self.chunked:
            return self._file.readline(limit)
        if self._chunk_left == 0:
            size_line = self._file.readline(64)
            if size_line in (b"\r\n", b"\n"):  # the CRLF closing the previous chunk
                size_line = self._file.readline(64)
            try:
                self._chunk_left = int(size_line.split(b";")[0].strip() or b"x", 16)
            except ValueError as exc:
                raise ApiUnavailable("bad chunked framing") from exc
            if self._chunk_left == 0:
                self._done = True
                return b""
        data = self._file.readline(min(limit, self._chunk_left))
        if not data:
            raise ApiUnavailable("connection closed inside a chunk")
        self._chunk_left -= len(data)
        return data

    def body(self) -> bytes:
        if self.length is not None and self.length > MAX_BODY:
            raise ApiUnavailable("reply body too large")
        if self.length is not None and not self.chunked:
            data = self._file.read(self.length)
            if len(data) != self.length:
                raise ApiUnavailable("reply body cut short")
            return data
        data = b""
        while piece := self._raw(MAX_BODY):
            data += piece
            if len(data) > MAX_BODY:
                raise ApiUnavailable("reply body too large")
        return data

    def close(self) -> None:
        self._file.close()
        self.sock.close()

    def lines(self) -> Iterator[bytes]:
        """Body lines (an SSE stream), each capped; ends when the server closes."""
        line = b""
        while piece := self._raw(MAX_LINE):
            line += piece
            if line.endswith(b"\n"):
                yield line
                line = b""
            elif len(line) > MAX_LINE:
                raise ApiUnavailable("stream line too long")


def _request(path: str, timeout: float, accept: str) -> _Reply:
    port, token = endpoint()
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    except OSError as exc:
        raise ApiUnavailable("the app is not listening") from exc
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        request = (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
            f"Accept: {accept}\r\nConnection: close\r\n\r\n"
        )
        sock.sendall(request.encode("ascii"))
        reply = _Reply(sock)
    except OSError as exc:
        sock.close()
        raise ApiUnavailable("the app did not answer") from exc
    except ApiUnavailable:
        sock.close()
        raise
    if reply.status != 200:
        sock.close()
        raise ApiUnavailable(f"the app answered {reply.status}")
    return reply


def _document(raw: bytes) -> dict[str, Any]:
    import json

    try:
        doc = json.loads(raw)
    except ValueError as exc:
        raise ApiUnavailable("the status is not JSON") from exc
    if not isinstance(doc, dict):
        raise ApiUnavailable("the status is not a JSON object")
    return doc


def fetch_status(timeout: float = TIMEOUT) -> dict[str, Any]:
    """``GET /v1/status`` from the running app (raises :class:`ApiUnavailable`)."""
    reply = _request("/v1/status", timeout, "application/json")
    try:
        return _document(reply.body())
    except OSError as exc:
        raise ApiUnavailable("the app stopped answering") from exc
    finally:
        reply.close()


def status_events(timeout: float = TIMEOUT, idle: float = STREAM_IDLE) -> Iterator[dict[str, Any]]:
    """Each ``event: status`` document from ``GET /v1/events`` until the stream ends.

    Raises :class:`ApiUnavailable` when the app cannot be reached; a stream that ends (the app
    stopped) or goes silent for ``idle`` seconds simply ends the iteration.
    """
    reply = _request("/v1/events", timeout, "text/event-stream")
    event, data = "message", b""
    try:
        reply.sock.settimeout(idle)
        for line in reply.lines():
            line = line.rstrip(b"\r\n")
            if not line:  # a blank line dispatches the event
                if event == "status" and data:
                    try:
                        yield _document(data)
                    except ApiUnavailable:
                        pass  # a bad message is skipped, the stream goes on
                event, data = "message", b""
            elif line.startswith(b":"):
                continue  # keep-alive comment
            else:
                name, _, value = line.partition(b":")
                value = value[1:] if value.startswith(b" ") else value
                if name == b"event":
                    event = value.decode("utf-8", "replace")
                elif name == b"data":
                    data = data + b"\n" + value if data else value
                    if len(data) > MAX_BODY:
                        event, data = "message", b""  # oversized message dropped
    except (OSError, ApiUnavailable):
        return
    finally:
        reply.close()


def stored_document(now: datetime) -> dict[str, Any]:
    """The ``status --json`` document of the last stored reading, without any request.

    The same derivation as the app's (staleness from the poll interval, the last failed attempt
    as the error); a missing database is "no reading yet", not a new database.
    """
    from datetime import timedelta

    from trayapp.cli.status import to_json
    from trayapp.core.derive import derive_state
    from trayapp.core.models import AccountState
    from trayapp.store.usage_repo import UsageRepo

    db = paths.database_file()
    if not db.exists():
        return to_json(AccountState(None, stale=True), now)
    repo = UsageRepo.open(db)
    try:
        snap = repo.latest_snapshot()
        last = repo.last_outcome()
        error = last.error if last is not None and not last.ok else None
        samples = {}
        for w in snap.windows if snap is not None else ():
            samples[w.id] = repo.samples(w.id, w.starts_at or (snap.fetched_at - w.length))  # type: ignore[union-attr]
    finally:
        repo.close()
    interval = timedelta(minutes=_interval_minutes())
    return to_json(derive_state(snap, samples, now, interval=interval, error=error), now)


def _interval_minutes() -> int:
    from trayapp import settings

    try:
        return int(settings.load().get("poll.interval_minutes"))
    except (ValueError, TypeError, KeyError):
        return 5


def watch(
    fmt: str,
    emit: Callable[[str], None],
    *,
    first_delay: float = 1.0,
    max_delay: float = 30.0,
    give_up_after: float = 30.0,
    sleep: Callable[[float], None] | None = None,
) -> None:
    """Print one line per change of what ``fmt`` shows, for ever (a bar's continuous mode).

    Follows ``/v1/events``; when the stream ends (the app quit or restarts) it reconnects after
    ``first_delay`` seconds, doubling up to ``max_delay``. The stored reading is shown when no app
    answers at the start, or once reconnecting has failed for ``give_up_after`` seconds (a restart
    takes a few, and the bar should not flicker to an older reading meanwhile); it is read again
    at each failed attempt, so it turns stale on the bar when it grows old. A document whose
    :meth:`Reading.key` equals the last one shown prints nothing: the app announces its state on
    every connect and may repeat an unchanged one, and an unchanged stored reading is shown once.
    """
    import time

    from trayapp.cli.status_formats import Reading, now_utc, render

    pause = sleep or time.sleep
    last_key: tuple[object, ...] | None = None

    def show(doc: dict[str, Any]) -> None:
        nonlocal last_key
        key = Reading(doc).key()
        if key != last_key:
            last_key = key
            emit(render(fmt, doc, now_utc(), watch=True))

    connected_once = False
    failing_since: float | None = None
    delay = first_delay
    while True:
        try:
            for doc in status_events():
                connected_once, failing_since, delay = True, None, first_delay
                show(doc)
        except ApiUnavailable:
            clock = time.monotonic()
            failing_since = clock if failing_since is None else failing_since
            if not connected_once or clock - failing_since >= give_up_after:
                show(stored_document(now_utc()))
        pause(delay)
        delay = min(delay * 2, max_delay)
