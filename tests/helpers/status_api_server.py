"""A loopback stand-in for the app's local API, speaking the contract the status-bar formats read.

``GET /v1/status`` (bearer token, JSON, ``Content-Length``) and ``GET /v1/events`` (Server-Sent
Events: ``event: status`` with the current document on connect, then one message per
:meth:`ApiStandIn.push`), on 127.0.0.1 in daemon threads. Streams are sent until close, or with
``chunked=True`` in chunked transfer encoding (each write split in two chunks mid-line, and
``/v1/status`` chunked too), so both framings a server may choose are covered.
:meth:`ApiStandIn.stop` closes every open stream (the client sees the app go away) and
:meth:`ApiStandIn.start` with the old port brings it back, like an app restart.
:meth:`ApiStandIn.write_state` writes ``state/local-server.json`` and ``state/api-token`` the way
the app does, so a real ``claude-watch status`` child process finds it.
"""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

TOKEN = "test-api-token-0123456789abcdefghij"


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if self.server.owner.chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if self.server.owner.chunked:
            self._write(body.decode(), True)
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.wfile.write(body)

    def do_GET(self) -> None:
        owner = self.server.owner
        with owner.lock:
            owner.requests.append((self.path, dict(self.headers)))
        if self.headers.get("Authorization") != f"Bearer {owner.token}":
            self._send(401, b'{"error": "unauthorized"}')
            return
        if self.path == "/v1/status":
            with owner.lock:
                self._send(200, json.dumps(owner.doc).encode())
        elif self.path == "/v1/events":
            self._stream(owner)
        else:
            self._send(404, b'{"error": "not found"}')

    def _write(self, text: str, chunked: bool) -> None:
        """Chunked: in two chunks split mid-text, so a reader that ignores the framing sees junk."""
        data = text.encode()
        if chunked:
            half = len(data) // 2
            parts = (data[:half], data[half:])
            data = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in parts if part)
        self.wfile.write(data)
        self.wfile.flush()

    def _stream(self, owner: ApiStandIn) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        if owner.chunked:
            self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        with owner.lock:
            owner.streams.add(self.connection)
            sent = len(owner.messages)
            first = owner.on_connect if owner.on_connect is not None else json.dumps(owner.doc)
        try:
            self._write(": hello\n\nevent: status\ndata: " + first + "\n\n", owner.chunked)
            while not owner.stopping.is_set():
                with owner.changed:
                    if len(owner.messages) == sent:
                        owner.changed.wait(0.2)
                    fresh = owner.messages[sent:]
                    sent += len(fresh)
                for message in fresh:
                    self._write(message, owner.chunked)
        except OSError:
            pass  # the client left or stop() closed the socket
        finally:
            with owner.lock:
                owner.streams.discard(self.connection)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: ApiStandIn


class ApiStandIn:
    """The stand-in app. ``doc`` is the status document; ``push`` changes it and tells every stream."""

    def __init__(self, doc: dict[str, Any], *, token: str = TOKEN, chunked: bool = False) -> None:
        self.doc = doc
        self.token = token
        self.chunked = chunked
        self.on_connect: str | None = None  # raw data for the first message (a malformed one)
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.messages: list[str] = []
        self.streams: set[socket.socket] = set()
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.stopping = threading.Event()
        self._server: _Server | None = None
        self.port = 0

    def start(self, port: int = 0) -> ApiStandIn:
        self.stopping.clear()
        server = _Server(("127.0.0.1", port), _Handler)
        server.owner = self
        self._server = server
        self.port = server.server_address[1]
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        """Close the listener and every open stream (the app quits)."""
        self.stopping.set()
        with self.changed:
            self.changed.notify_all()
            streams = list(self.streams)
        for sock in streams:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def push(self, doc: dict[str, Any]) -> None:
        with self.changed:
            self.doc = doc
            self.messages.append("event: status\ndata: " + json.dumps(doc) + "\n\n")
            self.changed.notify_all()

    def push_raw(self, message: str) -> None:
        with self.changed:
            self.messages.append(message)
            self.changed.notify_all()

    def stream_count(self) -> int:
        with self.lock:
            return len(self.streams)

    def write_state(self, state_dir: Path, token: str | None = None) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        endpoint = {"schema": 1, "port": self.port, "hook_token": "h" * 43}
        (state_dir / "local-server.json").write_text(json.dumps(endpoint))
        (state_dir / "api-token").write_text((token or self.token) + "\n")
        (state_dir / "api-token").chmod(0o600)

    def __enter__(self) -> ApiStandIn:
        return self.start() if self._server is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def status_doc(
    five: float, week: float, *, stale: bool = False, binding: str | None = None
) -> dict[str, Any]:
    """A ``status --json`` document with the 5-hour and weekly windows (and schema_version 1)."""

    def window(wid: str, label: str, kind: str, util: float) -> dict[str, Any]:
        level = "at_limit" if util >= 100 else "critical" if util >= 90 else "warning" if util >= 75 else "ok"
        return {
            "id": wid,
            "label": label,
            "kind": kind,
            "utilization": util,
            "resets_at": "2030-01-01T12:00:00+00:00",
            "time_to_reset_seconds": 3600.0,
            "burn_rate_per_hour": 6.5,
            "projected_at_reset": min(util + 6.5, 100.0),
            "projected_full_at": None,
            "level": level,
        }

    windows = [
        window("five_hour", "5-hour", "five_hour", five),
        window("seven_day", "Weekly", "weekly", week),
    ]
    return {
        "schema_version": 1,
        "source": "api",
        "fetched_at": "2030-01-01T10:00:00+00:00",
        "stale": stale,
        "age_seconds": 12.0,
        "plan": "Max 5x",
        "account": None,
        "windows": windows,
        "binding": binding or ("five_hour" if five >= week else "seven_day"),
        "extra_usage": None,
        "error": None,
        "notices": [],
    }
