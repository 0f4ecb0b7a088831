"""Loopback HTTP servers that speak the real wire formats, for channel tests (shared: use them).

- :class:`TelegramServer`: Bot API ``/bot<token>/sendMessage``, ``getUpdates``, ``getMe``
  (``{"ok": true, "result": ...}`` / ``{"ok": false, "error_code", "description", "parameters"}``).
- :class:`SlackServer`: an incoming webhook (``POST /services/T/B/X`` with ``{"text": ...}``,
  ``200 ok``, ``429`` + ``Retry-After``, ``400 invalid_payload``, ``404 no_service``).
- :class:`AnthropicServer`: Messages API ``POST /v1/messages`` (``x-api-key``,
  ``anthropic-version``; message object or ``{"type": "error", "error": {...}}``).

Each runs a ``ThreadingHTTPServer`` on 127.0.0.1 in a daemon thread; ``stop()`` and
``start(port)`` simulate going offline and coming back on the same address. Responses can be
scripted with ``script.append((status, json_body, headers))`` for the next requests.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

Scripted = tuple[int, Any, dict[str, str]]


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; without this, Nagle + delayed ACK add 40 ms to every
    # request on a kept-alive connection.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        pass

    def _body(self) -> tuple[bytes, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        ctype = self.headers.get("Content-Type", "")
        if "json" in ctype:
            try:
                return raw, json.loads(raw or b"null")
            except ValueError:
                return raw, None
        if "form" in ctype:
            return raw, {k: v[-1] for k, v in parse_qs(raw.decode()).items()}
        return raw, None

    def _reply(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        is_json = not isinstance(body, bytes)
        self.send_header("Content-Type", "application/json" if is_json else "text/html")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_GET(self) -> None:
        self._dispatch("GET")

    def _dispatch(self, method: str) -> None:
        raw, body = self._body()
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        owner = self.server.owner
        with owner.lock:
            owner.requests.append(
                {"method": method, "path": url.path, "headers": dict(self.headers), "body": body, "raw": raw}
            )
        if owner.delay:
            time.sleep(owner.delay)
        status, payload, headers = owner.handle(method, url.path, query, body, dict(self.headers))
        self._reply(status, payload, headers)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: LoopbackServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (timeout tests) is expected; anything else is printed as usual.
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class LoopbackServer:
    """Base: start/stop on 127.0.0.1, a request log and a script of canned responses."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: list[dict[str, Any]] = []
        self.script: deque[Scripted] = deque()
        self.delay = 0.0
        self._httpd: _Server | None = None
        self.port = 0

    def start(self, port: int = 0) -> LoopbackServer:
        httpd = _Server(("127.0.0.1", port or self.port), _Handler)
        httpd.owner = self
        self.port = httpd.server_address[1]
        self._httpd = httpd
        threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def handle(
        self, method: str, path: str, query: dict[str, str], body: Any, headers: dict[str, str]
    ) -> Scripted:
        raise NotImplementedError

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class TelegramServer(LoopbackServer):
    """Telegram Bot API. ``messages`` holds every accepted sendMessage; ``updates`` feeds getUpdates."""

    def __init__(self, token: str = "123456:TEST-token_abcdef", chat_ids: tuple[int, ...] = (4242,)) -> None:
        super().__init__()
        self.token = token
        self.chat_ids = set(chat_ids)
        self.messages: list[dict[str, Any]] = []
        self.updates: list[dict[str, Any]] = []
        self.send_times: list[float] = []

    @staticmethod
    def error(code: int, description: str, retry_after: int | None = None) -> Scripted:
        body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
        if retry_after is not None:
            body["parameters"] = {"retry_after": retry_after}
        return (code, body, {})

    def add_private_message(self, chat_id: int, text: str = "hi", first_name: str = "Ada") -> None:
        uid = 100000 + len(self.updates)
        self.updates.append(
            {
                "update_id": uid,
                "message": {
                    "message_id": len(self.updates) + 1,
                    "from": {"id": chat_id, "is_bot": False, "first_name": first_name},
                    "chat": {"id": chat_id, "first_name": first_name, "type": "private"},
                    "date": int(time.time()),
                    "text": text,
                },
            }
        )

    def handle(
        self, method: str, path: str, query: dict[str, str], body: Any, headers: dict[str, str]
    ) -> Scripted:
        prefix = f"/bot{self.token}/"
        if not path.startswith("/bot"):
            return self.error(404, "Not Found")
        if not path.startswith(prefix):
            return self.error(401, "Unauthorized")
        api_method = path[len(prefix) :]
        params = dict(query)
        if isinstance(body, dict):
            params.update(body)
        if api_method == "getMe":
            return (200, {"ok": True, "result": {"id": 1, "is_bot": True, "username": "cw_test_bot"}}, {})
        if api_method == "getUpdates":
            offset = int(params.get("offset") or 0)
            return (200, {"ok": True, "result": [u for u in self.updates if u["update_id"] >= offset]}, {})
        if api_method != "sendMessage":
            return self.error(404, "Not Found: method not found")
        with self.lock:
            if self.script:
                return self.script.popleft()
        text = params.get("text")
        if not text:
            return self.error(400, "Bad Request: message text is empty")
        try:
            chat_id = int(params.get("chat_id"))
        except (TypeError, ValueError):
            return self.error(400, "Bad Request: chat not found")
        if chat_id not in self.chat_ids:
            return self.error(400, "Bad Request: chat not found")
        with self.lock:
            self.messages.append({"chat_id": chat_id, "text": text, "params": params})
            self.send_times.append(time.monotonic())
            mid = len(self.messages)
        result = {
            "message_id": mid,
            "from": {"id": 1, "is_bot": True, "first_name": "Claude Watch", "username": "cw_test_bot"},
            "chat": {"id": chat_id, "type": "private"},
            "date": int(time.time()),
            "text": text,
        }
        return (200, {"ok": True, "result": result}, {})


