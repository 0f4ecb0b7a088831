"""The local API's routes: one poller, many views (the web dashboard, the browser extension,
status-bar modules), all reading what the app already knows, never Anthropic.

Served by the app's one loopback server (``services/local_host``) or by ``claude-watch serve``.
Who may read:

- every data route (``/v1/...``, ``/metrics``) wants ``Authorization: Bearer <token>``: the API token
  (``state/api-token``) or a paired client's own token (``state/api-clients.json``); a token in
  the query string counts for nothing (strict query parsing refuses it);
- the dashboard alone may use the ``cw_session`` cookie instead, set by a one-time login link
  (``/login?code=...``, 60 s) that the tray's "Open in browser" or ``serve --open`` makes; the
  cookie is HttpOnly, SameSite=Strict and lives in memory for 12 h;
- a request carrying a web page's ``Origin`` (another site in the user's browser) gets 403 on
  every data route, and no reply ever carries ``Access-Control-Allow-Origin`` for a web origin;
  a browser extension's origin gets it, and only with the token that extension paired with.

Status and sessions come from the values the services last emitted (no poll per request);
history and the daily report run on worker lanes.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trayapp import paths, runtime
from trayapp.core import humanize
from trayapp.services import metrics_api
from trayapp.services.api_docs import status_json
from trayapp.services.local_server import Request, Response, Route
from trayapp.services.sse import Broadcaster
from trayapp.store import api_token, local_endpoint

if TYPE_CHECKING:
    from trayapp.core.telemetry import TelemetryTotals

SCHEMA_VERSION = 1
COOKIE = "cw_session"
CSP = (
    "default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'; "
    "connect-src 'self'"
)
EXTENSION_SCHEMES = ("chrome-extension://", "moz-extension://")
RANGES = {"24h": timedelta(hours=24), "7d": timedelta(days=7)}
MAX_PAIR_BODY = 1024
_CODE_RE = re.compile(r"^[0-9]{3}-[0-9]{3}$")
_OPAQUE_RE = re.compile(r"^[A-Za-z0-9_-]{16,128}$")
_KINDS = {"five_hour": "alerts.five_hour_thresholds", "weekly": "alerts.weekly_thresholds"}
_SIGN_IN_PAGE = """<!doctype html><html lang="en"><meta charset="utf-8"><title>Claude Watch</title>
<body style="font-family:sans-serif;max-width:36em;margin:3em auto">
<h1>Claude Watch</h1><p>{message}</p><p>Open the dashboard from the tray menu ("Open in browser")
or run <code>claude-watch serve --open</code>.</p></body></html>"""
_PLACEHOLDER = "<!doctype html><title>Claude Watch</title><p>The dashboard page is not installed.</p>"

_ports: dict[str, int] = {}  # the running server's port, for login_url()


@dataclass(frozen=True, slots=True)
class ApiSources:
    """Where the routes' data comes from (the app's services, or ``serve``'s headless ones)."""

    state: Callable[[], Any]  # the latest AccountState, or None before the first one
    sessions: Callable[[], dict[str, Any]]  # the ``sessions --json`` document now
    history: Callable[[datetime], Awaitable[Sequence[tuple[datetime, str, float, Any]]]]
    report_daily: Callable[[date | None], Awaitable[dict[str, Any]]]  # runs on a worker lane
    get_setting: Callable[[str], Any]
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    # For /metrics: the poller's counts, sessions and hook events (``metrics_api.activity_source``).
    activity: Callable[[], Any] | None = None
    # Claude Code's OpenTelemetry totals (services/telemetry_service), None while the receiver is off.
    telemetry: Callable[[], TelemetryTotals | None] = lambda: None


def _json(status: int, value: object, headers: tuple[tuple[str, str], ...] = ()) -> Response:
    return Response(status, json.dumps(value).encode("utf-8"), "application/json", headers)


def _error(status: int, message: str) -> Response:
    return _json(status, {"error": message})


def _bearer(request: Request) -> str | None:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    token = given.strip()
    return token if scheme.lower() == "bearer" and token.isascii() and token else None


def _cookie(request: Request, name: str) -> str | None:
    for part in re.split(r"[;,]", request.headers.get("cookie", "")):
        key, sep, value = part.strip().partition("=")
        if sep and key == name:
            return value
    return None


