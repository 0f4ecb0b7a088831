"""Poll policy over a FakeClock: cadence, 429 cooldowns, backoff, auth stop, manual throttle, wake."""

from __future__ import annotations

import random
from datetime import timedelta

from trayapp.core.clock import FakeClock
from trayapp.core.models import ErrorKind
from trayapp.core.poll_policy import BACKOFF_CAP, MIN_INTERVAL, PollPolicy, Wait

KEY = "a" * 64


def policy(clock: FakeClock, minutes: int = 5, seed: int = 1) -> PollPolicy:
    return PollPolicy(clock, timedelta(minutes=minutes), rng=random.Random(seed))


def test_first_poll_immediately_then_every_interval() -> None:
    clock = FakeClock()
    p = policy(clock)
    assert p.decide(KEY, "s").go
    p.attempted()
    p.record_success()
    d = p.decide(KEY, "s")
    assert not d.go
    assert d.reason is Wait.SCHEDULE
    assert d.at == clock.now() + timedelta(minutes=5)
    clock.advance(299)
    assert not p.decide(KEY, "s").go
    clock.advance(1)
    assert p.decide(KEY, "s").go


def test_interval_has_a_floor() -> None:
    assert policy(FakeClock(), minutes=1).interval == MIN_INTERVAL


def test_429_cooldown_per_token_and_restorable() -> None:
    clock = FakeClock()
    p = policy(clock)
    retry = clock.now() + timedelta(minutes=20)
    p.attempted()
    p.record_failure(ErrorKind.RATE_LIMITED, KEY, retry_at=retry)
    d = p.decide(KEY, "s")
    assert (d.go, d.reason, d.at) == (False, Wait.COOLDOWN, retry)
    # Manual refresh does not bypass a 429.
    clock.advance(60)
    assert p.decide(KEY, "s", manual=True).reason is Wait.COOLDOWN
    # Another token (a re-login) has its own bucket.
    assert p.decide("b" * 64, "s2").go
    # A restart restores the cooldown from the store.
    p2 = PollPolicy(clock, timedelta(minutes=5), cooldowns=p.cooldowns())
    assert p2.decide(KEY, "s").reason is Wait.COOLDOWN
    assert p2.next_poll_at(KEY) == retry
    clock.advance(19 * 60)
    assert p2.decide(KEY, "s").go
    assert p2.cooldowns() == {}


def test_429_cooldown_only_grows() -> None:
    clock = FakeClock()
    p = policy(clock)
    p.record_failure(ErrorKind.RATE_LIMITED, KEY, retry_at=clock.now() + timedelta(minutes=30))
    p.record_failure(ErrorKind.RATE_LIMITED, KEY, retry_at=clock.now() + timedelta(minutes=5))
    assert p.cooldown_until(KEY) == clock.now() + timedelta(minutes=30)


def test_backoff_grows_with_jitter_and_caps() -> None:
    clock = FakeClock()
    p = policy(clock, seed=7)
    delays = []
    for _ in range(10):
        p.attempted()
        p.record_failure(ErrorKind.SERVER, KEY)
        d = p.decide(KEY, "s")
        assert d.reason is Wait.BACKOFF
        assert d.at is not None
        delays.append(d.at - clock.now())
        clock.advance((d.at - clock.now()).total_seconds())
        assert p.decide(KEY, "s").go
    assert timedelta(seconds=30) <= delays[0] <= timedelta(minutes=1)
    assert timedelta(minutes=1) <= delays[1] <= timedelta(minutes=2)
    assert all(d <= BACKOFF_CAP for d in delays)
    assert max(delays) >= BACKOFF_CAP / 2
    assert len(set(delays)) == len(delays)  # jittered
    p.attempted()
    p.record_success()
    assert p.failures == 0
    assert p.decide(KEY, "s").reason is Wait.SCHEDULE


def test_backoff_depends_on_injected_rng() -> None:
    a = [policy(FakeClock(), seed=3).backoff_delay(4) for _ in range(2)]
    assert a[0] == a[1]
    assert policy(FakeClock(), seed=3).backoff_delay(4) != policy(FakeClock(), seed=4).backoff_delay(4)


def test_auth_failure_stops_until_credentials_change() -> None:
    clock = FakeClock()
    p = policy(clock)
    p.attempted()
    p.record_failure(ErrorKind.AUTH, KEY, stamp="stamp-1")
    for _ in range(5):
        clock.advance(3600)
        d = p.decide(KEY, "stamp-1")
        assert (d.go, d.reason, d.at) == (False, Wait.AUTH, None)
    assert p.next_poll_at(KEY) is None
    assert p.decide(KEY, "stamp-2").go  # the file changed: try again
    assert not p.blocked


def test_manual_refresh_throttled_to_30s() -> None:
    clock = FakeClock()
    p = policy(clock)
    assert p.decide(KEY, "s", manual=True).go
    p.attempted()
    p.record_success()
    clock.advance(10)
    d = p.decide(KEY, "s", manual=True)
    assert (d.go, d.reason) == (False, Wait.THROTTLE)
    assert d.at == clock.now() + timedelta(seconds=20)
    clock.advance(20)
    assert p.decide(KEY, "s", manual=True).go  # bypasses the 5-minute schedule


def test_manual_throttle_from_persisted_last_attempt() -> None:
    clock = FakeClock()
    p = PollPolicy(clock, last_attempt=clock.now() - timedelta(seconds=5))
    assert p.decide(KEY, "s", manual=True).reason is Wait.THROTTLE


def test_wake_from_sleep_gives_one_jittered_poll_not_a_burst() -> None:
    clock = FakeClock()
    p = policy(clock)
    p.attempted()
    p.record_success()
    clock.advance(60)
    assert not p.decide(KEY, "s").go
    clock.jump_wall(6 * 3600)  # suspended for six hours: the monotonic clock stood still
    d = p.decide(KEY, "s")
    assert not d.go
    assert d.at is not None
    wait = (d.at - clock.now()).total_seconds()
    assert 5 <= wait <= 45
    clock.advance(wait)
    polls = 0
    for _ in range(60):  # a minute of eager ticking after the wake
        if p.decide(KEY, "s").go:
            polls += 1
            p.attempted()
            p.record_success()
        clock.advance(1)
    assert polls == 1


def test_small_clock_drift_is_not_a_wake() -> None:
    clock = FakeClock()
    p = policy(clock)
    p.attempted()
    p.record_success()
    clock.advance(300)
    clock.jump_wall(30)
    assert p.decide(KEY, "s").go


def test_min_interval_is_configurable_for_the_demo_only() -> None:
    p = PollPolicy(FakeClock(), timedelta(seconds=20), min_interval=timedelta(seconds=20))
    assert p.interval == timedelta(seconds=20)
    p.set_interval(timedelta(seconds=1))
    assert p.interval == timedelta(seconds=20)
