"""The alert policy over sequences of readings: crossings, jumps, resets, restarts, holds."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta

from tests.helpers.states import NOW, account_state, error, window_state
from trayapp.core.alert_policy import (
    PolicyConfig,
    PolicyMemory,
    evaluate,
    in_quiet_hours,
    instance_key,
    parse_quiet_hours,
)
from trayapp.core.models import AlertKind, ErrorKind

CFG = PolicyConfig(predictive=False)


def run(seq, config=CFG, memory=None):
    """Feed (state, now) pairs; return every alert fired and the final memory."""
    memory = memory or PolicyMemory()
    fired = []
    for state, now in seq:
        alerts, memory = evaluate(state, config, memory, now, tz=UTC)
        fired.extend(alerts)
    return fired, memory


def five(util, now=NOW, resets_at=None, rate=None):
    resets_at = resets_at or datetime(2026, 8, 10, 14, 0, 0, 482913, tzinfo=UTC)
    return account_state(window_state("five_hour", util, resets_at - now, now, rate=rate), now=now)


def test_each_crossing_fires_once() -> None:
    seq = [
        (five(u, NOW + timedelta(minutes=i * 5)), NOW + timedelta(minutes=i * 5))
        for i, u in enumerate([10, 40, 52, 55, 60, 76, 77, 91, 92])
    ]
    fired, _ = run(seq)
    assert [a.threshold for a in fired] == [50, 75, 90]
    assert all(a.kind is AlertKind.THRESHOLD for a in fired)
    assert fired[2].critical
    assert not fired[0].critical
    # Fired at 12:10 for a window resetting at 14:00:00.48: the countdown truncates to whole minutes.
    assert fired[0].body == "You passed 50% of your 5-hour limit. Resets in 1 h 50 min (14:00)."


def test_jump_over_several_thresholds_gives_one_alert_for_the_highest() -> None:
    fired, memory = run([(five(10), NOW), (five(95), NOW + timedelta(minutes=5))])
    assert [a.threshold for a in fired] == [90]
    # The lower thresholds are implied, so dipping and rising again stays silent.
    more, _ = run(
        [(five(80), NOW + timedelta(minutes=10)), (five(96), NOW + timedelta(minutes=15))], memory=memory
    )
    assert more == []


def test_resets_at_jitter_is_the_same_instance() -> None:
    base = datetime(2026, 8, 10, 14, 0, 0, 482913, tzinfo=UTC)
    seq = [
        (five(51, NOW, base), NOW),
        (five(49, NOW + timedelta(minutes=5), base + timedelta(seconds=1.2)), NOW + timedelta(minutes=5)),
        (five(53, NOW + timedelta(minutes=10), base - timedelta(seconds=0.7)), NOW + timedelta(minutes=10)),
    ]
    fired, _ = run(seq)
    assert [a.threshold for a in fired] == [50]


def test_new_window_instance_fires_again_and_says_fresh() -> None:
    t0 = NOW
    first_reset = datetime(2026, 8, 10, 14, 0, tzinfo=UTC)
    second_reset = first_reset + timedelta(hours=5)
    seq = [
        (five(80, t0, first_reset), t0),
        (five(2, first_reset + timedelta(minutes=1), second_reset), first_reset + timedelta(minutes=1)),
        (five(55, first_reset + timedelta(hours=2), second_reset), first_reset + timedelta(hours=2)),
    ]
    fired, _ = run(seq)
    assert [(a.kind, a.threshold) for a in fired] == [
        (AlertKind.THRESHOLD, 75),
        (AlertKind.FRESH_WINDOW, None),
        (AlertKind.THRESHOLD, 50),
    ]
    assert "had used 80%" in fired[1].body


def test_no_fresh_alert_when_the_window_was_barely_used() -> None:
    first_reset = datetime(2026, 8, 10, 14, 0, tzinfo=UTC)
    seq = [
        (five(30, NOW, first_reset), NOW),
        (five(0, first_reset, first_reset + timedelta(hours=5)), first_reset + timedelta(minutes=2)),
    ]
    fired, _ = run(seq)
    assert fired == []


def test_fresh_alert_can_be_turned_off() -> None:
    first_reset = datetime(2026, 8, 10, 14, 0, tzinfo=UTC)
    seq = [
        (five(60, NOW, first_reset), NOW),
        (five(1, first_reset, first_reset + timedelta(hours=5)), first_reset + timedelta(minutes=2)),
    ]
    fired, _ = run(seq, config=PolicyConfig(predictive=False, fresh_window=False))
    assert [a.kind for a in fired] == [AlertKind.THRESHOLD]


def test_stale_and_failed_readings_never_fire() -> None:
    stale = account_state(window_state("five_hour", 95.0), stale=True)
    failed = account_state(window_state("five_hour", 95.0), error=error(ErrorKind.RATE_LIMITED))
    fired, memory = run([(stale, NOW), (failed, NOW)])
    assert fired == []
    assert memory == PolicyMemory()


def test_restart_with_persisted_memory_does_not_repeat(tmp_path) -> None:
    fired, memory = run([(five(76), NOW)])
    assert [a.threshold for a in fired] == [75]
    path = tmp_path / "alerts.json"
    path.write_text(json.dumps(memory.to_json()))
    restored = PolicyMemory.from_json(json.loads(path.read_text()))
    again, _ = run([(five(77, NOW + timedelta(minutes=5)), NOW + timedelta(minutes=5))], memory=restored)
    assert again == []


def test_corrupt_memory_is_dropped_not_fatal() -> None:
    assert PolicyMemory.from_json("nonsense") == PolicyMemory()
    mem = PolicyMemory.from_json({"fired": {"a": "not a date", "b": NOW.isoformat()}, "windows": {"x": 3}})
    assert list(mem.fired) == ["b"]
    assert mem.windows == {}


def test_weekly_and_scoped_use_weekly_thresholds() -> None:
    cfg = PolicyConfig(five_hour_thresholds=(80,), weekly_thresholds=(60,), predictive=False)
    state = account_state(
        window_state("five_hour", 70.0),
        window_state("seven_day", 65.0, timedelta(days=2)),
        window_state("seven_day_opus", 61.0, timedelta(days=2)),
    )
    fired, _ = run([(state, NOW)], config=cfg)
    assert sorted((a.window_id, a.threshold) for a in fired) == [("seven_day", 60), ("seven_day_opus", 60)]


def test_predictive_fires_once_per_instance() -> None:
    cfg = PolicyConfig(five_hour_thresholds=(100,))
    # 40% now, 30%/h with 2 h left -> 100% after 2 h... exactly at reset: no warning.
    on_edge, _ = run([(five(40, rate=30.0, resets_at=NOW + timedelta(hours=2)), NOW)], config=cfg)
    assert on_edge == []
    reset = NOW + timedelta(hours=2)
    seq = [
        (five(40, NOW + timedelta(minutes=i), resets_at=reset, rate=40.0), NOW + timedelta(minutes=i))
        for i in (0, 5, 10)
    ]
    fired, _ = run(seq, config=cfg)
    assert [a.kind for a in fired] == [AlertKind.PREDICTIVE]
    assert "30 min before the reset" in fired[0].body


def test_predictive_rides_along_with_a_crossing() -> None:
    fired, memory = run(
        [(five(52, rate=40.0, resets_at=NOW + timedelta(hours=2)), NOW)], config=PolicyConfig()
    )
    assert len(fired) == 1
    assert fired[0].threshold == 50
    assert "At this pace" in fired[0].body
    later, _ = run(
        [
            (
                five(53, NOW + timedelta(minutes=5), rate=40.0, resets_at=NOW + timedelta(hours=2)),
                NOW + timedelta(minutes=5),
            )
        ],
        config=PolicyConfig(),
        memory=memory,
    )
    assert later == []


def test_quiet_hours_hold_non_critical_until_they_end() -> None:
    cfg = PolicyConfig(predictive=False, quiet_hours=(time(11, 0), time(12, 30)))
    seq = [(five(60, NOW), NOW), (five(61, NOW + timedelta(minutes=10)), NOW + timedelta(minutes=10))]
    held, memory = run(seq, config=cfg)
    assert held == []
    after = NOW + timedelta(minutes=31)
    fired, _ = run([(five(62, after), after)], config=cfg, memory=memory)
    assert [a.threshold for a in fired] == [50]


def test_quiet_hours_let_critical_alerts_through() -> None:
    cfg = PolicyConfig(predictive=False, quiet_hours=(time(11, 0), time(12, 30)))
    fired, _ = run([(five(93), NOW)], config=cfg)
    assert [a.threshold for a in fired] == [90]


def test_pause_holds_everything_then_delivers_the_highest() -> None:
    cfg = PolicyConfig(predictive=False, paused_until=NOW + timedelta(hours=1))
    seq = [(five(60, NOW), NOW), (five(95, NOW + timedelta(minutes=30)), NOW + timedelta(minutes=30))]
    held, memory = run(seq, config=cfg)
    assert held == []
    after = NOW + timedelta(minutes=61)
    fired, _ = run([(five(96, after), after)], config=cfg, memory=memory)
    assert [a.threshold for a in fired] == [90]


def test_held_fresh_window_waits_in_pending() -> None:
    first_reset = NOW + timedelta(minutes=5)
    cfg = PolicyConfig(predictive=False, paused_until=NOW + timedelta(hours=1))
    _, memory = run([(five(70, NOW, first_reset), NOW)], config=PolicyConfig(predictive=False))
    t1 = NOW + timedelta(minutes=10)
    fired, memory = run([(five(1, t1, first_reset + timedelta(hours=5)), t1)], config=cfg, memory=memory)
    assert fired == []
    assert len(memory.pending) == 1
    t2 = NOW + timedelta(minutes=70)
    fired, memory = run([(five(3, t2, first_reset + timedelta(hours=5)), t2)], config=cfg, memory=memory)
    assert [a.kind for a in fired] == [AlertKind.FRESH_WINDOW]
    assert memory.pending == ()


def test_disabled_alerts_fire_nothing() -> None:
    fired, _ = run([(five(99), NOW)], config=PolicyConfig(enabled=False))
    assert fired == []


def test_quiet_hours_parsing_and_wrapping() -> None:
    assert parse_quiet_hours("") is None
    assert parse_quiet_hours("bad") is None
    q = parse_quiet_hours("22:00-07:00")
    assert q == (time(22, 0), time(7, 0))
    assert in_quiet_hours(datetime(2026, 8, 10, 23, 0, tzinfo=UTC), q, UTC)
    assert in_quiet_hours(datetime(2026, 8, 10, 6, 59, tzinfo=UTC), q, UTC)
    assert not in_quiet_hours(datetime(2026, 8, 10, 7, 0, tzinfo=UTC), q, UTC)
    assert not in_quiet_hours(datetime(2026, 8, 10, 12, 0, tzinfo=UTC), q, UTC)


def test_instance_key_rounds_jitter_to_the_minute() -> None:
    a = datetime(2026, 8, 10, 14, 0, 0, 482913, tzinfo=UTC)
    assert instance_key("five_hour", a) == instance_key("five_hour", a - timedelta(seconds=1))
    assert instance_key("five_hour", None) == "five_hour@none"


def test_an_expired_login_notifies_once_per_episode() -> None:
    """Issue 20: an expired login sent nothing; polling stopped and the numbers silently aged."""
    later = NOW + timedelta(minutes=5)
    signed_out = account_state(
        window_state("five_hour", 40.0), error=error(ErrorKind.AUTH, "Claude Code's login has expired.")
    )
    fired, memory = run([(signed_out, NOW), (signed_out, later), (signed_out, later + timedelta(hours=3))])
    assert [a.kind for a in fired] == [AlertKind.SIGNED_OUT]
    assert fired[0].title == "Monitoring paused: sign in again"
    assert "login has expired" in fired[0].body
    # A good reading ends the episode; the next expiry notifies again.
    fired2, _ = run([(five(40.0, now=later), later), (signed_out, later + timedelta(days=1))], memory=memory)
    assert [a.kind for a in fired2] == [AlertKind.SIGNED_OUT]


def test_other_failures_and_a_pause_do_not_say_sign_in() -> None:
    network = account_state(window_state("five_hour", 40.0), error=error(ErrorKind.NETWORK))
    assert run([(network, NOW)])[0] == []
    signed_out = account_state(window_state("five_hour", 40.0), error=error(ErrorKind.AUTH))
    paused = PolicyConfig(predictive=False, paused_until=NOW + timedelta(hours=1))
    fired, memory = run([(signed_out, NOW)], config=paused)
    assert fired == []  # held, not marked: it comes when the pause ends
    assert [a.kind for a in run([(signed_out, NOW + timedelta(hours=2))], memory=memory)[0]] == [
        AlertKind.SIGNED_OUT
    ]
