"""The app's one loopback server (``services/local_host``): hook route and API on one port,
following ``hooks.receiver`` and ``api.enabled``, the event stream fed by the services' signals."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
from PySide6.QtCore import QObject, Signal

from tests.helpers.states import account_state, window_state
from trayapp import settings as st
from trayapp.services.hook_receiver import HOOK_PATH
from trayapp.services.local_host import LocalHost, app_sources
from trayapp.services.sessions_service import SessionsService
from trayapp.store import api_token, local_endpoint


class FakeUsage(QObject):
    """What the host reads of the usage service: ``state`` and ``state_changed``."""

    state_changed = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.state = account_state(window_state("five_hour", 10.0))

    async def history_async(self, ids: list[str], since: object) -> list[object]:
        return []


async def wait_until(predicate, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def test_one_port_for_hooks_and_api_following_the_settings(hermetic_env: Path) -> None:
    settings = st.load()
    usage = FakeUsage()
    sessions = SessionsService(settings.get, None, config_dirs=[hermetic_env])
    host = LocalHost(settings, app_sources(settings, usage, sessions))  # type: ignore[arg-type]
    host.follow(usage, sessions)  # type: ignore[arg-type]
    port = await host.start()
    try:
        assert port == local_endpoint.load().port  # type: ignore[union-attr]
        base = f"http://127.0.0.1:{port}"
        auth = {"Authorization": f"Bearer {api_token.load_token()}"}
        async with httpx.AsyncClient(base_url=base, timeout=5) as c:
            assert (await c.get("/v1/status", headers=auth)).json()["windows"][0]["utilization"] == 10.0
            assert (await c.post(HOOK_PATH, content=b"{}")).status_code == 401  # the hook route is there
            # A change the usage service emits reaches an event-stream client.
            async with c.stream("GET", "/v1/events", headers=auth) as r:
                lines = r.aiter_lines()
                seen: list[float] = []
                events: list[str] = []
                async for line in lines:
                    if line.startswith("event: "):
                        events.append(line[7:])
                    if line.startswith("data: ") and events[-1] == "status":
                        seen.append(json.loads(line[6:])["windows"][0]["utilization"])
                        if seen == [10.0]:
                            usage.state = account_state(window_state("five_hour", 64.0))
                            usage.state_changed.emit(usage.state)
                        if 64.0 in seen:
                            break
                assert events[:2] == ["status", "sessions"]  # both once on connect
                assert (await c.get("/v1/sessions", headers=auth)).json()["sessions"] == []
            settings.update({"api.enabled": False})
            await wait_until(lambda: host.api is None and host.server is not None)
            assert host.port == port
            assert (await c.get("/v1/status", headers=auth)).status_code == 404
            assert (await c.post(HOOK_PATH, content=b"{}")).status_code == 401
            assert (await c.post("/v1/logs", content=b"{}")).status_code == 401  # telemetry too
            settings.update({"hooks.receiver": False})
            await wait_until(lambda: host._serving == (False, False, True))
            assert (await c.post(HOOK_PATH, content=b"{}")).status_code == 404
            assert (await c.post("/v1/metrics", content=b"{}")).status_code == 401
            settings.update({"telemetry.receiver": False})
            await wait_until(lambda: host.server is None)
            settings.update({"api.enabled": True})
            await wait_until(lambda: host.api is not None)
            assert host.port == port
            assert (await c.get("/v1/status", headers=auth)).status_code == 200
            assert (await c.post(HOOK_PATH, content=b"{}")).status_code == 404
            assert (await c.post("/v1/logs", content=b"{}")).status_code == 404
    finally:
        await host.stop()
    assert host.server is None
