"""The live-sessions service: real capture files read on the io lane, polling only between start
and stop, and a failing reader backed off (not asked again every few seconds)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from tests.helpers.statusline_support import FULL, write_capture
from trayapp.core.clock import FakeClock
from trayapp.runtime import HealthRegistry, LoopHealth
from trayapp.services.live_sessions import LiveSessionsService
from trayapp.sources.statusline_capture import LiveSession


async def until(condition: Callable[[], object], timeout: float = 5.0) -> bool:
    """Let the loop run until ``condition()`` holds (a deadline, not a speed claim)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


def two_sessions(state_dir: Path) -> FakeClock:
    now = time.time()
    write_capture(state_dir, json.loads(FULL.read_text()), now - 20)
    other = json.loads(FULL.read_text())
    other.update(session_id="b", cwd="/w/api", workspace={"project_dir": "/w/api"})
    write_capture(state_dir, other, now - 5)
    stale = json.loads(FULL.read_text())
    stale.update(session_id="old", cwd="/w/old", workspace={"project_dir": "/w/old"})
    write_capture(state_dir, stale, now - 600)  # ten minutes ago: not live
    return FakeClock(datetime.fromtimestamp(now, UTC))


async def test_reads_the_captures_on_disk_on_the_io_lane(qapp, state_dir: Path) -> None:
    service = LiveSessionsService(two_sessions(state_dir), health=LoopHealth("t", registry=HealthRegistry()))
    threads: list[str] = []
    read = service.reader

    def spy() -> list[LiveSession]:
        threads.append(threading.current_thread().name)
        return list(read())

    service.reader = spy
    emitted: list[list[LiveSession]] = []
    service.sessions_changed.connect(emitted.append)
    sessions = await service.refresh()
    assert sessions is not None
    assert [s.project for s in sessions] == ["api", "webapp"]
    assert emitted == [sessions]
    assert threads
    assert threads[0].startswith("claude-watch-io")


async def test_polls_only_between_start_and_stop(qapp) -> None:
    calls = 0

    def reader() -> list[LiveSession]:
        nonlocal calls
        calls += 1
        return []

    service = LiveSessionsService(reader=reader, interval=0.01)
    assert calls == 0
    assert not service.running
    service.start()
    service.start()  # a second show while running starts no second loop
    assert await until(lambda: calls >= 3)
    service.stop()
    assert not service.running
    await asyncio.sleep(0.05)
    settled = calls
    await asyncio.sleep(0.1)  # ten intervals: a loop still running would have read again
    assert calls == settled


async def test_a_failing_reader_is_backed_off_not_retried_every_tick(qapp) -> None:
    calls = 0

    def broken() -> list[LiveSession]:
        nonlocal calls
        calls += 1
        raise OSError("capture folder unreadable")

    health = LoopHealth("live sessions reader", registry=HealthRegistry())  # 5 s first backoff
    service = LiveSessionsService(reader=broken, interval=0.01, health=health)
    emitted: list[list[LiveSession]] = []
    service.sessions_changed.connect(emitted.append)
    service.start()
    assert await until(lambda: calls == 1)
    await asyncio.sleep(0.2)  # twenty intervals inside the backoff
    service.stop()
    service.start()  # the popup closed and opened again: still backing off
    await asyncio.sleep(0.05)
    assert await service.refresh() is None
    service.stop()
    assert calls == 1
    assert health.streak == 1
    assert health.failures == 1
    assert emitted == [[]]  # the panel was told once: nothing to show


async def test_after_the_backoff_the_reader_is_asked_again(qapp) -> None:
    answers: list[object] = [OSError("not yet"), []]

    def flaky() -> list[LiveSession]:
        answer = answers.pop(0) if answers else []
        if isinstance(answer, Exception):
            raise answer
        return list(answer)

    health = LoopHealth("flaky reader", base=0.05, cap=0.05, registry=HealthRegistry())
    service = LiveSessionsService(reader=flaky, interval=0.01, health=health)
    service.start()
    assert await until(lambda: not answers)  # failed once, then asked again after 50 ms
    assert await until(lambda: health.streak == 0)
    service.stop()
    assert health.failures == 1


def test_start_without_an_event_loop_is_harmless(qapp) -> None:
    service = LiveSessionsService(reader=lambda: [])
    service.start()  # filterwarnings=error: a coroutine left unawaited would fail here
    assert not service.running
    service.stop()
