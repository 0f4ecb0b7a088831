"""trayapp.runtime: tasks kept and reported, worker lanes, and loop health that doctor shows."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from pathlib import Path

import pytest

from trayapp import runtime
from trayapp.cli.doctor import check_background_loops
from trayapp.runtime import HealthRegistry, LoopHealth, read_health


def test_backoff_doubles_from_the_base_and_stops_at_the_cap() -> None:
    health = LoopHealth("test loop", base=5, cap=60, registry=HealthRegistry())
    delays = [health.failed(ValueError("bad")) for _ in range(6)]
    assert delays == [5, 10, 20, 40, 60, 60]
    health.succeeded()
    assert health.streak == 0
    assert health.failures == 6
    assert health.failed(ValueError("bad")) == 5


def test_a_repeated_error_is_logged_with_its_traceback_once(caplog: pytest.LogCaptureFixture) -> None:
    health = LoopHealth("noisy loop", registry=HealthRegistry())
    with caplog.at_level(logging.WARNING, logger="trayapp.runtime"):
        for _ in range(100):
            health.failed(KeyError("same"))
    records = [r for r in caplog.records if "noisy loop" in r.getMessage()]
    assert sum(1 for r in records if r.exc_info) == 1
    # Repeats only at 2, 4, 8, 16, 32, 64 in a row: 100 failures, 7 lines.
    assert len(records) == 7
    assert health.failures == 100


def test_health_file_round_trip_and_doctor_shows_it(hermetic_env: Path) -> None:
    state = hermetic_env / "state"
    registry = HealthRegistry(state / runtime.HEALTH_FILE)
    health = LoopHealth("transcript scanner", registry=registry)
    health.failed(OverflowError("Python int too large to convert to SQLite INTEGER"))
    doc = read_health(state / runtime.HEALTH_FILE)
    assert doc is not None
    assert doc["loops"]["transcript scanner"]["failures"] == 1
    from datetime import UTC, datetime

    checks = check_background_loops(datetime.now(UTC))
    assert len(checks) == 1
    assert checks[0].status == "warn"
    assert "transcript scanner: 1 unexpected error" in checks[0].detail
    assert "OverflowError" in checks[0].detail
    assert "1 in a row" in checks[0].detail
    health.succeeded()
    checks = check_background_loops(datetime.now(UTC))
    assert checks[0].status == "info"
    assert "backing off" not in checks[0].detail


@pytest.mark.parametrize("content", [b"", b"{", b"[]", b'{"loops": 3}', b"\xff\xfe", b"[" * 100_000])
def test_a_bad_health_file_reads_as_none(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / runtime.HEALTH_FILE
    path.write_bytes(content)
    assert read_health(path) is None


def test_doctor_without_a_health_file(hermetic_env: Path) -> None:
    from datetime import UTC, datetime

    (check,) = check_background_loops(datetime.now(UTC))
    assert check.status == "info"
    assert "no report yet" in check.detail


async def test_spawn_keeps_the_task_and_logs_its_failure(caplog: pytest.LogCaptureFixture) -> None:
    async def boom() -> None:
        raise RuntimeError("lost task")

    with caplog.at_level(logging.ERROR, logger="trayapp.runtime"):
        task = runtime.spawn(boom(), name="boom-task")
        assert task in runtime._tasks
        await asyncio.wait([task])
        await asyncio.sleep(0)
    assert task not in runtime._tasks
    assert any("boom-task" in r.getMessage() and r.exc_info for r in caplog.records)


async def test_drain_cancels_what_is_still_running() -> None:
    started = asyncio.Event()

    async def forever() -> None:
        started.set()
        await asyncio.sleep(3600)

    task = runtime.spawn(forever(), name="forever")
    await started.wait()
    await runtime.drain(timeout=2)
    assert task.cancelled()


async def test_run_blocking_uses_the_lane_threads() -> None:
    name = await runtime.run_blocking(lambda: threading.current_thread().name, lane="ledger")
    assert name.startswith("claude-watch-ledger")
    with pytest.raises(ValueError, match="unknown lane"):
        await runtime.run_blocking(print, lane="nope")


def test_health_document_is_json(hermetic_env: Path) -> None:
    registry = HealthRegistry(hermetic_env / "state" / runtime.HEALTH_FILE)
    LoopHealth("a", registry=registry).failed(ValueError("x"))
    data = json.loads((hermetic_env / "state" / runtime.HEALTH_FILE).read_text())
    assert set(data) == {"pid", "updated_at", "loops"}


def test_submit_and_call_with_timeout_run_on_the_lane() -> None:
    future = runtime.submit(lambda: threading.current_thread().name, lane="io")
    assert future.result(timeout=5).startswith("claude-watch-io")
    assert runtime.call_with_timeout(lambda a, b: a + b, 5.0, 2, b=3, lane="ledger") == 5
    with pytest.raises(KeyError, match="from the lane"):
        runtime.call_with_timeout(lambda: {}["from the lane"], 5.0, lane="io")
    with pytest.raises(ValueError, match="unknown lane"):
        runtime.call_with_timeout(print, 1.0, lane="nope")


def test_call_with_timeout_gives_up_in_time_and_the_lane_recovers() -> None:
    release = threading.Event()
    finished: list[str] = []

    def hung() -> str:
        release.wait(30)  # a keyring waiting on an unlock prompt
        finished.append("hung")
        return "late"

    try:
        start = time.monotonic()
        with pytest.raises(TimeoutError):
            runtime.call_with_timeout(hung, 0.2, lane="keyring")
        assert 0.15 < time.monotonic() - start < 2
        # The one keyring thread is still stuck: the next caller gets its own timeout, no new
        # thread, and its call, given up on before it started, never runs.
        with pytest.raises(TimeoutError):
            runtime.call_with_timeout(lambda: finished.append("given up"), 0.1, lane="keyring")
    finally:
        release.set()
    # Unlocked: the stuck call ends (its answer dropped) and the lane answers again.
    assert runtime.call_with_timeout(lambda: "answered", 5.0, lane="keyring") == "answered"
    assert finished == ["hung"]


def test_call_with_timeout_on_its_own_lane_runs_inline() -> None:
    # The keyring lane has one thread: submitting to it from that thread and waiting would wait
    # for itself until the timeout.
    def outer() -> tuple[str, str | None]:
        inner = runtime.call_with_timeout(lambda: threading.current_thread().name, 0.5, lane="keyring")
        return inner, runtime.current_lane()

    inner, lane = runtime.call_with_timeout(outer, 5.0, lane="keyring")
    assert inner.startswith("claude-watch-keyring")
    assert lane == "keyring"
    assert runtime.current_lane() is None  # this is no lane's thread


def test_try_spawn_without_a_loop_drops_the_coroutine_quietly() -> None:
    ran: list[int] = []

    async def work() -> None:
        ran.append(1)

    # filterwarnings=error: a coroutine left unawaited would fail this test with a RuntimeWarning.
    assert runtime.try_spawn(work(), "no-loop") is None
    with pytest.raises(RuntimeError):
        runtime.spawn(work(), "no-loop")
    assert ran == []


async def test_wait_for_a_group_does_not_cancel_and_sees_late_tasks() -> None:
    group, other = object(), object()
    gate = asyncio.Event()
    done: list[str] = []

    async def step(name: str, then: str | None = None) -> None:
        await gate.wait()
        done.append(name)
        if then:  # a task of the group that starts another while we wait
            runtime.spawn(step(then), name=then, group=group)

    runtime.spawn(step("a", then="b"), name="a", group=group)
    elsewhere = runtime.spawn(asyncio.sleep(3600), name="elsewhere", group=other)
    assert await runtime.wait(0.05, group=group) is False  # still gated: left running, not cancelled
    gate.set()
    assert await runtime.wait(5, group=group) is True
    assert done == ["a", "b"]
    assert not elsewhere.done()
    assert await runtime.drain(2, group=other) is True
    assert elsewhere.cancelled()


async def test_drain_cancel_after_lets_work_finish_then_cancels_the_rest() -> None:
    group = object()
    quick_done = asyncio.Event()

    async def quick() -> None:
        await asyncio.sleep(0.01)
        quick_done.set()

    quick_task = runtime.spawn(quick(), name="quick", group=group)
    assert await runtime.drain(5, group=group, cancel_after=True) is True
    assert quick_done.is_set()
    assert not quick_task.cancelled()

    stuck = runtime.spawn(asyncio.sleep(3600), name="stuck", group=group)
    start = asyncio.get_running_loop().time()
    assert await runtime.drain(0.1, group=group, cancel_after=True) is False
    assert stuck.cancelled()
    assert asyncio.get_running_loop().time() - start < 2
