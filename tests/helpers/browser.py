"""A small W3C WebDriver client over httpx for real-browser tests (headless Chromium).

Debian's ``chromium`` and ``chromium-driver`` packages (``packaging/system-deps.sh test``) give
``/usr/bin/chromium`` and ``/usr/bin/chromedriver``. :func:`start_browser` launches chromedriver on
a free loopback port and opens one session with a fresh profile (``--user-data-dir`` in a temporary
folder) and no background traffic, so a test module can share one browser. Only the few commands
the tests need are here: navigate, run a script (sync and async), cookies, window size, emulated
colour scheme (through chromedriver's CDP bridge) and screenshots.

Without the packages, :func:`require_chromium` skips with the reason; under ``CI=true`` it fails,
because CI must exercise the real browser.
"""

from __future__ import annotations

import base64
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

CHROMIUM = Path(os.environ.get("CW_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("CW_CHROMEDRIVER", "/usr/bin/chromedriver"))
ARGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=900,1000",
)


def require_chromium() -> None:
    """Skip (or fail under CI=true) when Chromium or chromedriver is missing."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
    if not missing:
        return
    reason = f"missing {', '.join(missing)}: run packaging/system-deps.sh test (chromium, chromium-driver)"
    if os.environ.get("CI") == "true":
        pytest.fail("CI=true: " + reason)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class WebDriverError(RuntimeError):
    """A WebDriver command answered with an error (``error`` and ``message`` from the driver)."""


class Browser:
    """One chromedriver process and one session; :meth:`quit` ends both."""

    def __init__(self, driver: subprocess.Popen[bytes], base: str, profile: Path) -> None:
        self._driver = driver
        self._profile = profile
        self._http = httpx.Client(base_url=base, timeout=60)
        self.session_id = ""

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        url = f"/session/{self.session_id}{path}" if self.session_id else path
        r = self._http.request(method, url, json=body if body is not None else None)
        value = r.json().get("value")
        if r.status_code >= 400:
            detail = value if isinstance(value, dict) else {}
            raise WebDriverError(f"{detail.get('error', r.status_code)}: {detail.get('message', '')[:300]}")
        return value

    def open_session(self, extra_args: Sequence[str]) -> None:
        args = [*ARGS, f"--user-data-dir={self._profile}", *extra_args]
        caps = {"browserName": "chrome", "goog:chromeOptions": {"binary": str(CHROMIUM), "args": args}}
        value = self._call("POST", "/session", {"capabilities": {"alwaysMatch": caps}})
        self.session_id = value["sessionId"]

    def get(self, url: str) -> None:
        self._call("POST", "/url", {"url": url})

    @property
    def url(self) -> str:
        return str(self._call("GET", "/url"))

    def run(self, script: str, *args: Any) -> Any:
        """Run ``script`` as a function body in the page (``return`` gives its value)."""
        return self._call("POST", "/execute/sync", {"script": script, "args": list(args)})

    def run_async(self, script: str, *args: Any) -> Any:
        """Run ``script``; it ends by calling ``arguments[arguments.length - 1](value)``."""
        return self._call("POST", "/execute/async", {"script": script, "args": list(args)})

    def wait_for(self, script: str, timeout: float = 15.0, *args: Any) -> Any:
        """Poll ``script`` until it returns something truthy; the last value on timeout is an error."""
        deadline = time.monotonic() + timeout
        value: Any = None
        while time.monotonic() < deadline:
            value = self.run(script, *args)
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {script!r}; last value {value!r}")

    def cookies(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/cookie"))

    def delete_cookies(self) -> None:
        self._call("DELETE", "/cookie")

    def set_size(self, width: int, height: int) -> None:
        self._call("POST", "/window/rect", {"width": width, "height": height})

    def cdp(self, cmd: str, params: dict[str, Any]) -> Any:
        """A DevTools protocol command through chromedriver's bridge (current tab)."""
        return self._call("POST", "/goog/cdp/execute", {"cmd": cmd, "params": params})

    def color_scheme(self, scheme: str) -> None:
        """Emulate ``prefers-color-scheme`` (``light`` or ``dark``) for the current tab."""
        self.cdp(
            "Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": scheme}]}
        )

    def viewport(self, width: int, height: int) -> None:
        """The page's viewport exactly (the window's frame left out), for screenshots."""
        metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}
        self.cdp("Emulation.setDeviceMetricsOverride", metrics)

    def screenshot(self, path: Path) -> Path:
        path.write_bytes(base64.b64decode(self._call("GET", "/screenshot")))
        return path

    def quit(self) -> None:
        try:
            if self.session_id:
                self._call("DELETE", "")
        except (httpx.HTTPError, WebDriverError):
            pass
        finally:
            self.session_id = ""
            self._http.close()
            self._driver.terminate()
            try:
                self._driver.wait(10)
            except subprocess.TimeoutExpired:
                self._driver.kill()
                self._driver.wait(5)
            shutil.rmtree(self._profile, ignore_errors=True)


def start_browser(extra_args: Sequence[str] = ()) -> Browser:
    """Start chromedriver and a headless Chromium session (fresh profile, no background traffic)."""
    require_chromium()
    port = free_port()
    profile = Path(tempfile.mkdtemp(prefix="cw-chromium-"))
    driver = subprocess.Popen(
        [str(CHROMEDRIVER), f"--port={port}", "--allowed-ips=127.0.0.1", "--log-level=SEVERE"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    browser = Browser(driver, f"http://127.0.0.1:{port}", profile)
    deadline = time.monotonic() + 20
    while True:
        try:
            if browser._call("GET", "/status").get("ready"):
                break
        except (httpx.HTTPError, ValueError):
            pass
        if driver.poll() is not None or time.monotonic() > deadline:
            browser.quit()
            raise RuntimeError(f"chromedriver did not start (exit {driver.poll()})")
        time.sleep(0.05)
    try:
        browser.open_session(extra_args)
    except BaseException:
        browser.quit()
        raise
    return browser
