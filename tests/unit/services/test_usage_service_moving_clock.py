"""An added account's first poll comes when its staggered turn is due, with a clock that keeps
moving as the real one does. A fresh engine is "due now" (the clock's now, read a moment after the
loop's), so the loop once chased that moving target in ever shorter naps and never polled it: the
fake clocks of the other tests stand still and hid it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.helpers.accounts_support import PerTokenUsage, folders, running, token
from tests.unit.services.test_accounts_usage import build, wait_for


class MovingClock:
    """Real time, plus a jump the test makes (past the staggered start, without waiting for it)."""

    def __init__(self) -> None:
        self.start = datetime.now(UTC)
        self.m0 = time.monotonic()
        self.jumped = 0.0

    def monotonic(self) -> float:
        return time.monotonic() + self.jumped

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.monotonic() - self.m0)

    def advance(self, seconds: float) -> None:
        self.jumped += seconds


@pytest.fixture
def server() -> Iterator[PerTokenUsage]:
    yield from running()


@pytest.mark.qt_loop
async def test_a_new_account_is_polled_once_its_turn_comes_with_a_moving_clock(
    server: PerTokenUsage, tmp_path: Path
) -> None:
    clock = MovingClock()
    accounts = folders(tmp_path, ["Personal", "Work"], server, [12.0, 91.0])
    service = build(server, accounts, tmp_path / "db.sqlite3", clock)  # type: ignore[arg-type]
    service.start()
    try:
        await wait_for(lambda: server.calls == [token("Personal")])
        clock.advance(4 * 60)  # past Work's staggered start (half an interval) and the gap
        service.nudge()
        await wait_for(lambda: token("Work") in server.calls, timeout=5.0)
        # The server counts the request as it arrives; the reading is stored once its answer is
        # read, a moment later (checking it at once failed once in a loaded run).
        await wait_for(lambda: service.states["Work"].snapshot is not None, timeout=5.0)
    finally:
        await asyncio.wait_for(service.stop(), 5)
