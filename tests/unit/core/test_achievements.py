"""Each achievement rule over a constructed history, with the edges at midnight (local days) and at
the reset (finished windows only), and the one announcement for several unlocks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from trayapp.core import achievements as ach
from trayapp.core.achievements import DayUse, History, Poll, Sample, Start
from trayapp.core.models import AlertKind

TZ = ZoneInfo("Europe/Paris")  # UTC+1 in December: local midnight is 23:00 UTC
NOW = datetime(2026, 12, 20, 12, 0, tzinfo=UTC)


def standing(rule: str, h: History) -> ach.Standing:
    return ach.BY_ID[rule].check(h)


def week(resets_at: datetime, *peaks: float, wid: str = "seven_day") -> list[Sample]:
    """Readings of one window instance rising to its peaks, the last an hour before its reset."""
    return [
        Sample(resets_at - timedelta(hours=len(peaks) - i), wid, p, resets_at + timedelta(seconds=i))
        for i, p in enumerate(peaks)
    ]


def test_surfer_needs_a_finished_week_above_90_and_never_100() -> None:
    reset = datetime(2026, 12, 10, 9, 0, tzinfo=UTC)
    ok = History(NOW, TZ, samples=week(reset, 40, 80, 95))
    assert standing("surfer", ok).earned_at == reset + timedelta(seconds=0)
    at_limit = History(NOW, TZ, samples=week(reset, 80, 100))
    assert not standing("surfer", at_limit).earned
    # The edge at the reset: still open one second before it, earned from the reset on.
    assert not standing("surfer", History(reset - timedelta(seconds=1), TZ, samples=week(reset, 95))).earned
    assert standing("surfer", History(reset, TZ, samples=week(reset, 95))).earned
    low = standing("surfer", History(NOW, TZ, samples=week(reset, 45)))
    assert low.progress == 0.5
    assert low.note == "best week: 45%"


def test_steady_hands_is_three_weeks_in_a_row_between_70_and_99() -> None:
    r = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    samples = week(r, 75) + week(r + ach.WEEK, 100) + week(r + 2 * ach.WEEK, 72) + week(r + 3 * ach.WEEK, 88)
    s = standing("steady", History(NOW, TZ, samples=samples))
    assert not s.earned
    assert s.note == "2 of 3 weeks"
    samples += week(r + 4 * ach.WEEK, 91)
    assert standing("steady", History(NOW + ach.WEEK, TZ, samples=samples)).earned_at == r + 4 * ach.WEEK


def test_cool_head_needs_three_five_hour_windows_none_at_the_limit() -> None:
    wr = datetime(2026, 12, 14, 9, 0, tzinfo=UTC)
    fives = [week(wr - timedelta(days=d), 60, wid="five_hour") for d in (1, 2, 3)]
    samples = week(wr, 50) + [s for f in fives for s in f]
    assert standing("cool_head", History(NOW, TZ, samples=samples)).earned_at == wr
    hit = samples + week(wr - timedelta(days=4), 100, wid="five_hour")
    assert not standing("cool_head", History(NOW, TZ, samples=hit)).earned


def test_right_on_time_is_a_finished_five_hour_window_between_80_and_99() -> None:
    r = datetime(2026, 12, 19, 15, 0, tzinfo=UTC)
    assert standing("pacer", History(NOW, TZ, samples=week(r, 30, 85, wid="five_hour"))).earned_at == r
    assert not standing("pacer", History(NOW, TZ, samples=week(r, 99.9, 100, wid="five_hour"))).earned


def five_hour_pair(reset: datetime, peak: float, back_after: timedelta) -> list[Sample]:
    nxt = reset + timedelta(hours=5)
    before = week(reset, peak, wid="five_hour")
    after = [
        Sample(reset + timedelta(minutes=5), "five_hour", 0.0, nxt),
        Sample(reset + back_after, "five_hour", 3.0, nxt),
    ]
    return before + after


def test_fresh_start_and_reset_champion_count_resets_acted_on_within_the_hour() -> None:
    r = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    samples = five_hour_pair(r, 80, timedelta(minutes=30))
    h = History(NOW, TZ, samples=samples)
    assert standing("fresh_start", h).earned_at == r + timedelta(minutes=30)
    late = History(NOW, TZ, samples=five_hour_pair(r, 80, timedelta(minutes=61)))
    assert not standing("fresh_start", late).earned
    barely_used = History(NOW, TZ, samples=five_hour_pair(r, 40, timedelta(minutes=10)))
    assert not standing("fresh_start", barely_used).earned
    many = [s for k in range(5) for s in five_hour_pair(r + timedelta(days=k), 70, timedelta(minutes=10 + k))]
    champ = standing("reset_champion", History(NOW, TZ, samples=many))
    assert champ.earned_at == r + timedelta(days=4, minutes=14)
    assert standing("reset_champion", History(NOW, TZ, samples=many[:-3])).note == "4 of 5"


def polls_daily(first: date, days: int, *, at_429: set[int] = frozenset()) -> list[Poll]:  # type: ignore[assignment]
    out = []
    for k in range(days):
        at = datetime(first.year, first.month, first.day, 10, tzinfo=UTC) + timedelta(days=k)
        out.append(Poll(at, k not in at_429, 429 if k in at_429 else 200))
    return out


def test_zero_429_week_is_a_whole_local_week_polled_without_a_429() -> None:
    monday = date(2026, 11, 30)
    polls = polls_daily(monday, 7)
    week_end = datetime(2026, 12, 6, 23, 0, tzinfo=UTC)  # Monday 7 Dec 00:00 in Paris
    assert standing("zero_429", History(week_end, TZ, polls=polls)).earned_at == week_end
    assert not standing("zero_429", History(week_end - timedelta(seconds=1), TZ, polls=polls)).earned
    with_429 = polls_daily(monday, 7, at_429={3})
    assert not standing("zero_429", History(week_end, TZ, polls=with_429)).earned
    month = polls_daily(monday, 28)
    assert (
        standing("unbroken", History(week_end + 3 * ach.WEEK, TZ, polls=month)).earned_at
        == week_end + 3 * ach.WEEK
    )
    assert standing(
        "unbroken", History(week_end + 3 * ach.WEEK, TZ, polls=polls_daily(monday, 28, at_429={9}))
    ).note == ("2 of 4 weeks")


def day(d: date, share: float = 0.5, entries: int = 10) -> DayUse:
    return DayUse(d, input=int(1000 * (1 - share)), cache_read=int(1000 * share), entries=entries)


def test_cache_whisperer_is_a_complete_local_day_at_90_percent_cache_reads() -> None:
    d = date(2026, 12, 18)
    midnight = datetime(2026, 12, 18, 23, 0, tzinfo=UTC)  # 19 Dec 00:00 in Paris
    h = History(midnight, TZ, days=[day(d, 0.92)])
    assert standing("cache_whisperer", h).earned_at == midnight
    assert not standing(
        "cache_whisperer", History(midnight - timedelta(minutes=1), TZ, days=[day(d, 0.92)])
    ).earned
    assert not standing("cache_whisperer", History(NOW, TZ, days=[day(d, 0.89)])).earned
    assert not standing("cache_whisperer", History(NOW, TZ, days=[day(d, 0.99, entries=2)])).earned


def test_cache_sage_needs_seven_consecutive_days_at_80() -> None:
    first = date(2026, 12, 1)
    days = [day(first + timedelta(days=k), 0.85) for k in range(7)]
    assert standing("cache_sage", History(NOW, TZ, days=days)).earned
    gap = days[:3] + days[4:]
    assert standing("cache_sage", History(NOW, TZ, days=gap)).note == "3 of 7 days"


def test_streak_forgives_one_missed_day_a_week() -> None:
    first = date(2026, 12, 1)
    active = [0, 1, 2, 4, 5, 6, 7]  # day 3 missed: the week's freeze
    days = [day(first + timedelta(days=k)) for k in active]
    got = standing("streak", History(NOW, TZ, days=days))
    assert got.earned_at == ach.day_end(first + timedelta(days=7), TZ)
    two_gaps = [day(first + timedelta(days=k)) for k in (0, 1, 3, 5, 6, 7, 8)]  # days 2 and 4 missed
    assert not standing("streak", History(NOW, TZ, days=two_gaps)).earned
    assert standing("marathon", History(NOW, TZ, days=days)).note == "7 of 30 days"


def test_weekend_off_is_a_quiet_weekend_between_working_days() -> None:
    friday = date(2026, 12, 11)
    days = [day(friday), day(friday + timedelta(days=3))]
    assert standing("weekend_off", History(NOW, TZ, days=days)).earned_at == ach.day_end(
        friday + timedelta(days=3), TZ
    )
    busy = [*days, day(friday + timedelta(days=1))]
    assert not standing("weekend_off", History(NOW, TZ, days=busy)).earned


def test_early_bird_is_a_verified_scheduled_start_and_watcher_the_first_reading() -> None:
    at = datetime(2026, 12, 5, 6, 0, tzinfo=UTC)
    h = History(NOW, TZ, starts=[Start(at - timedelta(days=1), False, "07:00"), Start(at, True, None)])
    assert not standing("early_bird", h).earned  # by hand or unverified: not yet
    assert standing("early_bird", History(NOW, TZ, starts=[Start(at, True, "07:00")])).earned_at == at
    assert standing("watcher", History(NOW, TZ, samples=week(at, 5))).earned


def test_at_least_twelve_rules_with_names_descriptions_glyphs_and_palette_colours() -> None:
    from trayapp.core.models import Level
    from trayapp.core.palette import ICON

    assert len(ach.RULES) >= 12
    assert len({r.id for r in ach.RULES}) == len(ach.RULES)
    for r in ach.RULES:
        assert r.name
        assert r.description.endswith(".")
        assert r.glyph
        assert Level(r.colour) in ICON.levels
    assert all(not s.earned for s in ach.evaluate(History(NOW, TZ)))


def test_several_unlocks_make_one_announcement_and_known_ones_none() -> None:
    reset = datetime(2026, 12, 10, 9, 0, tzinfo=UTC)
    h = History(NOW, TZ, samples=week(reset, 95) + week(reset - timedelta(days=1), 85, wid="five_hour"))
    new = ach.new_unlocks(ach.evaluate(h), [])
    assert [s.rule_id for s in new] == ["watcher", "pacer", "surfer"]
    alert = ach.announcement(new, NOW)
    assert alert is not None
    assert alert.kind is AlertKind.ACHIEVEMENT
    assert alert.title == "3 achievements unlocked"
    assert alert.body.splitlines()[0].startswith("Watcher: ")
    one = ach.announcement(new[:1], NOW)
    assert one is not None
    assert one.title == "Achievement unlocked: Watcher"
    assert ach.new_unlocks(ach.evaluate(h), ["watcher", "pacer", "surfer"]) == []
    assert ach.announcement([], NOW) is None
