"""The engine end to end in-process: real store, real loopback server, FakeClock."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest

from tests.helpers.fixtures_usage import write_credentials
from trayapp.core.clock import FakeClock
from trayapp.core.models import ErrorKind, Source, UsageSnapshot, Window, WindowKind
from trayapp.core.poll_policy import Wait
from trayapp.demo import DemoHandle
from trayapp.services.usage_engine import UsageEngine
from trayapp.sources.credentials import load_credentials
from trayapp.sources.usage_api import UsageClient
from trayapp.store.usage_repo import UsageRepo


def make_engine(
    server: DemoHandle, claude_dir: Path, db: Path, clock: FakeClock, **kw: object
) -> UsageEngine:
    return UsageEngine(
        UsageRepo.open(db),
        clock=clock,
        client=UsageClient(server.base_url),
        credentials_loader=partial(load_credentials, config_dirs=[claude_dir], home=claude_dir),
        rng=random.Random(5),
        probe_version=False,
        **kw,
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime.now(UTC).replace(microsecond=0))


async def test_poll_success_then_429_keeps_last_snapshot(
    usage_server: DemoHandle, claude_dir: Path, tmp_path: Path, clock: FakeClock
) -> None:
    db = tmp_path / "db.sqlite3"
    engine = make_engine(usage_server, claude_dir, db, clock)
    state = await engine.poll()
    assert state.error is None
    assert not state.stale
    assert state.snapshot is not None
    assert state.account is not None
    assert state.account.plan == "Max 5x"
    first = state.snapshot
    assert engine.next_poll_at() == clock.now() + timedelta(minutes=5)
    # Not due yet: no request goes out.
    n = len(usage_server.simulator.requests)
    clock.advance(60)
    await engine.poll()
    assert len(usage_server.simulator.requests) == n
    clock.advance(240)
    usage_server.simulator.script.append((429, {"error": "rate"}, {"Retry-After": "1200"}))
    state = await engine.poll()
    assert state.snapshot == first
    assert state.stale
    assert state.error is not None
    assert state.error.kind is ErrorKind.RATE_LIMITED
    assert state.error.retry_at == clock.now() + timedelta(seconds=1200)
    assert engine.next_poll_at() == state.error.retry_at
    await engine.aclose()
    engine.repo.close()

    # A restart remembers the snapshot and the cooldown; a manual refresh does not bypass it.
    clock.advance(120)
    again = make_engine(usage_server, claude_dir, db, clock)
    assert again.state.snapshot == first
    assert again.state.stale
    n = len(usage_server.simulator.requests)
    state = await again.poll(manual=True)
    assert len(usage_server.simulator.requests) == n
    assert again.last_decision is not None
    assert again.last_decision.reason is Wait.COOLDOWN
    assert state.error is not None
    assert state.error.retry_at == first.fetched_at + timedelta(seconds=1500)
    clock.advance(1200)
    state = await again.poll()
    assert state.error is None
    assert not state.stale
    assert len(usage_server.simulator.requests) == n + 1
    await again.aclose()


async def test_auth_error_stops_until_credentials_change(
    usage_server: DemoHandle, claude_dir: Path, tmp_path: Path, clock: FakeClock
) -> None:
    engine = make_engine(usage_server, claude_dir, tmp_path / "db.sqlite3", clock)
    usage_server.simulator.script.append((401, {"type": "error"}, {}))
    state = await engine.poll()
    assert state.error is not None
    assert state.error.kind is ErrorKind.AUTH
    assert state.snapshot is None
    n = len(usage_server.simulator.requests)
    for _ in range(3):
        clock.advance(3600)
        await engine.poll()
    assert len(usage_server.simulator.requests) == n
    assert engine.next_poll_at() is None
    write_credentials(claude_dir, token="sk-ant-oat01-NEW-LOGIN", expires_at=clock.now() + timedelta(hours=8))
    state = await engine.poll()
    assert len(usage_server.simulator.requests) == n + 1
    assert state.error is None
    await engine.aclose()


async def test_missing_and_expired_credentials_never_call_the_api(
    usage_server: DemoHandle, claude_dir: Path, tmp_path: Path, clock: FakeClock
) -> None:
    (claude_dir / ".credentials.json").unlink()
    engine = make_engine(usage_server, claude_dir, tmp_path / "db.sqlite3", clock)
    state = await engine.poll()
    assert state.error is not None
    assert state.error.kind is ErrorKind.NO_CREDENTIALS
    write_credentials(claude_dir, expires_at=clock.now() - timedelta(minutes=5))
    state = await engine.poll()
    assert state.error is not None
    assert state.error.kind is ErrorKind.AUTH
    assert "Open Claude Code once" in state.error.message
    assert usage_server.simulator.requests == []
    outcomes = engine.repo.conn.execute("SELECT COUNT(*) FROM poll_outcomes").fetchone()[0]
    assert outcomes == 2
    await engine.aclose()


async def test_backoff_on_server_errors(
    usage_server: DemoHandle, claude_dir: Path, tmp_path: Path, clock: FakeClock
) -> None:
    engine = make_engine(usage_server, claude_dir, tmp_path / "db.sqlite3", clock)
    usage_server.simulator.script.extend([(500, {}, {}), (502, {}, {})])
    state = await engine.poll()
    assert state.error is not None
    assert state.error.kind is ErrorKind.SERVER
    first_wait = engine.next_poll_at() - clock.now()
    clock.advance(first_wait.total_seconds())
    await engine.poll()
    second_wait = engine.next_poll_at() - clock.now()
    assert timedelta(seconds=30) <= first_wait <= timedelta(minutes=1) < second_wait <= timedelta(minutes=2)
    clock.advance(second_wait.total_seconds())
    state = await engine.poll()
    assert state.error is None
    await engine.aclose()


async def test_burn_rate_from_stored_samples(
    usage_server: DemoHandle, claude_dir: Path, tmp_path: Path, clock: FakeClock
) -> None:
    engine = make_engine(usage_server, claude_dir, tmp_path / "db.sqlite3", clock)
    resets = (clock.now() + timedelta(hours=3)).isoformat()
    for util in (10, 15, 20):
        body = {"five_hour": {"utilization": util, "resets_at": resets}}
        usage_server.simulator.script.append((200, body, {}))
        state = await engine.poll()
        clock.advance(30 * 60)
    five = state.windows[0]
    assert five.burn_rate_per_hour == pytest.approx(10.0)
    await engine.aclose()


def _local(at: datetime) -> UsageSnapshot:
    return UsageSnapshot(
        at,
        Source.STATUSLINE,
        (Window("five_hour", "5-hour", WindowKind.FIVE_HOUR, 55.0, at + timedelta(hours=1)),),
        client_version="2.1.230",
    )


async def test_fresh_local_source_replaces_the_api_between_complete_polls(
    usage_server: DemoHandle, claude_dir: Path, tmp_path: Path, clock: FakeClock
) -> None:
    engine = make_engine(
        usage_server, claude_dir, tmp_path / "db.sqlite3", clock, local_sources=[lambda now: _local(now)]
    )
    state = await engine.poll()  # first time: the complete poll runs (extra usage, scoped limits)
    assert len(usage_server.simulator.requests) == 1
    assert state.snapshot is not None
    assert state.snapshot.source is Source.STATUSLINE
    ids = [w.window.id for w in state.windows]
    assert ids[0] == "five_hour"
    assert "weekly_scoped:Fable 5" in ids
    assert "seven_day" in ids
    assert state.windows[0].window.utilization == 55.0  # local wins
    assert state.snapshot.extra_usage is not None
    for _ in range(3):  # the next three intervals: local data only
        clock.advance(300)
        await engine.poll()
    assert len(usage_server.simulator.requests) == 1
    clock.advance(300)
    await engine.poll()  # 4 intervals after the last API reading: complete poll
    assert len(usage_server.simulator.requests) == 2
    await engine.aclose()


async def test_stale_local_source_is_ignored(
    usage_server: DemoHandle, claude_dir: Path, tmp_path: Path, clock: FakeClock
) -> None:
    def broken(now: datetime) -> UsageSnapshot:
        raise RuntimeError("reader bug")

    engine = make_engine(
        usage_server,
        claude_dir,
        tmp_path / "db.sqlite3",
        clock,
        local_sources=[lambda now: _local(now - timedelta(minutes=20)), broken],
    )
    state = await engine.poll()
    assert state.snapshot is not None
    assert state.snapshot.source is Source.API
    await engine.aclose()


async def test_the_token_never_reaches_logs_or_the_database(
    usage_server: DemoHandle,
    claude_dir: Path,
    tmp_path: Path,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    import logging

    from tests.helpers.fixtures_usage import TOKEN

    caplog.set_level(logging.DEBUG)
    db = tmp_path / "db.sqlite3"
    engine = make_engine(usage_server, claude_dir, db, clock)
    usage_server.simulator.script.extend([(401, {}, {}), (429, {}, {"Retry-After": "60"})])
    await engine.poll()
    write_credentials(claude_dir, token=TOKEN + "2", expires_at=clock.now() + timedelta(hours=8))
    await engine.poll()
    await engine.aclose()
    engine.repo.close()
    assert caplog.records  # httpx and friends did log
    assert TOKEN not in caplog.text
    for f in tmp_path.glob("db.sqlite3*"):
        assert TOKEN.encode() not in f.read_bytes()


async def test_endpoint_off_never_calls_it(
    usage_server: DemoHandle, claude_dir: Path, tmp_path: Path, clock: FakeClock
) -> None:
    """Issue 20: a mode that never polls the usage endpoint (status line only)."""
    from trayapp.services.usage_engine import ENDPOINT_OFF_NOTICE

    captures: list[UsageSnapshot | None] = [None]
    engine = make_engine(
        usage_server, claude_dir, tmp_path / "db.sqlite3", clock, local_sources=[lambda now: captures[0]]
    )
    engine.use_endpoint = False
    state = await engine.poll(manual=True)  # not even a manual refresh asks it
    assert usage_server.simulator.requests == []
    assert state.snapshot is None
    assert state.error is None
    assert ENDPOINT_OFF_NOTICE in state.notices
    clock.advance(300)
    captures[0] = _local(clock.now())  # a Claude Code session's status line ran
    state = await engine.poll()
    assert usage_server.simulator.requests == []
    assert state.snapshot is not None
    assert state.windows[0].window.utilization == 55.0
    engine.use_endpoint = True  # switched back on: the endpoint is asked again
    clock.advance(3000)
    await engine.poll()
    assert len(usage_server.simulator.requests) == 1
    await engine.aclose()
