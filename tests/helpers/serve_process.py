"""``claude-watch serve --demo`` as a child process for real-browser tests (issue 17).

Each :class:`ServeProcess` has its own ``CLAUDE_WATCH_HOME`` (its own port, token and settings)
and its own process group, so a test can run two side by side or stop one to see "not running".
Its output is drained on a thread; :meth:`ServeProcess.wait_for_line` finds what it printed (the
URL, a pairing code). :meth:`cli` runs any other ``claude-watch`` command against the same home.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[2]
URL_RE = re.compile(r"http://127\.0\.0\.1:(\d+)/")


class ServeProcess:
    def __init__(self, home: Path) -> None:
        self.home = home
        self.proc: subprocess.Popen[str] | None = None
        self.port = 0
        self.lines: list[str] = []
        self._lock = threading.Lock()
        self._drain: threading.Thread | None = None

    def env(self) -> dict[str, str]:
        env = {**os.environ, "CLAUDE_WATCH_HOME": str(self.home), "PYTHONUNBUFFERED": "1"}
        env["CLAUDE_CONFIG_DIR"] = str(self.home / "claude-config")
        env["CLAUDE_WATCH_API_BASE"] = "http://127.0.0.1:9"  # never the real endpoint
        env["XDG_CONFIG_HOME"] = str(self.home / "xdg-config")
        env.pop("CLAUDE_WATCH_SERVICES", None)
        return env

    def cli(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """``claude-watch ARGS`` with this home (``config set``, ``serve --new-token``, ...)."""
        return subprocess.run(
            [sys.executable, "-m", "trayapp", *args],
            cwd=REPO,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
        )

    def start(self, *args: str) -> None:
        """Start ``serve --demo ARGS``; returns once it answers /v1/status with windows."""
        (self.home / "claude-config").mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "trayapp", "serve", "--demo", *args],
            cwd=REPO,
            env=self.env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self._drain = threading.Thread(target=self._read, args=(self.proc.stdout,), daemon=True)
        self._drain.start()
        self.port = int(self.wait_for_line(URL_RE).group(1))
        deadline = time.monotonic() + 45
        while time.monotonic() < deadline:
            try:
                if self.status().get("windows"):
                    return
            except (httpx.HTTPError, OSError, ValueError):
                pass
            time.sleep(0.2)
        raise AssertionError("serve --demo never answered /v1/status with windows:\n" + self.output())

    def _read(self, stream: Any) -> None:
        for line in stream:
            with self._lock:
                self.lines.append(line)

    def output(self) -> str:
        with self._lock:
            return "".join(self.lines)

    def wait_for_line(self, pattern: re.Pattern[str], timeout: float = 45) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = pattern.search(self.output())
            if found:
                return found
            if self.proc is None or self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"serve printed nothing matching {pattern.pattern!r}:\n{self.output()}")

    def token(self) -> str:
        return (self.home / "state" / "api-token").read_text(encoding="utf-8").strip()

    def status(self) -> dict[str, Any]:
        r = httpx.get(
            f"http://127.0.0.1:{self.port}/v1/status",
            headers={"Authorization": f"Bearer {self.token()}"},
            timeout=10,
        )
        r.raise_for_status()
        return dict(r.json())

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        if self._drain is not None:
            self._drain.join(5)
        if proc.stdout is not None:
            proc.stdout.close()