def parse_query(raw: str, allowed: dict[str, frozenset[str] | None]) -> dict[str, str]:
    """Strict: each key once, known keys only, values from ``allowed[key]`` (None: any short
    printable value); anything else raises ValueError with the reason."""
    out: dict[str, str] = {}
    for part in raw.split("&") if raw else []:
        key, sep, value = part.partition("=")
        if not sep or key not in allowed:
            raise ValueError(f"unknown query parameter {key[:32]!r}")
        if key in out:
            raise ValueError(f"{key} given twice")
        choices = allowed[key]
        if (choices is not None and value not in choices) or len(value) > 128 or "%" in value:
            raise ValueError(f"bad value for {key}")
        out[key] = value
    return out


class LocalApi:
    """The ``/v1`` routes, ``/login`` and ``/``; :meth:`publish_state` and
    :meth:`publish_sessions` feed ``/v1/events``.

    Args:
        sources: the data.
        token: the API token (``api_token.load_or_create_token()``, read on a worker lane).
        clients: the paired clients (``api_token.load_clients()``).
        book: codes and sessions (the process's own by default).
        dashboard: the page served at ``/`` (default: the bundled ``web/dashboard.html``).
    """

    def __init__(
        self,
        sources: ApiSources,
        *,
        token: str,
        clients: Sequence[api_token.Client] = (),
        book: api_token.CodeBook | None = None,
        broadcaster: Broadcaster | None = None,
        dashboard: Path | None = None,
        clients_file: Path | None = None,
    ) -> None:
        self.sources = sources
        self.token = token
        self.clients = {c.token_sha256: c for c in clients}
        self.book = book or api_token.BOOK
        self.events = broadcaster or Broadcaster()
        self.dashboard = dashboard or paths.resources_dir() / "web" / "dashboard.html"
        self.clients_file = clients_file
        self.port: int | None = None
        self._status_cache: tuple[Any, tuple[object, ...], dict[str, Any], bytes] | None = None
        self.report_timeout = 8.0  # under the server's handler limit (Limits.read_timeout)

    def routes(self) -> list[Route]:
        data, main = self._data_auth, self._main_auth
        return [
            Route("GET", "/v1/status", self._guard(self._status), token=None, auth=data),
            Route("GET", "/v1/history", self._guard(self._history), token=None, auth=data, query=True),
            Route("GET", "/v1/sessions", self._guard(self._sessions), token=None, auth=data),
            Route("GET", "/v1/agents", self._guard(self._agents), token=None, auth=data),
            Route("GET", "/v1/report/daily", self._guard(self._daily), token=None, auth=data, query=True),
            Route("GET", "/v1/events", self._guard(self._events), token=None, auth=data),
            Route("GET", "/metrics", self._guard(self._metrics), token=None, auth=data),
            Route("POST", "/v1/pair", self._pair, token=None, auth=self._no_web, max_body=MAX_PAIR_BODY),
            Route("POST", "/v1/pair/new", self._pair_new, token=None, auth=main, max_body=MAX_PAIR_BODY),
            Route("POST", "/v1/login/new", self._login_new, token=None, auth=main, max_body=MAX_PAIR_BODY),
            Route("POST", "/v1/token/rotate", self._rotate, token=None, auth=main, max_body=MAX_PAIR_BODY),
            Route("GET", "/login", self._login, token=None, query=True),
            Route("GET", "/", self._page, token=None),
        ]

    # ----- feeding the event stream
    def status_document(self, state: Any) -> dict[str, Any]:
        """``status --json`` plus what the extension needs; the document depends on the state
        and four settings only, so it is built once per state (a poll), not once per request."""
        return self._status_cached(state)[0]

    def _status_cached(self, state: Any) -> tuple[dict[str, Any], bytes]:
        get = self.sources.get_setting
        notify = bool(get("alerts.enabled")) and bool(get("alerts.desktop"))
        five, weekly = (sorted(int(v) for v in get(key)) for key in _KINDS.values())
        key = (notify, tuple(five), tuple(weekly))
        cached = self._status_cache
        if cached is not None and cached[0] is state and cached[1] == key:
            return cached[2], cached[3]
        now = self.sources.now()
        doc = status_json(state, now)
        doc["schema_version"] = SCHEMA_VERSION
        doc["desktop_notifications"] = notify
        doc["thresholds"] = {"five_hour": five, "weekly": weekly, "weekly_scoped": weekly}
        # The popup's words for the web dashboard (one wording): the banner's headline, each
        # window's pace sentence and burn rate (the page keeps only the countdowns ticking).
        if doc["error"] is not None:
            doc["error"]["fix"] = humanize.error_fix(state.error)
        for window, ws in zip(doc["windows"], state.windows, strict=True):
            window["pace_text"] = humanize.pace_text(ws, now)
            window["burn_text"] = humanize.burn_text(ws)
        body = json.dumps(doc).encode("utf-8")
        self._status_cache = (state, key, doc, body)
        return doc, body

    def publish_state(self, state: Any) -> None:
        self.events.publish("status", self.status_document(state))

    def publish_sessions(self, document: dict[str, Any]) -> None:
        self.events.publish("sessions", document)

    # ----- who may ask
    def _own_origin(self, origin: str) -> bool:
        return self.port is not None and origin in (
            f"http://127.0.0.1:{self.port}",
            f"http://localhost:{self.port}",
            f"http://[::1]:{self.port}",
        )

    def _no_web(self, request: Request) -> Response | None:
        """A web page's Origin (another site open in the browser) is refused outright."""
        origin = request.headers.get("origin")
        if origin is None or origin.startswith(EXTENSION_SCHEMES) or self._own_origin(origin):
            return None
        return _error(403, "web pages may not use this API")

    def _main_auth(self, request: Request) -> Response | None:
        """The API token only (no cookie, no paired client): making codes is the owner's job."""
        refusal = self._no_web(request)
        if refusal is not None:
            return refusal
        given = _bearer(request)
        if given is not None and hmac.compare_digest(given, self.token):
            return None
        return _json(401, {"error": "unauthorized"}, (("WWW-Authenticate", "Bearer"),))

    def data_auth(self, request: Request) -> Response | None:
        """Who may read data: the API token, a paired client's token or the dashboard's cookie
        (the metrics listener asks the running API this for every scrape)."""
        return self._data_auth(request)

    def _data_auth(self, request: Request) -> Response | None:
        refusal = self._no_web(request)
        if refusal is not None:
            return refusal
        given = _bearer(request)
        if given is not None:
            if hmac.compare_digest(given, self.token) or api_token.sha256(given) in self.clients:
                return None
        elif self._session_ok(request):
            return None
        return _json(401, {"error": "unauthorized"}, (("WWW-Authenticate", "Bearer"),))

    def _session_ok(self, request: Request) -> bool:
        session = _cookie(request, COOKIE)
        return session is not None and bool(_OPAQUE_RE.match(session)) and self.book.session_valid(session)

    def _cors(self, request: Request) -> tuple[tuple[str, str], ...]:
        """``Access-Control-Allow-Origin`` for an extension asking with the token it paired with."""
        origin = request.headers.get("origin", "")
        given = _bearer(request)
        if not origin.startswith(EXTENSION_SCHEMES) or given is None:
            return ()
        client = self.clients.get(api_token.sha256(given))
        if client is None or client.origin != origin:
            return ()
        return (("Access-Control-Allow-Origin", origin), ("Vary", "Origin"))

    def _guard(
        self, handler: Callable[[Request], Awaitable[Response]]
    ) -> Callable[[Request], Awaitable[Response]]:
        async def guarded(request: Request) -> Response:
            response = await handler(request)
            cors = self._cors(request)
            if not cors:
                return response
            return Response(
                response.status,
                response.body,
                response.content_type,
                (*response.headers, *cors),
                response.stream,
            )

        return guarded

    # ----- data
    async def _status(self, _request: Request) -> Response:
        state = self.sources.state()
        if state is None:
            return _error(503, "no usage data yet")
        return Response(200, self._status_cached(state)[1], "application/json")

    async def _history(self, request: Request) -> Response:
        try:
            query = parse_query(request.query, {"range": frozenset(RANGES)})
        except ValueError as exc:
            return _error(400, str(exc))
        key = query.get("range", "24h")
        now = self.sources.now()
        rows = await self.sources.history(now - RANGES[key])
        points = [{"t": t.isoformat(), "window": wid, "utilization": float(u)} for t, wid, u, *_ in rows]
        return _json(200, {"schema_version": SCHEMA_VERSION, "range": key, "points": points})

    async def _sessions(self, _request: Request) -> Response:
        return _json(200, self.sources.sessions())

    async def _agents(self, _request: Request) -> Response:
        return _json(200, {"schema_version": SCHEMA_VERSION, "agents": []})

    async def _daily(self, request: Request) -> Response:
        try:
            query = parse_query(request.query, {"since": None})
            since = date.fromisoformat(query["since"]) if "since" in query else None
            if "since" in query and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", query["since"]):
                raise ValueError("since: use YYYY-MM-DD")
        except ValueError as exc:
            return _error(400, str(exc))
        try:
            async with asyncio.timeout(self.report_timeout):
                return _json(200, await self.sources.report_daily(since))
        except TimeoutError:  # a first scan of a large history: it goes on in its lane
            return _json(503, {"error": "the report is still being prepared: try again shortly"},
                         (("Retry-After", "10"),))  # fmt: skip

    async def _events(self, _request: Request) -> Response:
        return self.events.response()

    async def _metrics(self, _request: Request) -> Response:
        return await metrics_api.metrics_response(self.sources)

    # ----- pairing and login
    async def _pair(self, request: Request) -> Response:
        try:
            body = json.loads(request.body)
            code, name = body["code"], body.get("name", "client")
            if not (isinstance(code, str) and _CODE_RE.match(code)) or not isinstance(name, str):
                raise ValueError
        except (ValueError, KeyError, TypeError):
            return _error(400, 'send {"code": "NNN-NNN", "name": "..."}')
        try:
            ok = self.book.take_pairing_code(code)
        except api_token.RateLimited:
            return _json(429, {"error": "too many wrong codes: wait a minute"}, (("Retry-After", "60"),))
        if not ok:
            return _error(403, "unknown or expired pairing code")
        origin = request.headers.get("origin", "")
        created = self.sources.now().isoformat()
        token = await runtime.run_blocking(api_token.add_client, name, origin, created, self.clients_file)
        self.clients[api_token.sha256(token)] = api_token.Client(
            name, api_token.sha256(token), origin, created
        )
        return _json(200, {"token": token, "port": self.port})

    async def _pair_new(self, _request: Request) -> Response:
        return _json(200, {"code": self.book.new_pairing_code(), "expires_in": int(api_token.PAIRING_TTL)})

    async def _login_new(self, _request: Request) -> Response:
        code = self.book.new_login_code()
        return _json(200, {"url": self._login_url(code), "expires_in": int(api_token.LOGIN_TTL)})

    async def _rotate(self, _request: Request) -> Response:
        """``serve --new-token`` while the app runs: the process that serves makes the new token,
        so the old one and every paired client stop working at once (no restart)."""
        self.token = await runtime.run_blocking(api_token.rotate_token, None, self.clients_file)
        self.clients = {}
        return _json(200, {"rotated": True})

    def _login_url(self, code: str) -> str:
        return f"http://127.0.0.1:{self.port}/login?code={code}"

    async def _login(self, request: Request) -> Response:
        try:
            code = parse_query(request.query, {"code": None}).get("code", "")
        except ValueError:
            code = ""
        if not (_OPAQUE_RE.match(code) and self.book.take_login_code(code)):
            return self._html(403, _SIGN_IN_PAGE.format(message="This login link has expired or was used."))
        cookie = f"{COOKIE}={self.book.new_session()}; HttpOnly; SameSite=Strict; Path=/"
        return Response(303, b"", headers=(("Location", "/"), ("Set-Cookie", cookie)))

    async def _page(self, request: Request) -> Response:
        if not self._session_ok(request):
            return self._html(200, _SIGN_IN_PAGE.format(message="Sign in to see your limits here."))
        page = await runtime.run_blocking(_read_page, self.dashboard)
        return self._html(200, page)

    @staticmethod
    def _html(status: int, page: str) -> Response:
        headers = (
            ("Content-Security-Policy", CSP),
            ("X-Frame-Options", "DENY"),
            ("Referrer-Policy", "no-referrer"),
        )
        return Response(status, page.encode("utf-8"), "text/html; charset=utf-8", headers)


def _read_page(path: Path) -> str:
    try:
        return path.read_text("utf-8")
    except (OSError, ValueError):
        return _PLACEHOLDER


def set_port(port: int | None) -> None:
    """The running server's port (``local_host`` calls this when it starts and stops)."""
    if port is None:
        _ports.pop("api", None)
    else:
        _ports["api"] = port


def login_url() -> str:
    """A one-time dashboard login link (60 s) for this process's server: the tray's "Open in
    browser". The port is the running server's, else the stored one."""
    port = _ports.get("api")
    if port is None:
        endpoint = local_endpoint.load()
        port = endpoint.port if endpoint is not None else 0
    return f"http://127.0.0.1:{port}/login?code={api_token.new_login_code()}"