class SlackServer(LoopbackServer):
    """A Slack incoming webhook at ``/services/T000/B000/<secret>``."""

    def __init__(self, secret: str = "XXXXwebhooksecretXXXX") -> None:
        super().__init__()
        self.path = f"/services/T000/B000/{secret}"
        self.messages: list[dict[str, Any]] = []

    @property
    def webhook_url(self) -> str:
        return self.base_url + self.path

    def handle(
        self, method: str, path: str, query: dict[str, str], body: Any, headers: dict[str, str]
    ) -> Scripted:
        if method != "POST" or path != self.path:
            return (404, b"no_service", {})
        with self.lock:
            if self.script:
                return self.script.popleft()
        if not isinstance(body, dict) or not (body.get("text") or body.get("blocks")):
            return (400, b"invalid_payload", {})
        with self.lock:
            self.messages.append(body)
        return (200, b"ok", {})


class AnthropicServer(LoopbackServer):
    """Messages API. ``reply`` is the assistant's text; ``mode`` may be "ok", "error" (500) or
    "overloaded" (529). The key is accepted as ``x-api-key`` or ``Authorization: Bearer``."""

    def __init__(self, api_key: str = "sk-ant-api03-test-key", reply: str = "Ninety percent? Bold.") -> None:
        super().__init__()
        self.api_key = api_key
        self.reply = reply
        self.mode = "ok"

    @property
    def calls(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"] == "/v1/messages"]

    def handle(
        self, method: str, path: str, query: dict[str, str], body: Any, headers: dict[str, str]
    ) -> Scripted:
        lower = {k.lower(): v for k, v in headers.items()}
        if path != "/v1/messages" or method != "POST":
            return (404, {"type": "error", "error": {"type": "not_found_error", "message": "Not found"}}, {})
        # Older SDKs send ``x-api-key``; anthropic 2.x sends the key as ``Authorization: Bearer``.
        bearer = lower.get("authorization", "")
        presented = lower.get("x-api-key") or (bearer[7:] if bearer.startswith("Bearer ") else None)
        if presented != self.api_key:
            err = {"type": "authentication_error", "message": "invalid x-api-key"}
            return (401, {"type": "error", "error": err}, {})
        if "anthropic-version" not in lower:
            err = {"type": "invalid_request_error", "message": "anthropic-version header is required"}
            return (400, {"type": "error", "error": err}, {})
        if self.mode == "error":
            return (500, {"type": "error", "error": {"type": "api_error", "message": "Internal"}}, {})
        if self.mode == "overloaded":
            return (
                529,
                {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
                {},
            )
        if not isinstance(body, dict) or not body.get("messages") or not body.get("max_tokens"):
            err = {"type": "invalid_request_error", "message": "messages and max_tokens are required"}
            return (400, {"type": "error", "error": err}, {})
        message = {
            "id": f"msg_{len(self.requests):024d}",
            "type": "message",
            "role": "assistant",
            "model": body.get("model", "claude-haiku-4-5"),
            "content": [{"type": "text", "text": self.reply}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": 120, "output_tokens": 18},
        }
        return (200, message, {})
