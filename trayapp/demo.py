"""Demo account: a simulated usage endpoint on 127.0.0.1 plus fake Claude Code credentials.

:func:`start_demo` starts a ``ThreadingHTTPServer`` on a random loopback port that answers
``GET /api/oauth/usage`` in the real wire format, with accelerated time (by default a 5-hour
window lasts 10 minutes) so the tray visibly moves: the 5-hour and weekly windows fill and
reset, a scoped weekly limit ("Fable 5") appears only in ``limits[]``, extra usage grows, and
every so often the server answers 429 with a ``Retry-After``. It also writes obviously fake
credentials (``sk-ant-oat01-DEMO-FAKE...``) and a ``.claude.json`` into a temporary Claude config
dir. Tests use the same server: :attr:`UsageSimulator.script` queues exact responses
(status, body, headers), :attr:`UsageSimulator.delay` slows answers, and
:attr:`UsageSimulator.requests` records what arrived (the latest :data:`MAX_RECORDED`).

:func:`enter_demo_home` moves the whole process into a temporary demo folder first (every app
folder and Claude Code's config folder), so the demo never reads or writes the user's data;
``services/demo_seed`` fills that folder with a week of history, transcripts and live sessions.
"""

from __future__ import annotations

import atexit
import json
import math
import os
import shutil
import tempfile
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

DEMO_TOKEN = "sk-ant-oat01-DEMO-FAKE-TOKEN-not-a-real-login-0000000000000000"
DEMO_EMAIL = "demo@example.invalid"
USAGE_PATH = "/api/oauth/usage"
FIVE_HOURS = 5 * 3600.0
WEEK = 7 * 86400.0

MAX_RECORDED = 200  # requests the simulator remembers (UsageSimulator.requests)
DEMO_ROOT_ENV = "CLAUDE_WATCH_DEMO_ROOT"  # set while the process runs in its demo folder

Scripted = tuple[int, Any, dict[str, str]]


def enter_demo_home() -> Path:
    """Point this process at a fresh temporary demo folder and return it (the same one on a
    second call): ``CLAUDE_WATCH_HOME`` (settings, databases, logs, state, cache) and
    ``CLAUDE_CONFIG_DIR`` (credentials, transcripts, session registry) both move inside it, so
    nothing the demo does reaches the user's real folders. Removed when the process exits."""
    existing = os.environ.get(DEMO_ROOT_ENV)
    if existing:
        return Path(existing)
    root = Path(tempfile.mkdtemp(prefix="claude-watch-demo-"))
    os.environ[DEMO_ROOT_ENV] = str(root)
    os.environ["CLAUDE_WATCH_HOME"] = str(root / "home")
    os.environ["CLAUDE_CONFIG_DIR"] = str(root / "claude")
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    return root


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="microseconds")


class UsageSimulator:
    """The simulated account. ``speed`` = simulated seconds per real second."""

    def __init__(
        self,
        *,
        speed: float = 30.0,
        rate_limit_every: int = 0,
        retry_after: int = 20,
        phases: tuple[float, float] = (0.35, 0.4),
        peaks: tuple[float, float] = (112.0, 80.0),
    ) -> None:
        self.speed = speed
        self.rate_limit_every = rate_limit_every
        self.retry_after = retry_after
        self.started = time.time()
        self.script: deque[Scripted] = deque()
        self.delay = 0.0
        # The latest MAX_RECORDED only: the demo app polls it every few seconds for as long as it
        # runs (a kept list grew ~0.2 MB an hour in the soak; tests look at a handful).
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self._count = 0
        # Start partway into both windows (``phases``) so the first reading is interesting.
        self._offset_5h = phases[0] * FIVE_HOURS
        self._offset_week = phases[1] * WEEK
        self._peaks = peaks  # what each window would reach at its end (before the wobble)

    def _sim_elapsed(self, now: float) -> float:
        return (now - self.started) * self.speed

    def usage_body(self, now: float | None = None) -> dict[str, Any]:
        """The current simulated reading, in the real response shape."""
        now = time.time() if now is None else now
        sim = self._sim_elapsed(now)
        wall = datetime.fromtimestamp(now, UTC)

        def window(offset: float, length: float, curve: float, peak: float) -> tuple[float, datetime, int]:
            pos = sim + offset
            instance = int(pos // length)
            phase = (pos % length) / length
            # Each instance peaks differently, so some windows hit the cap and some do not.
            wobble = 0.85 + 0.25 * math.sin(instance * 1.7)
            util = min(100.0, round(peak * wobble * phase**curve, 1))
            resets = wall + timedelta(seconds=(length - pos % length) / self.speed)
            return util, resets, instance

        five, five_reset, _ = window(self._offset_5h, FIVE_HOURS, 0.9, self._peaks[0])
        week, week_reset, _ = window(self._offset_week, WEEK, 1.0, self._peaks[1])
        sonnet = round(week * 0.3, 1)
        fable = round(min(100.0, week * 0.55), 1)
        used = round(1234.0 + (sim % WEEK) / 3600 * 9.0, 0)
        return {
            "five_hour": {"utilization": five, "resets_at": _iso(five_reset)},
            "seven_day": {"utilization": week, "resets_at": _iso(week_reset)},
            "seven_day_oauth_apps": None,
            "seven_day_opus": None,
            "seven_day_sonnet": {"utilization": sonnet, "resets_at": _iso(week_reset)},
            "iguana_necktie": None,
            "extra_usage": {
                "is_enabled": True,
                "monthly_limit": 5000,
                "used_credits": min(used, 5000.0),
                "utilization": round(min(used, 5000.0) / 50.0, 2),
                "currency": "USD",
            },
            "limits": [
                {
                    "kind": "session",
                    "group": "session",
                    "percent": round(five),
                    "resets_at": _iso(five_reset),
                    "scope": None,
                    "is_active": True,
                },
                {
                    "kind": "weekly_all",
                    "group": "weekly",
                    "percent": round(week),
                    "resets_at": _iso(week_reset),
                    "scope": None,
                    "is_active": False,
                },
                {
                    "kind": "weekly_scoped",
                    "group": "weekly",
                    "percent": round(fable),
                    "resets_at": _iso(week_reset),
                    "scope": {"model": {"id": None, "display_name": "Fable 5"}, "surface": None},
                    "is_active": False,
                },
            ],
        }

    def respond(self, headers: dict[str, str]) -> Scripted:
        """What to answer to one request (scripted responses first)."""
        with self.lock:
            if self.script:
                return self.script.popleft()
            self._count += 1
            count = self._count
        auth = headers.get("Authorization") or headers.get("authorization") or ""
        if not auth.startswith("Bearer ") or len(auth) < 20:
            return 401, {"type": "error", "error": {"type": "authentication_error", "message": "invalid"}}, {}
        if self.rate_limit_every and count % self.rate_limit_every == 0:
            return (
                429,
                {"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}},
                {"Retry-After": str(self.retry_after)},
            )
        return 200, self.usage_body(), {}


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        sim = self.server.sim
        headers = dict(self.headers)
        with sim.lock:
            sim.requests.append({"method": "GET", "path": self.path, "headers": headers})
            del sim.requests[:-MAX_RECORDED]
        if sim.delay:
            time.sleep(sim.delay)
        if self.path.split("?")[0] != USAGE_PATH:
            self._send(
                404, {"type": "error", "error": {"type": "not_found_error", "message": "no such path"}}, {}
            )
            return
        self._send(*sim.respond(headers))

    def _send(self, status: int, body: Any, headers: dict[str, str]) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "text/html" if isinstance(body, bytes) else "application/json")
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout tests)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    sim: UsageSimulator


