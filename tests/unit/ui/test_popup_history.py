"""The popup's history loader may answer later (the app reads SQLite on a worker thread): the rows
are drawn when they arrive, and an answer overtaken by a newer reload is dropped."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest

from tests.helpers.states import NOW, account_state, window_state
from trayapp.core.clock import FakeClock
from trayapp.ui.popup import Popup


def plotted(popup: Popup) -> dict[str, float | None]:
    """Each plotted window's last value."""
    return {s.window_id: (s.last[1] if s.last else None) for s in popup.timeline.series}


def rows(util: float) -> list[tuple[datetime, str, float, None]]:
    return [(NOW - timedelta(minutes=m), "five_hour", util, None) for m in (30, 20, 10)]


@pytest.mark.qt_loop
async def test_an_awaitable_answer_is_drawn_when_it_arrives(qtbot) -> None:
    popup = Popup(FakeClock(NOW))
    qtbot.addWidget(popup)
    popup.set_state(account_state(window_state("five_hour", 40.0, timedelta(hours=2))))
    gate = asyncio.Event()

    async def loader(since: datetime) -> list[tuple[datetime, str, float, None]]:
        await gate.wait()
        return rows(40.0)

    popup.set_history_loader(loader)
    popup.reload_history()
    await asyncio.sleep(0.05)
    assert plotted(popup) == {}  # not yet: the loader has not answered
    gate.set()
    await asyncio.sleep(0.05)
    assert plotted(popup) == {"five_hour": 40.0}


@pytest.mark.qt_loop
async def test_a_late_answer_to_an_older_reload_is_dropped(qtbot) -> None:
    popup = Popup(FakeClock(NOW))
    qtbot.addWidget(popup)
    popup.set_state(account_state(window_state("five_hour", 40.0, timedelta(hours=2))))
    slow_gate = asyncio.Event()
    answers = iter([(slow_gate, 10.0), (None, 70.0)])

    async def loader(since: datetime) -> list[tuple[datetime, str, float, None]]:
        gate, util = next(answers)
        if gate is not None:
            await gate.wait()
        return rows(util)

    popup.set_history_loader(loader)
    popup.reload_history()  # slow, 10 %
    popup.reload_history()  # fast, 70 %: the newer one
    await asyncio.sleep(0.05)
    slow_gate.set()
    await asyncio.sleep(0.05)
    assert plotted(popup) == {"five_hour": 70.0}
