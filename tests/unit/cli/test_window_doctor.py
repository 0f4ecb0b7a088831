"""``doctor``'s window scheduler section: the plan, the next anchor, the OS timer, the last 10
attempts (failures as warnings), a broken plan file."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from trayapp.cli import doctor
from trayapp.cli.doctor_schedule import checks
from trayapp.core.schedule import WEEKDAYS, Anchor, AnchorMode, Attempt, Outcome, Plan
from trayapp.store.schedule_store import ScheduleStore

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _berlin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Europe/Berlin")


def test_empty() -> None:
    rows = [(c.name, c.status, c.detail) for c in checks(NOW)]
    assert rows == [
        ("Window plan", "info", "no anchors (`claude-watch schedule add 07:00`)"),
        ("Start attempts", "info", "none yet"),
    ]


def test_plan_next_anchor_and_last_ten_attempts() -> None:
    store = ScheduleStore()
    store.save_plan(Plan((Anchor(time(7), WEEKDAYS, AnchorMode.AUTO), Anchor(time(12), WEEKDAYS))))
    for i in range(12):
        outcome = Outcome.NOT_OPENED if i == 11 else Outcome.VERIFIED
        store.append(Attempt(NOW - timedelta(days=12 - i), "07:00", outcome, f"attempt {i}"))
    found = checks(NOW)
    by_name = [c.name for c in found]
    assert by_name[:3] == ["Window plan", "Next anchor", "OS timer"]
    assert found[0].detail == "Custom: 07:00 (mon-fri, auto), 12:00 (mon-fri, remind)"
    assert found[1].detail == "12:00 on Thu 03 Dec (Europe/Berlin)"
    assert found[2].detail == "off: auto-start anchors run only while the tray app runs"
    attempts = [c for c in found if c.name == "Start attempt"]
    assert len(attempts) == 10
    assert attempts[0].status == "warn"  # the newest first: it did not open
    assert attempts[0].detail.endswith("not_opened  attempt 11")
    assert attempts[-1].detail.endswith("attempt 2")
    assert all(c.status == "info" for c in attempts[1:])


def test_broken_plan_is_a_warning(hermetic_env: Path) -> None:
    (hermetic_env / "config").mkdir(parents=True)
    (hermetic_env / "config" / "schedule.json").write_text("[]")
    found = checks(NOW)
    assert found[0].name == "Window plan"
    assert found[0].status == "warn"
    assert "cannot be used" in found[0].detail


def test_doctor_runs_the_section() -> None:
    assert doctor.check_schedule in doctor.run.__code__.co_consts or "check_schedule" in (
        doctor.run.__code__.co_names
    )
    assert [c.name for c in doctor.check_schedule(NOW)][0] == "Window plan"