@dataclass
class DemoHandle:
    """A running demo: point the engine at ``base_url`` and ``claude_config_dir``."""

    base_url: str
    claude_config_dir: Path
    simulator: UsageSimulator
    _server: _Server = field(repr=False)
    _thread: threading.Thread = field(repr=False)
    _own_dir: bool = field(default=False, repr=False)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        if self._own_dir:
            shutil.rmtree(self.claude_config_dir, ignore_errors=True)


def write_demo_credentials(config_dir: Path, *, now: datetime | None = None, token: str = DEMO_TOKEN) -> Path:
    """Write fake Claude Code credentials and identity into ``config_dir``; returns the file."""
    now = now or datetime.now(UTC)
    config_dir.mkdir(parents=True, exist_ok=True)
    creds = {
        "claudeAiOauth": {
            "accessToken": token,
            "refreshToken": "sk-ant-ort01-DEMO-FAKE-REFRESH-not-real",
            "expiresAt": int((now + timedelta(days=365)).timestamp() * 1000),
            "refreshTokenExpiresAt": int((now + timedelta(days=400)).timestamp() * 1000),
            "scopes": ["user:inference", "user:profile", "user:sessions:claude_code"],
            "subscriptionType": "max",
            "rateLimitTier": "default_claude_max_20x",
        }
    }
    path = config_dir / ".credentials.json"
    path.write_text(json.dumps(creds, indent=2), "utf-8")
    path.chmod(0o600)
    identity = {"oauthAccount": {"emailAddress": DEMO_EMAIL, "organizationName": "Demo Organization"}}
    (config_dir / ".claude.json").write_text(json.dumps(identity, indent=2), "utf-8")
    return path


def start_demo(
    *,
    speed: float = 30.0,
    rate_limit_every: int = 17,
    retry_after: int = 20,
    config_dir: Path | None = None,
    port: int = 0,
    phases: tuple[float, float] = (0.35, 0.4),
    peaks: tuple[float, float] = (112.0, 80.0),
) -> DemoHandle:
    """Start the simulated server and write demo credentials; call ``stop()`` when done.
    ``phases``: how far into its 5-hour and weekly windows the account starts (0 to 1);
    ``peaks``: how hard it uses them (what each would reach by its end, about)."""
    sim = UsageSimulator(
        speed=speed, rate_limit_every=rate_limit_every, retry_after=retry_after, phases=phases, peaks=peaks
    )
    server = _Server(("127.0.0.1", port), _Handler)
    server.sim = sim
    thread = threading.Thread(target=server.serve_forever, name="claude-watch-demo", daemon=True)
    thread.start()
    own = config_dir is None
    directory = Path(tempfile.mkdtemp(prefix="claude-watch-demo-")) if config_dir is None else config_dir
    write_demo_credentials(directory)
    host, bound = server.server_address[:2]
    return DemoHandle(f"http://127.0.0.1:{bound}", directory, sim, server, thread, own)
