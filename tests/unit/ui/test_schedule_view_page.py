"""The Settings page "Window schedule" wired to a real scheduler service and the real schedule store
(files in the test's folders): presets, per-anchor mode with its cost line, the 5 h rule refused
inline, pause for today, and the OS timer switch the service makes the timer follow."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtWidgets import QComboBox, QLabel, QWidget

from tests.helpers.fixtures_channels import SettingsDict
from trayapp import runtime
from trayapp.channels.dispatcher import Dispatcher
from trayapp.channels.quips import QuipWriter
from trayapp.core.clock import FakeClock
from trayapp.core.humanize import display_text
from trayapp.core.schedule import WEEKDAYS, Anchor, AnchorMode, Attempt, Outcome, Plan
from trayapp.services.scheduler_feature import ports_for
from trayapp.services.scheduler_service import SchedulerService
from trayapp.store.schedule_store import ScheduleStore
from trayapp.ui.schedule_page import COST_LINE, SchedulePage, make_page

TZ = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 8, 10, 7, 30, tzinfo=UTC)


async def no_start(anchor_id: str | None) -> Attempt:
    return Attempt(NOW, anchor_id, Outcome.REFUSED, "not in this test")


@pytest.fixture
async def page(qtbot, tmp_path: Path):
    store = ScheduleStore(tmp_path / "config", tmp_path / "state")
    store.save_plan(Plan((Anchor(time(7, 0)), Anchor(time(12, 0)))))
    timer_calls: list[Plan] = []

    def sync_timer(plan: Plan) -> tuple[bool, str]:
        timer_calls.append(plan)
        return True, "OS timer installed for 1 auto-start anchor(s)." if plan.os_timer else ""

    ports = replace(ports_for(store, no_start, start_logs=False), sync_timer=sync_timer)
    cfg = SettingsDict()
    clock = FakeClock(NOW)
    service = SchedulerService(
        ports,
        Dispatcher([], QuipWriter(cfg.get), cfg.get),
        clock,
        cfg.get,
        lambda: None,
        tz=TZ,
        memory_path=tmp_path / "state" / "scheduler.json",
    )
    await service.load()
    p = make_page(service, clock.now)
    qtbot.addWidget(p)
    p.store, p.service, p.timer_calls = store, service, timer_calls  # type: ignore[attr-defined]
    yield p
    await service.stop()


async def settle(page: SchedulePage) -> None:
    await asyncio.sleep(0)
    await runtime.wait(5, group=page.service)  # type: ignore[attr-defined]


def rows(page: SchedulePage) -> list[str]:
    return [page.anchor_rows.itemAt(i).widget().objectName() for i in range(page.anchor_rows.count())]


async def test_it_shows_the_plan_with_what_each_anchor_buys_and_the_cost_line(page) -> None:
    assert rows(page) == ["anchor-07:00", "anchor-12:00"]
    assert page.enabled.isChecked()
    assert page.preset.currentText() == "Custom"
    assert page.cost.text() == display_text(COST_LINE)
    shown = [w.text() for w in page.findChildren(QLabel)] + [w.toolTip() for w in page.findChildren(QWidget)]
    assert not [t for t in shown if "`" in t]  # GUI text shows no Markdown backticks (issue 20)
    assert "headless use may be billed separately" in COST_LINE
    texts = [label.text() for label in page.findChildren(QLabel) if "->" in label.text()]
    assert "07:00 -> window 07:00-12:00, next free at 12:00 · all" in texts


async def test_a_preset_replaces_the_anchors_and_is_saved(page) -> None:
    index = page.preset.findData("work_day")
    page.preset.setCurrentIndex(index)
    page.preset.activated.emit(index)
    await settle(page)
    saved = page.store.load_plan()
    assert saved.preset == "work_day"
    assert [(a.id, a.days) for a in saved.anchors] == [("07:00", WEEKDAYS), ("12:00", WEEKDAYS)]
    assert rows(page) == ["anchor-07:00", "anchor-12:00"]


async def test_auto_start_per_anchor(page) -> None:
    row = next(w for w in page.findChildren(QWidget) if w.objectName() == "anchor-12:00")
    mode = row.findChild(QComboBox)
    mode.setCurrentIndex(mode.findData(AnchorMode.AUTO))
    mode.activated.emit(mode.currentIndex())
    await settle(page)
    saved = {a.id: a.mode for a in page.store.load_plan().anchors}
    assert saved == {"07:00": AnchorMode.REMIND, "12:00": AnchorMode.AUTO}


async def test_an_anchor_too_close_is_refused_inline_and_nothing_is_saved(page) -> None:
    from PySide6.QtCore import QTime

    page.new_time.setTime(QTime(9, 0))
    page.add_button.click()
    await settle(page)
    assert page.error.isVisibleTo(page)
    assert "07:00 and 09:00 on Mon are 2 h apart; anchors need 5 h" in page.error.text()
    assert [a.id for a in page.store.load_plan().anchors] == ["07:00", "12:00"]
    page.new_time.setTime(QTime(18, 0))
    page.add_button.click()
    await settle(page)
    assert not page.error.isVisibleTo(page)
    assert [a.id for a in sorted(page.store.load_plan().anchors, key=lambda a: a.id)] == [
        "07:00",
        "12:00",
        "18:00",
    ]


async def test_pause_for_today_ends_at_the_next_local_midnight(page) -> None:
    page.pause.setCurrentIndex(1)
    page.pause.activated.emit(1)
    await settle(page)
    paused = page.store.load_plan().paused_until
    assert paused == datetime(2026, 8, 11, 0, 0, tzinfo=TZ)
    assert paused - NOW == timedelta(hours=14, minutes=30)


async def test_the_os_timer_switch_is_saved_and_the_timer_follows(page) -> None:
    page.os_timer.setChecked(True)
    await settle(page)
    assert page.store.load_plan().os_timer is True
    assert [p.os_timer for p in page.timer_calls] == [True]
    assert page.timer_note.text() == "OS timer installed for 1 auto-start anchor(s)."
