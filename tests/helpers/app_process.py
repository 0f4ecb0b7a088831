"""Run Claude Watch as a real child process on the test desktop, plus a loopback usage server.

:class:`UsageServer` answers ``GET /api/oauth/usage`` on 127.0.0.1 with whatever body the test
sets (the documented wire format). :func:`start_app` launches ``python -m trayapp`` with the
test's ``CLAUDE_WATCH_HOME`` and the given environment, on the xcb platform of the running Xvfb.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


def usage_body(
    five_hour: float, seven_day: float = 20.0, resets_in: timedelta = timedelta(hours=2)
) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "five_hour": {"utilization": five_hour, "resets_at": (now + resets_in).isoformat()},
        "seven_day": {"utilization": seven_day, "resets_at": (now + timedelta(days=3)).isoformat()},
        "seven_day_opus": None,
        "extra_usage": {
            "is_enabled": False,
            "monthly_limit": None,
            "used_credits": None,
            "utilization": None,
        },
    }


class UsageServer:
    """Answers every request with ``status``, ``headers`` and ``body`` (all settable while it runs).

    Header values go out byte for byte as latin-1, so a test can send the exact hostile bytes a
    broken proxy or server would (``Retry-After: \xb2``).
    """

    def __init__(
        self, body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
    ) -> None:
        self.body = body
        self.status = status
        self.headers = dict(headers or {})
        self.requests = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                outer.requests += 1
                data = json.dumps(outer.body).encode()
                self.send_response(outer.status)
                self.send_header("Content-Type", "application/json")
                for name, value in outer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def app_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = "xcb"
    env.pop("QT_LOGGING_RULES", None)
    env.update(extra)
    return env


def start_app(
    *args: str, env: dict[str, str] | None = None, wrap: list[str] | None = None
) -> subprocess.Popen[str]:
    cmd = [*(wrap or []), sys.executable, "-m", "trayapp", *args]
    return subprocess.Popen(
        cmd,
        cwd=REPO,
        env=env or app_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, so a wrapper and the app stop together
    )


def stop_app(proc: subprocess.Popen[str], timeout: float = 5.0) -> str:
    import signal

    def group(sig: int) -> None:
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass

    group(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        group(signal.SIGKILL)
        proc.wait(timeout)
    out = ""
    if proc.stdout is not None:
        out = proc.stdout.read()
        proc.stdout.close()
    return out


def wait_for(check: Callable[[], Any], timeout: float = 10.0, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            return result
        time.sleep(interval)


def x_tree() -> str:
    return subprocess.run(["xwininfo", "-root", "-tree"], capture_output=True, text=True, check=True).stdout


def visible_windows(name: str) -> list[str]:
    out = subprocess.run(
        ["xdotool", "search", "--onlyvisible", "--name", name], capture_output=True, text=True
    ).stdout
    return out.split()


def config_set(key: str, value: str) -> None:
    """``claude-watch config set KEY VALUE`` in another process (as a user would while the app runs)."""
    subprocess.run(
        [sys.executable, "-m", "trayapp", "config", "set", key, value],
        cwd=REPO,
        env=dict(os.environ),
        check=True,
        capture_output=True,
        timeout=60,
    )
