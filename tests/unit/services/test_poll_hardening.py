"""Issue 19: one bad answer must never make the poller hammer the endpoint, spin, or die.

The invariant: whatever happens during a poll (any exception at any step, any response), the
next attempt waits at least one backoff step, so there is never more than one request per step.
Every test drives the real engine against the loopback usage server (the demo simulator speaking
the endpoint's wire format) on a fake clock, and counts the requests that arrive.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers.fixtures_usage import write_credentials
from trayapp.core.clock import FakeClock
from trayapp.core.models import ErrorKind
from trayapp.core.poll_policy import BACKOFF_BASE
from trayapp.demo import DemoHandle
from trayapp.services import usage_engine as engine_module
from trayapp.services.usage_engine import UsageEngine
from trayapp.services.usage_service import UsageService
from trayapp.sources import usage_api
from trayapp.sources.credentials import load_credentials
from trayapp.sources.usage_api import DEFAULT_RETRY_AFTER, UsageClient, parse_retry_after
from trayapp.store.usage_repo import UsageRepo

# The shortest step the policy can pick: the first backoff with the most jitter off.
MIN_STEP = BACKOFF_BASE * 0.5
START = datetime(2026, 8, 10, 12, 0, tzinfo=UTC)


def make_engine(server: DemoHandle, claude_dir: Path, db: Path, clock: FakeClock, **kw: Any) -> UsageEngine:
    kw.setdefault("credentials_loader", partial(load_credentials, config_dirs=[claude_dir], home=claude_dir))
    return UsageEngine(
        UsageRepo.open(db),
        clock=clock,
        client=UsageClient(server.base_url),
        probe_version=False,
        **kw,
    )


async def request_times(
    engine: UsageEngine, server: DemoHandle, clock: FakeClock, *, minutes: int = 10, step_s: float = 5.0
) -> list[datetime]:
    """Poll as often as a runaway loop would (every ``step_s`` of fake time).

    Returns when requests were attempted: one that reached the server, or one the engine started
    (``policy.last_attempt`` moved) that failed before it left the process.
    """
    times: list[datetime] = []
    for _ in range(int(minutes * 60 / step_s)):
        before = len(server.simulator.requests)
        attempt_before = engine.policy.last_attempt
        state = await engine.poll()
        assert state is not None
        arrived = len(server.simulator.requests) - before
        assert arrived <= 1, "more than one request in one poll"
        if arrived or engine.policy.last_attempt != attempt_before:
            times.append(clock.now())
        clock.advance(step_s)
    return times


def assert_polite(times: list[datetime], step: timedelta = MIN_STEP) -> None:
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert all(gap >= step for gap in gaps), f"requests closer than a backoff step: {gaps}"


# --- the exact inputs -----------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["\xb2", "\u0663", "\uff11\uff12", "１", "²³", "\u00b9" * 20])
def test_retry_after_with_unicode_digits_waits_the_default(value: str) -> None:
    # "²".isdigit() is True but int("²") raises: it must be garbage, i.e. the 5-minute default.
    assert parse_retry_after(value, START) == START + DEFAULT_RETRY_AFTER


@pytest.mark.parametrize(
    "value",
    [
        *("", "0", "-5", "abc", "\x00", "9" * 400, "1e9", " 12 ", "12.5", "Thu, 32 Foo 2026"),
        *("Wed, 31 Dec 9999 23:59:59 GMT", "Mon, 01 Jan 0001 00:00:00 GMT"),
        "Tue, 15 Nov 1994 08:12:31 GMT junk",
    ],
)
def test_retry_after_is_total_and_always_in_the_future(value: str) -> None:
    when = parse_retry_after(value, START)
    assert START < when <= START + timedelta(days=1)


async def test_unicode_digit_retry_after_gives_one_request_per_cooldown(
    usage_server: DemoHandle, claude_dir: Path, tmp_path: Path
) -> None:
    clock = FakeClock(START)
    usage_server.simulator.script.append((429, {"error": "rate"}, {"Retry-After": "\xb2"}))
    engine = make_engine(usage_server, claude_dir, tmp_path / "db.sqlite3", clock)
    times = await request_times(engine, usage_server, clock, minutes=4)
    # One request, then the 5-minute cooldown: nothing else inside these 4 minutes.
    assert len(times) == 1
    assert engine.state.error is not None
    assert engine.state.error.kind is ErrorKind.RATE_LIMITED
    await engine.aclose()


async def test_non_ascii_token_is_an_auth_problem_not_a_spin(
    usage_server: DemoHandle, claude_dir: Path, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    write_credentials(
        claude_dir,
        token="sk-ant-oat01-tök€n-with-non-ascii-0123456789abcdef",
        expires_at=now + timedelta(hours=8),
        login_expires_at=now + timedelta(days=20),
    )
    clock = FakeClock(datetime.now(UTC))
    engine = make_engine(usage_server, claude_dir, tmp_path / "db.sqlite3", clock)
    state = await engine.poll()
    assert state.error is not None
    assert state.error.kind is ErrorKind.AUTH
    assert "plain text" in state.error.message
    assert engine.next_poll_at() is None  # waits for the credentials to change
    assert usage_server.simulator.requests == []
    await engine.aclose()


# --- the pattern: a fault injected at every step of a poll --------------------------------------


class Boom(RuntimeError):
    pass


def fail(*_: Any, **__: Any) -> Any:
    raise Boom("injected fault")


async def _afail(*_: Any, **__: Any) -> Any:
    raise Boom("injected fault")


def inject_credentials(engine: UsageEngine, mp: pytest.MonkeyPatch) -> None:
    mp.setattr(engine, "_load_credentials", fail)


def inject_request_build(engine: UsageEngine, mp: pytest.MonkeyPatch) -> None:
    mp.setattr(UsageClient, "headers", lambda self, token: "é".encode("ascii"))


def inject_send(engine: UsageEngine, mp: pytest.MonkeyPatch) -> None:
    mp.setattr(httpx.AsyncClient, "stream", fail)


def inject_parse(engine: UsageEngine, mp: pytest.MonkeyPatch) -> None:
    mp.setattr(usage_api, "parse_usage", fail)


def inject_derive(engine: UsageEngine, mp: pytest.MonkeyPatch) -> None:
    mp.setattr(engine_module, "derive_state", fail)


def inject_store_snapshot(engine: UsageEngine, mp: pytest.MonkeyPatch) -> None:
    def locked(*_: Any) -> Any:
        raise sqlite3.OperationalError("database is locked")

    mp.setattr(engine.repo, "save_snapshot", locked)


def inject_store_outcome(engine: UsageEngine, mp: pytest.MonkeyPatch) -> None:
    def full(*_: Any, **__: Any) -> Any:
        raise sqlite3.OperationalError("database or disk is full")

    mp.setattr(engine.repo, "record_outcome", full)


def inject_version_probe(engine: UsageEngine, mp: pytest.MonkeyPatch) -> None:
    mp.setattr(engine, "_ensure_version", _afail)


STEPS: dict[str, Callable[[UsageEngine, pytest.MonkeyPatch], None]] = {
    "credentials read": inject_credentials,
    "version probe": inject_version_probe,
    "request build": inject_request_build,
    "send": inject_send,
    "parse": inject_parse,
    "derive": inject_derive,
    "store snapshot": inject_store_snapshot,
    "store outcome": inject_store_outcome,
}


@pytest.mark.parametrize("step", list(STEPS))
async def test_a_fault_at_any_step_never_gives_more_than_one_request_per_backoff_step(
    step: str, usage_server: DemoHandle, claude_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock(datetime.now(UTC))
    engine = make_engine(usage_server, claude_dir, tmp_path / "db.sqlite3", clock)
    STEPS[step](engine, monkeypatch)
    # One failed poll leaves the next one at least a step away (a derive fault comes after a good
    # answer was stored, so its schedule is the normal interval)...
    await engine.poll()
    due = engine.next_poll_at()
    assert due is not None
    assert due - clock.now() >= MIN_STEP
    assert engine.state.error is not None
    assert engine.health.failures >= 1 or step in ("request build", "send", "parse")
    # ...and a runaway caller polling every 5 s for 10 minutes gets no more than one request per
    # step, while the engine does keep retrying (the fault is not mistaken for "stop for good").
    times = await request_times(engine, usage_server, clock, minutes=10)
    assert_polite(times)
    if step not in ("credentials read", "version probe"):
        assert len(times) >= 1, times
    monkeypatch.undo()
    await engine.aclose()


async def test_recovers_after_the_fault_goes_away(
    usage_server: DemoHandle, claude_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock(datetime.now(UTC))
    engine = make_engine(usage_server, claude_dir, tmp_path / "db.sqlite3", clock)
    inject_derive(engine, monkeypatch)
    await engine.poll()
    assert engine.state.error is not None
    assert engine.state.error.kind is ErrorKind.INTERNAL
    monkeypatch.undo()
    clock.advance(3600)
    state = await engine.poll()
    assert state.error is None
    assert state.snapshot is not None
    assert engine.health.streak == 0
    await engine.aclose()


# --- the service loop in real time: no spin whatever the engine does ----------------------------


@pytest.mark.qt_loop
async def test_service_loop_does_not_spin_when_every_poll_raises(
    usage_server: DemoHandle, claude_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = UsageEngine(
        UsageRepo.open(tmp_path / "db.sqlite3"),
        client=UsageClient(usage_server.base_url),
        credentials_loader=partial(load_credentials, config_dirs=[claude_dir], home=claude_dir),
        probe_version=False,
    )
    turns = 0

    async def broken(manual: bool = False) -> Any:
        nonlocal turns
        turns += 1
        raise Boom("a poll that raises past the engine's own guard")

    monkeypatch.setattr(engine, "poll", broken)
    service = UsageService(engine)
    service.start()
    await asyncio.sleep(2.0)
    await service.stop()
    assert turns == 1, f"the loop retried {turns} times in 2 s"


@pytest.mark.qt_loop
async def test_service_loop_against_a_hostile_retry_after_sends_one_request(
    usage_server: DemoHandle, claude_dir: Path, tmp_path: Path
) -> None:
    usage_server.simulator.script.append((429, {"error": "rate"}, {"Retry-After": "\xb2"}))
    engine = UsageEngine(
        UsageRepo.open(tmp_path / "db.sqlite3"),
        client=UsageClient(usage_server.base_url),
        credentials_loader=partial(load_credentials, config_dirs=[claude_dir], home=claude_dir),
        probe_version=False,
    )
    service = UsageService(engine)
    service.start()
    await asyncio.sleep(2.0)
    await service.stop()
    assert len(usage_server.simulator.requests) == 1
