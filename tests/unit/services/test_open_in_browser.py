"""The tray's "Open in browser": the sessions hub opens a one-time login link to the web dashboard
on the app's real loopback server (issue 17). The URL handed to the desktop is caught with
``QDesktopServices.setUrlHandler`` and followed with a real HTTP client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from PySide6.QtCore import QObject, QUrl, Slot
from PySide6.QtGui import QDesktopServices

from tests.helpers.fake_keyring import MemoryKeyring
from tests.helpers.states import NOW
from trayapp import paths, runtime
from trayapp import settings as st
from trayapp.channels.dispatcher import Dispatcher
from trayapp.channels.quips import QuipWriter
from trayapp.core.clock import FakeClock
from trayapp.platform.secrets import SecretStore
from trayapp.services.alerts import AlertService
from trayapp.services.session_hub import SessionsHub
from trayapp.ui.tray import Tray

pytestmark = pytest.mark.qt_loop  # the sessions service watches files inside the asyncio loop


class UrlCatcher(QObject):
    """Stands in for the desktop's browser: records what ``QDesktopServices.openUrl`` was given."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.urls.append(url.toString())


@dataclass
class Running:
    hub: SessionsHub
    tray: Tray
    urls: list[str]
    messages: list[str]


async def start_hub(api_enabled: bool) -> AsyncIterator[Running]:
    cfg = st.load()
    cfg.set("api.enabled", api_enabled)
    cfg.set("hooks.receiver", True)
    clock = FakeClock(NOW)
    dispatcher = Dispatcher([], QuipWriter(cfg.get, SecretStore(backend=MemoryKeyring())), cfg.get)
    alerts = AlertService(cfg.get, dispatcher, clock)
    tray = Tray(clock)
    messages: list[str] = []
    tray.show_message = lambda title, body, critical=False: messages.append(f"{title}: {body}")
    hub = SessionsHub(cfg, dispatcher, alerts, clock, tray)
    stop = await hub.start(None)
    catcher = UrlCatcher()
    QDesktopServices.setUrlHandler("http", catcher, "open")
    try:
        yield Running(hub, tray, catcher.urls, messages)
    finally:
        QDesktopServices.unsetUrlHandler("http")
        await stop()


def trigger_open_in_browser(tray: Tray) -> None:
    [action] = [a for a in tray.menu.actions() if a.objectName() == "open-in-browser"]
    action.trigger()


@pytest.fixture
async def running_api() -> AsyncIterator[Running]:
    async for running in start_hub(api_enabled=True):
        yield running


@pytest.fixture
async def running_without_api() -> AsyncIterator[Running]:
    async for running in start_hub(api_enabled=False):
        yield running


async def test_open_in_browser_opens_a_one_time_login_link(running_api: Running) -> None:
    trigger_open_in_browser(running_api.tray)
    [url] = running_api.urls
    port = running_api.hub.host.port if running_api.hub.host else None
    assert url.startswith(f"http://127.0.0.1:{port}/login?code=")
    token_file_text = paths.state_dir().joinpath("api-token").read_text(encoding="utf-8").strip()
    assert token_file_text not in url  # the API token never goes to the browser

    def follow() -> tuple[httpx.Response, httpx.Response, httpx.Response]:
        with httpx.Client(timeout=10, follow_redirects=True) as client:
            login = client.get(url)  # 303 to / with the session cookie, then the page
            again = httpx.get(url, timeout=10)
            return login, login.history[0] if login.history else login, again

    page, redirect, again = await runtime.run_blocking(follow)
    assert redirect.status_code == 303
    assert "HttpOnly" in redirect.headers["set-cookie"]
    assert page.status_code == 200
    assert 'new EventSource("/v1/events")' in page.text  # the dashboard itself, not the sign-in page
    assert again.status_code == 403  # used once


async def test_open_in_browser_says_so_when_the_api_is_off(running_without_api: Running) -> None:
    trigger_open_in_browser(running_without_api.tray)
    assert running_without_api.urls == []
    assert running_without_api.messages == [
        "The web dashboard is off: Turn on the local API to open it: claude-watch config set api.enabled true"
    ]
