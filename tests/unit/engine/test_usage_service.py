"""UsageService on the qasync loop: signals, throttled manual refresh, history off the GUI thread."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest

from trayapp.core.models import AccountState, ErrorKind, FetchError
from trayapp.demo import DemoHandle
from trayapp.services.usage_engine import UsageEngine
from trayapp.services.usage_service import UsageService
from trayapp.sources.credentials import load_credentials
from trayapp.sources.usage_api import UsageClient
from trayapp.store.usage_repo import UsageRepo


def make_service(server: DemoHandle, claude_dir: Path, db: Path) -> UsageService:
    engine = UsageEngine(
        UsageRepo.open(db),
        client=UsageClient(server.base_url),
        credentials_loader=partial(load_credentials, config_dirs=[claude_dir], home=claude_dir),
        probe_version=False,
    )
    return UsageService(engine)


async def wait_for(predicate, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


@pytest.mark.qt_loop
async def test_start_emits_states_and_manual_refresh_is_throttled(
    usage_server: DemoHandle, claude_dir: Path, tmp_path: Path
) -> None:
    service = make_service(usage_server, claude_dir, tmp_path / "db.sqlite3")
    states: list[AccountState] = []
    service.state_changed.connect(states.append)
    service.start()
    assert states and states[0].snapshot is None  # the stored state, at once
    await wait_for(lambda: any(s.snapshot is not None for s in states))
    assert service.state.snapshot is not None and service.state.error is None
    assert len(usage_server.simulator.requests) == 1
    # The next scheduled poll is an interval away; a manual refresh right now is throttled.
    due = service.next_poll_at()
    assert due is not None and due - datetime.now(UTC) > timedelta(minutes=4)
    state = await service.refresh_now()
    assert len(usage_server.simulator.requests) == 1 and state.snapshot is not None
    service.engine.policy.last_attempt = datetime.now(UTC) - timedelta(seconds=31)
    await service.refresh_now()
    assert len(usage_server.simulator.requests) == 2
    rows = await service.history_async(["five_hour"], datetime.now(UTC) - timedelta(hours=1))
    assert len(rows) == 2 and rows[0][1] == "five_hour"
    assert service.history(["five_hour"], datetime.now(UTC) - timedelta(hours=1)) == rows
    await service.stop()
    await service.stop()


async def test_poll_failed_signal(usage_server: DemoHandle, claude_dir: Path, tmp_path: Path) -> None:
    service = make_service(usage_server, claude_dir, tmp_path / "db.sqlite3")
    failures: list[FetchError] = []
    service.poll_failed.connect(failures.append)
    usage_server.simulator.script.append((429, {"error": "rate"}, {"Retry-After": "600"}))
    service.start()
    await wait_for(lambda: bool(failures))
    assert failures[0].kind is ErrorKind.RATE_LIMITED
    assert service.next_poll_at() == failures[0].retry_at
    await service.stop()


async def test_builds_the_standard_engine_from_settings(usage_server: DemoHandle) -> None:
    from trayapp import settings as st

    cfg = st.load()
    cfg.set("poll.interval_minutes", 7)
    real = UsageService(cfg)
    assert real.engine.interval == timedelta(minutes=7)
    await real.stop()
    service = UsageService(cfg, demo=usage_server)
    assert service.engine.interval == timedelta(seconds=20)  # the demo runs on accelerated time
    assert service.engine.client.base_url == usage_server.base_url
    service.start()
    await wait_for(lambda: service.state.snapshot is not None)
    assert str(service.state.snapshot.source) == "demo"  # type: ignore[union-attr]
    await service.stop()
