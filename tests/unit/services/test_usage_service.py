"""UsageService on the qasync loop: signals, throttled manual refresh, history off the GUI thread."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest

from trayapp.core.clock import FakeClock
from trayapp.core.models import AccountState, ErrorKind, FetchError
from trayapp.demo import DemoHandle
from trayapp.services.usage_engine import UsageEngine
from trayapp.services.usage_service import UsageService
from trayapp.sources.credentials import load_credentials
from trayapp.sources.usage_api import UsageClient
from trayapp.store.usage_repo import UsageRepo


def make_service(server: DemoHandle, claude_dir: Path, db: Path, clock: FakeClock) -> UsageService:
    engine = UsageEngine(
        UsageRepo.open(db),
        clock=clock,
        client=UsageClient(server.base_url),
        credentials_loader=partial(load_credentials, config_dirs=[claude_dir], home=claude_dir),
        probe_version=False,
    )
    return UsageService(engine)


def frozen_now() -> FakeClock:
    """A clock that stands still unless a test moves it (the login written by the fixture is valid)."""
    return FakeClock(datetime.now(UTC).replace(microsecond=0))


async def wait_for(predicate, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


@pytest.mark.qt_loop
async def test_start_emits_states_and_manual_refresh_is_throttled(
    usage_server: DemoHandle, claude_dir: Path, tmp_path: Path
) -> None:
    clock = frozen_now()
    service = make_service(usage_server, claude_dir, tmp_path / "db.sqlite3", clock)
    states: list[AccountState] = []
    service.state_changed.connect(states.append)
    service.start()
    assert states
    assert states[0].snapshot is None
    await wait_for(lambda: any(s.snapshot is not None for s in states))
    assert service.state.snapshot is not None
    assert service.state.error is None
    assert len(usage_server.simulator.requests) == 1
    # The next scheduled poll is an interval away; a manual refresh right now is throttled.
    assert service.next_poll_at() == clock.now() + timedelta(minutes=5)
    state = await service.refresh_now()
    assert len(usage_server.simulator.requests) == 1
    assert state.snapshot is not None
    clock.advance(29)  # still inside the 30 s throttle
    await service.refresh_now()
    assert len(usage_server.simulator.requests) == 1
    clock.advance(2)
    await service.refresh_now()
    assert len(usage_server.simulator.requests) == 2
    rows = await service.history_async(["five_hour"], clock.now() - timedelta(hours=1))
    assert [(r[0], r[1]) for r in rows] == [
        (clock.now() - timedelta(seconds=31), "five_hour"),
        (clock.now(), "five_hour"),
    ]
    assert service.history(["five_hour"], clock.now() - timedelta(hours=1)) == rows
    await service.stop()
    await service.stop()


async def test_poll_failed_signal(usage_server: DemoHandle, claude_dir: Path, tmp_path: Path) -> None:
    clock = frozen_now()
    service = make_service(usage_server, claude_dir, tmp_path / "db.sqlite3", clock)
    failures: list[FetchError] = []
    service.poll_failed.connect(failures.append)
    usage_server.simulator.script.append((429, {"error": "rate"}, {"Retry-After": "600"}))
    service.start()
    await wait_for(lambda: bool(failures))
    assert failures[0].kind is ErrorKind.RATE_LIMITED
    assert failures[0].retry_at == clock.now() + timedelta(seconds=600)
    assert service.next_poll_at() == failures[0].retry_at
    await service.stop()


async def test_builds_the_standard_engine_from_settings(usage_server: DemoHandle) -> None:
    from trayapp import settings as st

    cfg = st.load()
    cfg.set("poll.interval_minutes", 7)
    real = UsageService.from_settings(cfg)
    assert real.engine.interval == timedelta(minutes=7)
    await real.stop()
    service = UsageService.from_settings(cfg, demo=usage_server)
    assert service.engine.interval == timedelta(seconds=20)  # the demo runs on accelerated time
    assert service.engine.client.base_url == usage_server.base_url
    service.start()
    await wait_for(lambda: service.state.snapshot is not None)
    assert str(service.state.snapshot.source) == "demo"
    await service.stop()
