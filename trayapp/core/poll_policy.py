"""When to call the usage endpoint next: pure scheduling math over an injected Clock.

Rules (the endpoint rate-limits per token and hard, so politeness is the whole point):

- Normal cadence: every ``interval`` (at least 2 minutes).
- 429: wait until ``retry_at`` (from ``Retry-After``), remembered per token. The cooldown key is
  the token's SHA-256, never the token; :meth:`PollPolicy.cooldowns` exposes them so the caller
  can persist them across restarts, and ``cooldowns=`` restores them.
- 5xx, timeouts, network errors, garbage bodies and unexpected internal errors: exponential
  backoff with jitter (from 1 minute, doubling, capped at 30 minutes), jitter from an injectable
  RNG.
- Every attempt reserves a backoff step before the request goes out (:meth:`PollPolicy.attempted`),
  so whatever happens next (an exception anywhere, no outcome recorded at all) the next scheduled
  attempt is at least one step away: never more than one request per step.
- 401/403 and missing credentials: stop until the credential source changes (its stamp).
- Manual refresh: at most once per 30 s; :meth:`PollPolicy.manual` says when it would be allowed.
  A manual refresh never bypasses a 429 cooldown.
- Wake from sleep (the wall clock moved much further than the monotonic clock): an overdue poll
  is pushed a jittered few seconds out, so a wake causes at most one poll, never a burst.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from trayapp.core.clock import Clock
from trayapp.core.models import ErrorKind

MIN_INTERVAL = timedelta(minutes=2)
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_CAP = timedelta(minutes=30)
MANUAL_THROTTLE = timedelta(seconds=30)
WAKE_GAP = timedelta(seconds=90)  # wall minus monotonic drift that counts as a sleep
WAKE_JITTER = (5.0, 45.0)  # seconds after a wake before the one catch-up poll


class Wait(StrEnum):
    """Why a poll is not due now."""

    NONE = "none"
    SCHEDULE = "schedule"
    COOLDOWN = "cooldown"  # 429
    BACKOFF = "backoff"
    AUTH = "auth"  # until the credentials change
    THROTTLE = "throttle"  # manual refresh too soon


@dataclass(frozen=True, slots=True)
class Decision:
    go: bool
    reason: Wait
    # When the poll would be allowed (None: not until the credentials change).
    at: datetime | None


class PollPolicy:
    """Mutable scheduling state plus pure rules. Not thread-safe; one owner (the engine)."""

    def __init__(
        self,
        clock: Clock,
        interval: timedelta = timedelta(minutes=5),
        *,
        rng: random.Random | None = None,
        cooldowns: dict[str, datetime] | None = None,
        last_attempt: datetime | None = None,
        min_interval: timedelta = MIN_INTERVAL,
    ) -> None:
        self.clock = clock
        # The floor protects the real endpoint; only the demo simulator lowers it.
        self.min_interval = min_interval
        self.interval = max(interval, min_interval)
        self.rng = rng or random.Random()
        self._cooldowns: dict[str, datetime] = dict(cooldowns or {})
        self.failures = 0
        self._next_due: datetime | None = None  # None: poll as soon as asked
        self._backoff_until: datetime | None = None
        self._blocked_stamp: str | None = None
        self._blocked = False
        self._token_key: str | None = None
        self.last_attempt = last_attempt
        self._anchor = (clock.now(), clock.monotonic())

    # --- queries -----------------------------------------------------------------------------

    def cooldowns(self) -> dict[str, datetime]:
        """Live per-token cooldowns (expired ones dropped), for persisting."""
        now = self.clock.now()
        self._cooldowns = {k: v for k, v in self._cooldowns.items() if v > now}
        return dict(self._cooldowns)

    def cooldown_until(self, token_key: str | None) -> datetime | None:
        until = self._cooldowns.get(token_key or "")
        return until if until and until > self.clock.now() else None

    @property
    def blocked(self) -> bool:
        return self._blocked

    def decide(self, token_key: str | None, stamp: str | None, *, manual: bool = False) -> Decision:
        """May we call the endpoint now with this token (``stamp``: the credentials' stamp)?"""
        now = self.clock.now()
        self._check_wake(now)
        if self._blocked:
            if stamp == self._blocked_stamp and not manual:
                return Decision(False, Wait.AUTH, None)
            self._blocked = False  # the credentials changed (or the user insists): try again
            self._next_due = None
        if token_key is not None and token_key != self._token_key:
            if self._token_key is not None:
                # A new login (re-login, account switch) has its own budget: no reason to wait.
                self._next_due = None
                self._backoff_until = None
                self.failures = 0
            self._token_key = token_key
        cooldown = self.cooldown_until(token_key)
        if cooldown is not None:
            return Decision(False, Wait.COOLDOWN, cooldown)
        if manual:
            if self.last_attempt is not None and timedelta(0) <= now - self.last_attempt < MANUAL_THROTTLE:
                return Decision(False, Wait.THROTTLE, self.last_attempt + MANUAL_THROTTLE)
            return Decision(True, Wait.NONE, now)
        if self._backoff_until is not None and now < self._backoff_until:
            return Decision(False, Wait.BACKOFF, self._backoff_until)
        if self._next_due is not None and now < self._next_due:
            return Decision(False, Wait.SCHEDULE, self._next_due)
        return Decision(True, Wait.NONE, now)

    def next_poll_at(self, token_key: str | None = None) -> datetime | None:
        """When the next scheduled poll is due (None while stopped for credentials)."""
        if self._blocked:
            return None
        now = self.clock.now()
        candidates = [now]
        for t in (self._next_due, self._backoff_until, self.cooldown_until(token_key)):
            if t is not None:
                candidates.append(t)
        return max(candidates)

    # --- outcomes ----------------------------------------------------------------------------

    def attempted(self) -> None:
        """Call right before a request goes out (manual throttle counts attempts).

        Reserves the next backoff step as if this attempt will fail; a recorded outcome then
        replaces the reservation. If the outcome is never recorded (an exception between here and
        there), the next scheduled poll still waits a full step.
        """
        now = self.clock.now()
        self.last_attempt = now
        self._anchor = (now, self.clock.monotonic())
        reserve = now + self.backoff_delay(self.failures + 1)
        if self._backoff_until is None or self._backoff_until < reserve:
            self._backoff_until = reserve
        if self._next_due is None or self._next_due < reserve:
            self._next_due = reserve

    def record_success(self) -> None:
        now = self.clock.now()
        self.failures = 0
        self._backoff_until = None
        self._blocked = False
        self._next_due = now + self.interval

    def record_failure(
        self,
        kind: ErrorKind,
        token_key: str | None,
        *,
        retry_at: datetime | None = None,
        stamp: str | None = None,
    ) -> None:
        now = self.clock.now()
        if kind is ErrorKind.RATE_LIMITED:
            until = retry_at or now + timedelta(minutes=5)
            if token_key:
                previous = self._cooldowns.get(token_key)
                self._cooldowns[token_key] = max(until, previous) if previous else until
            self._next_due = now + self.interval  # the cooldown itself is per token
            return
        if kind in (ErrorKind.AUTH, ErrorKind.NO_CREDENTIALS):
            self._blocked = True
            self._blocked_stamp = stamp
            return
        self.failures += 1
        self._backoff_until = now + self.backoff_delay(self.failures)
        self._next_due = self._backoff_until

    def backoff_delay(self, failures: int) -> timedelta:
        """Exponential from 1 minute, capped at 30 minutes, with jitter in [50 %, 100 %]."""
        doublings: int = 2 ** min(max(failures, 1) - 1, 16)
        raw = BACKOFF_BASE * doublings
        capped = min(raw, BACKOFF_CAP)
        factor: float = 0.5 + 0.5 * self.rng.random()
        return capped * factor

    def set_interval(self, interval: timedelta) -> None:
        self.interval = max(interval, self.min_interval)

    # --- sleep / wake ------------------------------------------------------------------------

    def _check_wake(self, now: datetime) -> None:
        wall0, mono0 = self._anchor
        mono = self.clock.monotonic()
        drift = (now - wall0) - timedelta(seconds=mono - mono0)
        self._anchor = (now, mono)
        if drift < WAKE_GAP:
            return
        # Woke up (or the clock was set forward): everything that fell due while asleep
        # collapses into one poll a few jittered seconds from now.
        catch_up = now + timedelta(seconds=self.rng.uniform(*WAKE_JITTER))
        if self._next_due is None or self._next_due < catch_up:
            self._next_due = catch_up
        if self._backoff_until is not None and self._backoff_until < catch_up:
            self._backoff_until = catch_up
