"""What Claude Code's telemetry feeds, end to end: the OpenTelemetry JS SDK's exporters post to the
app's real loopback server, and the request shows up in the sessions panel (cost, tokens, the
"local estimate" label), in the local-usage panel's "today" (saying its source) and in
``/v1/sessions``."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from PySide6.QtCore import QObject, Signal

from tests.integration.test_telemetry_exporters import emit
from trayapp import settings as st
from trayapp.core.aggregate import Tally
from trayapp.core.clock import FakeClock
from trayapp.core.sessions import Session, SessionState
from trayapp.core.telemetry import LABEL
from trayapp.services.local_host import LocalHost, app_sources
from trayapp.services.sessions_service import SessionsService
from trayapp.store import api_token
from trayapp.ui.panels import local_usage, sessions

NOW = datetime.now(UTC)


class FakeSessions(QObject):
    """What the panel reads of the sessions service."""

    sessions_changed = Signal(list)

    def __init__(self, listed: list[Session]) -> None:
        super().__init__()
        self.sessions = listed


class FakeTracking(QObject):
    """What the local-usage panel reads of the tracking service: a scan that saw 5 tokens today."""

    summary_changed = Signal(object)
    scan_progressed = Signal(int, int)
    scan_failed = Signal(str)
    export_finished = Signal(str, int)

    def __init__(self) -> None:
        super().__init__()
        tally = Tally()
        self.summary: Any = type("Summary", (), {"tally": tally, "block": None, "top_sessions": [],
                                                 "top_projects": [], "now_ms": 0})()  # fmt: skip


async def wait_until(predicate: Any, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def test_a_request_shows_up_in_the_panels_and_the_api(qtbot: Any, hermetic_env: Path) -> None:
    settings = st.load()
    service = SessionsService(settings.get, None, config_dirs=[hermetic_env])
    host = LocalHost(settings, app_sources(settings, None, service))
    host.follow(None, service)
    await host.start()
    listed = [Session("s-one", SessionState.WORKING, "proj", model="Opus", state_since=NOW, cost_usd=0.01)]
    panel = sessions.make_panel(FakeSessions(listed), FakeClock(NOW), telemetry=host.telemetry)
    usage = local_usage.make_panel(FakeTracking(), UTC, telemetry=host.telemetry)
    qtbot.addWidget(panel)
    qtbot.addWidget(usage)
    try:
        assert panel.figures_for("s-one") is None
        assert not panel.caption.isVisibleTo(panel)
        assert host.port
        sent = await emit(host.port, protocol="proto", sessions=["s-one"], requests=2, rounds=1)
        await wait_until(lambda: panel.figures_for("s-one") is not None)
        figures = panel.figures_for("s-one")
        assert figures is not None
        assert figures.tokens == sent["perSession"]["s-one"]["tokens"]
        assert figures.requests == 2
        row = panel.row_for("s-one")
        assert row is not None
        assert f"${figures.cost_usd:.2f}" in row.detail.text()
        assert "tokens" in row.detail.text()
        assert LABEL in row.detail.toolTip()
        assert panel.caption.isVisibleTo(panel)
        assert LABEL in panel.caption.text()
        await wait_until(lambda: "Claude Code telemetry" in usage.today.text())
        assert LABEL in usage.today.toolTip()
        auth = {"Authorization": f"Bearer {api_token.load_or_create_token()}"}
        settings.update({"api.enabled": True})
        await wait_until(lambda: host.api is not None)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{host.port}", timeout=5) as client:
            doc = (await client.get("/v1/sessions", headers=auth)).json()
        assert doc["telemetry"]["label"] == LABEL
        assert doc["telemetry"]["today_tokens"] == figures.tokens
    finally:
        await host.stop()
