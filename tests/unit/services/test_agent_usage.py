"""A run's rate_limit_event as a fresh reading: fed to the real usage engine (loopback usage
server, real store, FakeClock) as a local source, it becomes the binding window the agents queue
holds on; an event without a utilization is no reading."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.unit.services.test_usage_engine import make_engine
from trayapp.core.agents import QueuePolicy, Slot, Task, TaskSpec, decide
from trayapp.core.clock import FakeClock
from trayapp.core.models import Source
from trayapp.core.stream_json import RateLimitEvent
from trayapp.demo import DemoHandle
from trayapp.services.agent_stream import limits_from_state
from trayapp.services.agent_usage import RateLimitReadings, route_readings


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime.now(UTC).replace(microsecond=0))


def event(utilization: float | None, resets_at: datetime, kind: str = "five_hour") -> RateLimitEvent:
    return RateLimitEvent("allowed_warning", kind, resets_at, utilization=utilization)


def test_an_event_without_utilization_is_no_reading(clock: FakeClock) -> None:
    readings = RateLimitReadings()
    assert readings.feed(event(None, clock.now() + timedelta(hours=2)), clock.now()) is False
    assert readings.feed(event(50.0, clock.now() + timedelta(hours=2), "overage"), clock.now()) is False
    assert readings(clock.now()) is None


async def test_a_rate_limit_reading_feeds_the_engine_and_holds_the_queue(
    usage_server: DemoHandle, claude_dir: Path, tmp_path: Path, clock: FakeClock
) -> None:
    engine = make_engine(usage_server, claude_dir, tmp_path / "db.sqlite3", clock)
    listeners: list[Callable[[RateLimitEvent], None]] = []  # the queue's on_rate_limit
    undo = route_readings(listeners, engine, clock.now)
    reset = clock.now() + timedelta(hours=2)
    for listener in listeners:
        listener(event(90.0, reset))
    readings = engine.local_sources[-1]
    state = await engine.poll()
    assert state.snapshot is not None
    assert state.snapshot.source is Source.AGENT
    assert state.binding is not None
    assert state.binding.window.id == "five_hour"
    assert state.binding.window.utilization == 90.0
    limits = limits_from_state(state)
    assert (limits.binding_utilization, limits.binding_resets_at) == (90.0, reset)
    task = Task("t-1", TaskSpec("p", "/p"), created_at=clock.now())
    held = decide([task], [Slot("local")], limits, QueuePolicy(), clock.now())
    assert [h[0] for h in held.hold] == ["t-1"]
    assert held.wake_at == reset
    clock.advance(2 * 3600 + 1)  # after the reset the reading no longer holds
    assert decide([task], [Slot("local")], limits, QueuePolicy(), clock.now()).start == (("t-1", "local"),)
    assert readings(clock.now()) is None  # the window it measured is over
    undo()
    assert listeners == []
    assert engine.local_sources == []
    await engine.aclose()
