"""The window scheduler's plan math: rules, presets, DST, midnight wrap, weekdays, sleep gaps, grace,
coverage, planning from the server's reset and the weekly pace."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from trayapp.core.schedule import (
    ALL_DAYS,
    GRACE,
    PRESETS,
    WEEKDAYS,
    Anchor,
    Plan,
    PlanError,
    anchor_instant,
    anchors_on,
    coverage,
    due_between,
    format_days,
    from_preset,
    next_anchor,
    parse_at,
    parse_days,
    plan_from_reset,
    preset_label,
    validate,
    weekly_pace,
    window_key,
    window_open,
    with_anchor,
    without_anchor,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def at(h: int, m: int = 0, days: frozenset[int] = ALL_DAYS) -> Anchor:
    return Anchor(time(h, m), days)


def local(tz: ZoneInfo, *args: int) -> datetime:
    return datetime(*args, tzinfo=tz).astimezone(UTC)  # type: ignore[misc]


# --- rules --------------------------------------------------------------------------------------


def test_presets_are_valid_and_labelled() -> None:
    assert {k: v[0] for k, v in PRESETS.items()} == {
        "work_day": "Work day",
        "24_7": "24/7",
        "night_owl": "Night owl",
    }
    for name in PRESETS:
        plan = from_preset(name)
        assert validate(plan) is plan
        assert preset_label(plan) == PRESETS[name][0]
    assert [a.id for a in PRESETS["24_7"][1]] == ["00:00", "06:00", "12:00", "18:00"]
    assert all(a.days == WEEKDAYS for a in PRESETS["work_day"][1])
    assert preset_label(Plan()) == "Custom"


def test_anchors_closer_than_five_hours_are_refused_with_names() -> None:
    with pytest.raises(PlanError, match="08:00 and 11:00 on Mon are 3 h apart; anchors need 5 h"):
        validate(Plan((at(8), at(11))))
    validate(Plan((at(8), at(13))))  # exactly 5 h is fine


def test_midnight_wrap_counts() -> None:
    with pytest.raises(PlanError, match="22:00 on Mon and 01:00 on Tue are 3 h apart"):
        validate(Plan((at(22), at(1), at(12))))
    # Only on days where both apply: 22:00 on Friday, 01:00 on weekdays: Fri->Sat has no 01:00,
    # but Sun->Mon has no 22:00 either; Mon..Thu 22:00 are absent, so the plan is fine.
    validate(Plan((Anchor(time(22), frozenset({4})), Anchor(time(1), WEEKDAYS))))
    with pytest.raises(PlanError, match="on Sun and 01:00 on Mon"):
        validate(Plan((Anchor(time(22), frozenset({6})), Anchor(time(1), WEEKDAYS))))


def test_weekday_rules_limit_and_duplicates() -> None:
    five = tuple(at(h) for h in (0, 5, 10, 15, 20))  # 20 -> 0 wraps at 4 h anyway
    with pytest.raises(PlanError):
        validate(Plan(five))
    with pytest.raises(PlanError, match="at most 4 a day"):
        validate(Plan(tuple(at(h, 0) for h in (0, 5)) + (at(10, 0), at(15, 0), at(19, 59))))
    with pytest.raises(PlanError, match="appears twice"):
        validate(Plan((Anchor(time(7), WEEKDAYS), Anchor(time(7), frozenset({5, 6})))))
    with pytest.raises(PlanError, match="weekdays"):
        validate(Plan((Anchor(time(7), frozenset()),)))
    with pytest.raises(PlanError, match="time zone"):
        validate(Plan((at(7),), paused_until=datetime(2026, 1, 1)))
    # Different weekdays do not meet: 08:00 on weekdays and 10:00 at the weekend is fine.
    validate(Plan((Anchor(time(8), WEEKDAYS), Anchor(time(10), frozenset({5, 6})))))


def test_anchors_on_by_weekday_in_order() -> None:
    plan = Plan((at(18), Anchor(time(7), WEEKDAYS), at(12)))
    assert [a.id for a in anchors_on(plan, date(2026, 12, 5))] == ["12:00", "18:00"]  # Saturday
    assert [a.id for a in anchors_on(plan, date(2026, 12, 4))] == ["07:00", "12:00", "18:00"]


# --- DST ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "day", "expected_local"),
    [
        (BERLIN, date(2026, 3, 29), datetime(2026, 3, 29, 3, 0)),  # 02:30 does not exist
        (NEW_YORK, date(2026, 3, 8), datetime(2026, 3, 8, 3, 0)),
    ],
)
def test_spring_forward_gap_moves_to_its_end(tz: ZoneInfo, day: date, expected_local: datetime) -> None:
    instant = anchor_instant(at(2, 30), day, tz)
    assert instant.tzinfo is UTC
    assert instant.astimezone(tz).replace(tzinfo=None) == expected_local


@pytest.mark.parametrize(
    ("tz", "day", "utc_hour"),
    [(BERLIN, date(2026, 10, 25), 0), (NEW_YORK, date(2026, 11, 1), 5)],
)
def test_fall_back_fires_at_the_first_occurrence(tz: ZoneInfo, day: date, utc_hour: int) -> None:
    instant = anchor_instant(at(1, 30) if tz is NEW_YORK else at(2, 30), day, tz)
    assert instant == datetime(day.year, day.month, day.day, utc_hour, 30, tzinfo=UTC)
    # and it fires once: a tick across both occurrences sees it one time
    plan = Plan((at(1, 30) if tz is NEW_YORK else at(2, 30),))
    dues = due_between(plan, instant - timedelta(hours=1), instant + timedelta(hours=2), tz)
    assert [d.at for d in dues] == [instant]


def test_window_across_dst_is_five_elapsed_hours() -> None:
    assert coverage(at(0), date(2026, 3, 29), BERLIN) == "00:00 -> window 00:00-06:00, next free at 06:00"
    assert coverage(at(0), date(2026, 10, 25), BERLIN) == "00:00 -> window 00:00-04:00, next free at 04:00"
    assert coverage(at(6), date(2026, 12, 3), BERLIN) == "06:00 -> window 06:00-11:00, next free at 11:00"


def test_next_anchor_across_spring_forward() -> None:
    plan = Plan((at(2, 30), at(12)))
    now = local(BERLIN, 2026, 3, 29, 1, 0)
    anchor, when = next_anchor(plan, now, BERLIN) or (None, None)
    assert anchor is not None
    assert anchor.id == "02:30"
    assert when == local(BERLIN, 2026, 3, 29, 3, 0)


# --- next anchor, pause, midnight ---------------------------------------------------------------


def test_next_anchor_wraps_midnight_and_weekdays() -> None:
    plan = from_preset("work_day")
    friday_evening = local(BERLIN, 2026, 12, 4, 20, 0)
    anchor, when = next_anchor(plan, friday_evening, BERLIN) or (None, None)
    assert anchor is not None
    assert anchor.id == "07:00"
    assert when == local(BERLIN, 2026, 12, 7, 7, 0)  # Monday
    # strictly after: at exactly 07:00 the next one is 12:00
    anchor, when = next_anchor(plan, local(BERLIN, 2026, 12, 7, 7, 0), BERLIN) or (None, None)
    assert anchor is not None
    assert anchor.id == "12:00"
    night = Plan((at(0), at(14), at(19)))
    assert next_anchor(night, local(BERLIN, 2026, 12, 3, 23, 59), BERLIN) == (
        at(0),
        local(BERLIN, 2026, 12, 4, 0, 0),
    )


def test_next_anchor_after_pause_and_none_when_disabled() -> None:
    pause_end = local(BERLIN, 2026, 12, 10, 12, 0)
    plan = Plan((at(12), at(18)), paused_until=pause_end)
    assert next_anchor(plan, local(BERLIN, 2026, 12, 3, 9, 0), BERLIN) == (at(12), pause_end)
    assert next_anchor(Plan((at(12),), enabled=False), local(BERLIN, 2026, 12, 3, 9), BERLIN) is None
    assert next_anchor(Plan(), local(BERLIN, 2026, 12, 3, 9), BERLIN) is None


# --- due_between: ticks, sleep, grace ------------------------------------------------------------


def test_due_on_a_normal_tick_once() -> None:
    plan = Plan((at(7), at(12)))
    t0 = local(BERLIN, 2026, 12, 3, 6, 59)
    t1 = t0 + timedelta(minutes=1)
    dues = due_between(plan, t0, t1, BERLIN)
    assert [(d.anchor.id, d.missed, d.late) for d in dues] == [("07:00", False, timedelta(0))]
    assert due_between(plan, t1, t1 + timedelta(minutes=1), BERLIN) == []  # never twice


def test_sleep_gap_fires_within_grace_and_misses_older() -> None:
    plan = Plan((at(7), at(12), at(18)))
    asleep = local(BERLIN, 2026, 12, 3, 6, 0)
    woke = local(BERLIN, 2026, 12, 3, 12, 10)
    dues = due_between(plan, asleep, woke, BERLIN)
    assert [(d.anchor.id, d.missed) for d in dues] == [("07:00", True), ("12:00", False)]
    # just outside the grace: missed too
    late = local(BERLIN, 2026, 12, 3, 12, 0) + GRACE + timedelta(seconds=1)
    assert [d.missed for d in due_between(plan, asleep, late, BERLIN)] == [True, True]


def test_due_midnight_wrap_and_bounded_lookback() -> None:
    plan = Plan((at(0), at(14), at(19)))
    before = local(BERLIN, 2026, 12, 3, 23, 58)
    dues = due_between(plan, before, before + timedelta(minutes=5), BERLIN)
    assert [d.at for d in dues] == [local(BERLIN, 2026, 12, 4, 0, 0)]
    month_asleep = due_between(plan, before - timedelta(days=30), before, BERLIN)
    assert 0 < len(month_asleep) <= 3 * 8
    assert all(d.missed for d in month_asleep)
    assert [d.at for d in month_asleep] == sorted(d.at for d in month_asleep)


def test_due_nothing_when_paused_disabled_or_clock_backwards() -> None:
    now = local(BERLIN, 2026, 12, 3, 12, 1)
    plan = Plan((at(12),))
    assert due_between(plan, now - timedelta(minutes=5), now - timedelta(minutes=10), BERLIN) == []
    assert due_between(Plan((at(12),), enabled=False), now - timedelta(minutes=5), now, BERLIN) == []
    paused = Plan((at(12),), paused_until=now + timedelta(hours=1))
    assert due_between(paused, now - timedelta(minutes=5), now, BERLIN) == []
    # a pause that ended in between: anchors inside it are not due
    ended = Plan((at(12),), paused_until=now - timedelta(seconds=30))
    assert due_between(ended, now - timedelta(minutes=5), now, BERLIN) == []


# --- windows, plan from the server's reset --------------------------------------------------------


def test_window_open() -> None:
    now = datetime(2026, 12, 3, 12, tzinfo=UTC)
    assert window_open(now + timedelta(seconds=1), now)
    assert not window_open(now, now)
    assert not window_open(None, now)


def test_plan_from_reset_starts_at_the_servers_reset() -> None:
    plan = Plan((at(7), at(12), at(18)))
    now = local(BERLIN, 2026, 12, 3, 8, 0)
    resets = local(BERLIN, 2026, 12, 3, 12, 3) + timedelta(seconds=27)  # not on the hour
    rows = plan_from_reset(plan, resets, now, BERLIN)
    assert [(a.id, s, e) for a, s, e in rows] == [
        ("12:00", resets, resets + timedelta(hours=5)),
        ("18:00", local(BERLIN, 2026, 12, 3, 18, 0), local(BERLIN, 2026, 12, 3, 23, 0)),
    ]
    # a reset that slid later pushes the chain
    slid = local(BERLIN, 2026, 12, 3, 14, 0)
    rows = plan_from_reset(plan, slid, now, BERLIN)
    assert [(s, e) for _, s, e in rows][1] == (slid + timedelta(hours=5), slid + timedelta(hours=10))
    # no window (or a past reset): each anchor at its own time
    for reset in (None, now - timedelta(hours=1)):
        rows = plan_from_reset(plan, reset, now, BERLIN)
        assert [s for _, s, _ in rows] == [local(BERLIN, 2026, 12, 3, 12), local(BERLIN, 2026, 12, 3, 18)]
    assert plan_from_reset(Plan((at(12),), enabled=False), None, now, BERLIN) == []


# --- weekly pace -----------------------------------------------------------------------------------


def test_weekly_pace_runs_out_before_reset() -> None:
    now = local(BERLIN, 2026, 12, 3, 10, 0)  # Thursday
    advice = weekly_pace(40.0, now + timedelta(days=3), 2.0, now, BERLIN)
    assert advice.runs_out_at == now + timedelta(hours=30)
    assert advice.percent_per_day == 20.0
    assert advice.text == (
        "At this pace the weekly limit runs out Fri 16:00; "
        "about 20% a day keeps you inside it until the reset."
    )


def test_weekly_pace_lasts_or_unknown_rate() -> None:
    now = local(BERLIN, 2026, 12, 3, 10, 0)
    lasts = weekly_pace(40.0, now + timedelta(days=3), 0.1, now, BERLIN)
    assert lasts.runs_out_at is None
    assert "lasts until the reset (Sun 10:00)" in lasts.text
    unknown = weekly_pace(40.0, now + timedelta(hours=6), None, now, BERLIN)
    assert unknown.percent_per_day == 60.0  # less than a day left: the whole rest
    assert unknown.text.startswith("About 60% a day keeps you inside the weekly limit")
    no_reset = weekly_pace(30.0, None, None, now, BERLIN)
    assert no_reset.percent_per_day == 10.0
    done = weekly_pace(100.0, now + timedelta(days=1), 5.0, now, BERLIN)
    assert done.runs_out_at == now
    assert done.percent_per_day == 0.0


# --- helpers -------------------------------------------------------------------------------------


def test_parse_and_format_days() -> None:
    assert parse_days("mon-fri") == WEEKDAYS
    assert parse_days("sat,sun") == frozenset({5, 6})
    assert parse_days("all") == ALL_DAYS
    assert parse_days("fri-mon") == frozenset({4, 5, 6, 0})
    assert parse_days("Monday,wed") == frozenset({0, 2})
    for bad in ("", "funday", "mon-", "mon-tue-wed"):
        with pytest.raises(PlanError):
            parse_days(bad)
    assert [format_days(d) for d in (ALL_DAYS, WEEKDAYS, frozenset({5, 6}))] == ["all", "mon-fri", "sat,sun"]


def test_parse_at_and_editing() -> None:
    assert parse_at("7:05") == time(7, 5)
    for bad in ("24:00", "7", "07:5", "ab:cd", "07:60"):
        with pytest.raises(PlanError):
            parse_at(bad)
    plan = with_anchor(from_preset("work_day"), Anchor(time(18), WEEKDAYS))
    assert plan.preset == "custom"
    assert [a.id for a in plan.anchors] == ["07:00", "12:00", "18:00"]
    with pytest.raises(PlanError):
        with_anchor(plan, at(14))
    assert [a.id for a in without_anchor(plan, "12:00").anchors] == ["07:00", "18:00"]
    with pytest.raises(PlanError, match="no anchor at 09:00"):
        without_anchor(plan, "09:00")


def test_window_key() -> None:
    assert window_key(None) == "none"
    assert window_key(datetime(2026, 12, 3, 12, 3, 27, tzinfo=UTC)) == "2026-12-03T12:03Z"
    assert window_key(datetime(2026, 12, 3, 13, 3, 59, tzinfo=BERLIN)) == "2026-12-03T12:03Z"
