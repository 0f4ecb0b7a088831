"""Derived-state math: burn rate, projections, binding limit, staleness."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from trayapp.core.derive import binding, burn_rate, derive_state, window_state
from trayapp.core.models import ErrorKind, FetchError, Level, Source, UsageSnapshot, Window, WindowKind

NOW = datetime(2026, 8, 10, 12, 0, tzinfo=UTC)
RESET = NOW + timedelta(hours=2)  # the 5-hour window started at 09:00


def five(util: float, resets: datetime | None = RESET) -> Window:
    return Window("five_hour", "5-hour", WindowKind.FIVE_HOUR, util, resets, timedelta(hours=5))


def test_burn_rate_from_samples_of_current_instance_only() -> None:
    w = five(40.0)
    samples = [
        (NOW - timedelta(hours=6), 90.0, NOW - timedelta(hours=3)),  # previous instance: excluded
        (NOW - timedelta(hours=2), 20.0, RESET + timedelta(microseconds=150)),  # jittered resets_at
        (NOW - timedelta(hours=1), 30.0, RESET),
    ]
    assert burn_rate(w, samples, NOW, NOW) == pytest.approx(10.0)


def test_burn_rate_fallback_is_utilization_over_elapsed() -> None:
    # 3 h into the window at 45 % -> 15 %/h
    assert burn_rate(five(45.0), [], NOW, NOW) == pytest.approx(15.0)
    assert burn_rate(five(45.0, None), [], NOW, NOW) is None
    # just started: no meaningful rate
    assert burn_rate(five(1.0, NOW + timedelta(hours=4, minutes=58)), [], NOW, NOW) is None


def test_projection_and_time_of_full() -> None:
    ws = window_state(five(45.0), [], NOW, NOW)
    assert ws.level is Level.OK
    assert ws.time_to_reset == timedelta(hours=2)
    assert ws.projected_at_reset == pytest.approx(75.0)
    assert ws.projected_full_at is None  # 75 % at reset: never full
    hot = window_state(five(60.0), [(NOW - timedelta(hours=1), 30.0, RESET)], NOW, NOW)
    assert hot.burn_rate_per_hour == pytest.approx(30.0)
    assert hot.projected_at_reset == pytest.approx(120.0)
    assert hot.projected_full_at == NOW + timedelta(hours=4 / 3)
    assert hot.level is Level.OK
    assert window_state(five(92.0), [], NOW, NOW).level is Level.CRITICAL


def test_projection_from_an_old_reading_advances_to_now() -> None:
    at = NOW - timedelta(minutes=30)
    ws = window_state(five(45.0), [(at - timedelta(hours=1), 35.0, RESET)], NOW, at)
    # 10 %/h; at reading 45 %, now ~50 %, at reset +20 -> 70 %
    assert ws.projected_at_reset == pytest.approx(70.0)


def test_window_that_already_reset_shows_zero() -> None:
    ws = window_state(five(97.0, NOW - timedelta(minutes=1)), [], NOW, NOW - timedelta(hours=1))
    assert ws.window.utilization == 0
    assert ws.level is Level.OK
    assert ws.time_to_reset is None


def test_binding_is_closest_to_cap_including_scoped() -> None:
    week = Window("seven_day", "Weekly", WindowKind.WEEKLY, 40.0, NOW + timedelta(days=3), timedelta(days=7))
    fable = Window(
        "weekly_scoped:Fable 5",
        "Weekly · Fable 5",
        WindowKind.WEEKLY_SCOPED,
        81.0,
        NOW + timedelta(days=3),
        timedelta(days=7),
    )
    states = [window_state(w, [], NOW, NOW) for w in (five(50.0), week, fable)]
    b = binding(states)
    assert b is not None
    assert b.window.id == "weekly_scoped:Fable 5"
    assert binding([]) is None


def test_staleness_rules() -> None:
    interval = timedelta(minutes=5)
    api = UsageSnapshot(NOW - timedelta(minutes=9), Source.API, (five(10.0),))
    assert not derive_state(api, {}, NOW, interval=interval).stale
    old = UsageSnapshot(NOW - timedelta(minutes=11), Source.API, (five(10.0),))
    assert derive_state(old, {}, NOW, interval=interval).stale
    line = UsageSnapshot(NOW - timedelta(minutes=11), Source.STATUSLINE, (five(10.0),))
    assert derive_state(line, {}, NOW, interval=timedelta(minutes=30)).stale
    err = FetchError(ErrorKind.NETWORK, "offline")
    state = derive_state(api, {}, NOW, interval=interval, error=err)
    assert state.stale
    assert state.level is Level.STALE
    assert state.age_seconds == 540
    empty = derive_state(None, {}, NOW, interval=interval, error=err)
    assert empty.level is Level.ERROR
    assert empty.snapshot is None


def test_fast_polling_needs_a_shorter_span_for_a_slope() -> None:
    # The demo polls every 20 s: three polls (1 min) of samples are enough for a slope there.
    samples = [(NOW - timedelta(minutes=1), 40.0, RESET)]
    states = derive_state(
        UsageSnapshot(NOW, Source.DEMO, (five(41.0),)),
        {"five_hour": samples},
        NOW,
        interval=timedelta(seconds=20),
    ).windows
    assert states[0].burn_rate_per_hour == pytest.approx(60.0)
    slow = derive_state(
        UsageSnapshot(NOW, Source.API, (five(41.0),)),
        {"five_hour": samples},
        NOW,
        interval=timedelta(minutes=5),
    ).windows
    assert slow[0].burn_rate_per_hour == pytest.approx(41.0 / 3)  # fallback: 3 h into the window
