"""The schedule view over real mouse events (QTest, offscreen): drag on empty space creates an
anchor, dragging a marker moves it, right-click or Delete removes it, and an edit that puts anchors
closer than 5 hours is refused with the reason shown, the plan unchanged. Plus what it paints, and
the panel's texts (next anchor, last start, weekly pace)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor
from PySide6.QtTest import QTest

from tests.helpers.states import account_state, window_state
from trayapp.core.clock import FakeClock
from trayapp.core.schedule import Anchor, AnchorMode, Attempt, Outcome, Plan
from trayapp.ui.schedule_panel import SchedulePanel, last_text, next_text, weekly_advice
from trayapp.ui.schedule_view import ScheduleView
from trayapp.ui.theme import LIGHT

TZ = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 8, 10, 7, 30, tzinfo=UTC)  # 09:30 in Berlin
PLAN = Plan((Anchor(time(7, 0)), Anchor(time(12, 0))))


@pytest.fixture
def view(qtbot):
    v = ScheduleView()
    qtbot.addWidget(v)
    v.resize(492, 118)  # 468 px for 24 h: 19.5 px an hour
    state = account_state(window_state("five_hour", 20.0, timedelta(hours=2.5), NOW), now=NOW)
    v.set_data(PLAN, state, [], NOW, TZ)
    v.show()
    qtbot.waitExposed(v)
    edited: list[Plan] = []
    refused: list[str] = []
    v.plan_edited.connect(edited.append)
    v.refused.connect(refused.append)
    v.edited, v.refusals = edited, refused  # type: ignore[attr-defined]
    return v


def x_at(view: ScheduleView, hh: int, mm: int = 0) -> int:
    instant = datetime(2026, 8, 10, hh, mm, tzinfo=TZ).astimezone(UTC)
    return round(view.axis().x(instant.timestamp()))


def click(view: ScheduleView, button: Qt.MouseButton, x: int) -> None:
    QTest.mouseClick(view, button, Qt.KeyboardModifier.NoModifier, QPoint(x, view.height() // 2))


def drag(view: ScheduleView, x0: int, x1: int) -> None:
    y = view.height() // 2
    QTest.mousePress(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(x0, y))
    QTest.mouseMove(view, QPoint((x0 + x1) // 2, y))
    QTest.mouseMove(view, QPoint(x1, y))
    QTest.mouseRelease(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(x1, y))


def times(plan: Plan) -> list[str]:
    return sorted(a.id for a in plan.anchors)


def test_dragging_on_empty_space_creates_an_anchor_snapped_to_the_quarter_hour(view) -> None:
    drag(view, x_at(view, 17, 30), x_at(view, 18, 4))
    (plan,) = view.edited
    assert times(plan) == ["07:00", "12:00", "18:00"]
    assert plan.preset == "custom"
    assert view.refusals == []


def test_dragging_a_marker_moves_it_keeping_its_mode_and_days(view) -> None:
    auto = Plan((Anchor(time(7, 0)), Anchor(time(12, 0), frozenset({0, 1, 2}), AnchorMode.AUTO)))
    view.set_data(auto, None, [], NOW, TZ)
    drag(view, x_at(view, 12), x_at(view, 13, 15))
    (plan,) = view.edited
    moved = next(a for a in plan.anchors if a.id == "13:15")
    assert moved.mode is AnchorMode.AUTO
    assert moved.days == frozenset({0, 1, 2})
    assert times(plan) == ["07:00", "13:15"]


def test_anchors_closer_than_five_hours_are_refused_with_the_reason_shown(view) -> None:
    drag(view, x_at(view, 12), x_at(view, 10))  # 07:00 and 10:00: 3 h apart
    assert view.edited == []
    (reason,) = view.refusals
    assert "3 h apart; anchors need 5 h" in reason
    assert view.message == reason
    assert times(view.plan) == ["07:00", "12:00"]  # the marker went back
    drag(view, x_at(view, 2, 30), x_at(view, 3))  # a new one 4 h before 07:00
    assert view.edited == []
    assert len(view.refusals) == 2
    drag(view, x_at(view, 17, 30), x_at(view, 18))  # a valid edit clears the message
    assert len(view.edited) == 1
    assert view.message == ""


def test_right_click_removes_a_marker(view) -> None:
    y = view.height() // 2
    QTest.mouseClick(
        view, Qt.MouseButton.RightButton, Qt.KeyboardModifier.NoModifier, QPoint(x_at(view, 12), y)
    )
    (plan,) = view.edited
    assert times(plan) == ["07:00"]
    QTest.mouseClick(
        view, Qt.MouseButton.RightButton, Qt.KeyboardModifier.NoModifier, QPoint(x_at(view, 15), y)
    )
    assert len(view.edited) == 1  # empty space: nothing to remove


def test_click_then_delete_removes_the_selected_marker(view) -> None:
    y = view.height() // 2
    QTest.mouseClick(
        view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(x_at(view, 7) + 3, y)
    )
    assert view.selected == "07:00"
    assert view.edited == []  # a click is not a drag
    QTest.keyClick(view, Qt.Key.Key_Delete)
    (plan,) = view.edited
    assert times(plan) == ["12:00"]


def test_it_paints_the_window_its_reset_the_anchors_and_the_attempts(view) -> None:
    attempts = [
        Attempt(datetime(2026, 8, 10, 5, 1, tzinfo=UTC), "07:00", Outcome.VERIFIED),
        Attempt(datetime(2026, 8, 10, 1, 0, tzinfo=UTC), None, Outcome.NOT_OPENED),
    ]
    state = account_state(window_state("five_hour", 20.0, timedelta(hours=2.5), NOW), now=NOW)
    view.set_data(PLAN, state, attempts, NOW, TZ)
    image = view.grab().toImage()
    ax = view.axis()

    def color(x: float, y: float) -> str:
        return QColor(image.pixel(round(x), round(y))).name()

    assert color(x_at(view, 12), ax.top - 6) == LIGHT.accent  # the 12:00 marker's handle
    dot_y = ax.top + ax.height - 7
    assert color(x_at(view, 7, 1), dot_y) == LIGHT.levels[next(iter(LIGHT.levels))]  # verified: green
    assert color(x_at(view, 3), dot_y) != color(x_at(view, 7, 1), dot_y)  # failed: another colour
    # The open window's band (its projected reset at 12:00 Berlin) is painted below the coverage band.
    assert color(x_at(view, 10), ax.top + ax.height * 0.8) != color(x_at(view, 20), ax.top + ax.height * 0.8)


def test_panel_texts(qtbot) -> None:
    plan = Plan((Anchor(time(7, 0)), Anchor(time(12, 0), mode=AnchorMode.AUTO)))
    assert next_text(plan, NOW, TZ) == "Next: 12:00 -> window 12:00-17:00, next free at 17:00 · auto-start"
    assert next_text(Plan(), NOW, TZ) == "No anchors yet."
    # The server's window (opened 07:02) lasts past the 12:00 anchor: its window starts at the reset.
    resets = datetime(2026, 8, 10, 10, 2, tzinfo=UTC)
    assert next_text(plan, NOW, TZ, resets) == (
        "Next: 12:00 -> window 12:02-17:02 (after the open one), next free at 17:02 · auto-start"
    )
    attempts = [Attempt(NOW, "07:00", Outcome.NOT_OPENED, "no window opened")]
    assert last_text(attempts, TZ) == "Last: Mon 09:30 did not open the window: no window opened"
    weekly = window_state("seven_day", 60.0, timedelta(days=3), NOW, rate=1.0)
    advice = weekly_advice(account_state(weekly, now=NOW), NOW, TZ)
    assert advice.startswith("At this pace the weekly limit runs out Wed 01:30")
    panel = SchedulePanel(FakeClock(NOW), TZ)
    qtbot.addWidget(panel)
    panel.set_plan(plan)
    panel.set_state(account_state(weekly, now=NOW))
    assert panel.pace_label.text() == advice
    assert panel.next_label.text().startswith("Next: 12:00")


def test_hovering_a_marker_or_a_start_explains_it(view) -> None:
    attempt = Attempt(datetime(2026, 8, 10, 5, 1, tzinfo=UTC), "07:00", Outcome.NOT_OPENED, "no window")
    state = account_state(window_state("five_hour", 20.0, timedelta(hours=2, minutes=50), NOW), now=NOW)
    view.set_data(PLAN, state, [attempt], NOW, TZ)
    ax = view.axis()
    middle = ax.top + ax.height / 2
    # The 12:00 anchor falls inside the open window (reset 12:20 Berlin): it starts at the reset.
    first, second = view.hover_text(x_at(view, 12), middle).splitlines()
    assert first == "12:00 reminds you: window 12:20-17:20, next free at 17:20"
    assert second == "Drag to move; right-click (or Delete) to remove"
    assert view.hover_text(x_at(view, 7, 1), ax.top + ax.height - 7) == "07:01 not opened: no window"
    assert view.hover_text(x_at(view, 20), middle) == ""
