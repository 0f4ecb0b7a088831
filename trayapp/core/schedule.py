"""The window scheduler's plan: daily anchors at which a 5-hour window should be open, in pure,
typed, clock-injected form (no Qt, no I/O).

A 5-hour window opens with the first message after the last one expired; starting it at 07:00 makes
it reset at 12:00. An :class:`Anchor` is a local time of day on some weekdays; a :class:`Plan` holds
1 to 4 anchors per weekday, at least 5 hours apart (midnight wrap included), and an optional pause.
Every time computation takes the time zone explicitly and is correct across DST changes: an anchor
at 02:30 on a spring-forward day fires at 03:00 (the first valid instant after the gap), and on a
fall-back day fires once (the first occurrence).

CONTRACT (shared by the core, the scheduler service, the schedule view and the CLI): the names and
signatures below are fixed; implementations fill them in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

WINDOW = timedelta(hours=5)
MIN_GAP = WINDOW  # anchors on one day (and across midnight) at least this far apart
MAX_ANCHORS_PER_DAY = 4
GRACE = timedelta(minutes=15)  # an anchor missed (sleep) by at most this fires late, once
ALL_DAYS = frozenset(range(7))  # Monday = 0 ... Sunday = 6, as date.weekday()
WEEKDAYS = frozenset(range(5))


class AnchorMode(StrEnum):
    REMIND = "remind"  # the default: one notification "Start your 5-hour window now?"
    AUTO = "auto"  # opt-in: run the guarded, verified start (services/window_start)


@dataclass(frozen=True, slots=True)
class Anchor:
    at: time  # local wall-clock time of day (seconds ignored)
    days: frozenset[int] = ALL_DAYS
    mode: AnchorMode = AnchorMode.REMIND
    in_quiet_hours: bool = False  # may act during alerts.quiet_hours

    @property
    def id(self) -> str:
        """Stable identity for the CLI and the attempts log: ``HH:MM``."""
        return f"{self.at.hour:02d}:{self.at.minute:02d}"


@dataclass(frozen=True, slots=True)
class Plan:
    anchors: tuple[Anchor, ...] = ()
    preset: str = "custom"  # a key of PRESETS, or "custom"
    paused_until: datetime | None = None  # aware; None: not paused
    enabled: bool = True


class PlanError(ValueError):
    """A plan that breaks the rules (too close, too many, bad time); the message says which."""


# Preset name -> (label, anchors). "Work day": 07:00 and 12:00 on weekdays (two full windows in
# the working day); "24/7": 00:00, 06:00, 12:00, 18:00... (at least 5 h apart: 4 a day);
# "Night owl": 14:00 and 19:00 (and 00:00).
PRESETS: dict[str, tuple[str, tuple[Anchor, ...]]] = {}


def validate(plan: Plan) -> Plan:
    """The plan itself when it keeps the rules, else :class:`PlanError` naming the offending
    anchors and weekday (e.g. "08:00 and 11:00 on Mon are 3 h apart; anchors need 5 h")."""
    raise NotImplementedError


def anchors_on(plan: Plan, day: date) -> list[Anchor]:
    """The anchors that apply on ``day`` (by weekday), in time order."""
    raise NotImplementedError


def anchor_instant(anchor: Anchor, day: date, tz: ZoneInfo) -> datetime:
    """The aware UTC instant at which ``anchor`` fires on ``day`` in ``tz`` (DST-correct: a time
    in a spring-forward gap moves to the gap's end; an ambiguous time is its first occurrence)."""
    raise NotImplementedError


def next_anchor(plan: Plan, now: datetime, tz: ZoneInfo) -> tuple[Anchor, datetime] | None:
    """The next anchor strictly after ``now`` (a paused plan: the first after the pause ends;
    a disabled or empty plan: None)."""
    raise NotImplementedError


@dataclass(frozen=True, slots=True)
class Due:
    """An anchor whose instant passed between two ticks."""

    anchor: Anchor
    at: datetime  # the instant it was due (aware UTC)
    late: timedelta  # now - at
    missed: bool  # later than GRACE: skipped and logged, not fired


def due_between(plan: Plan, last_tick: datetime, now: datetime, tz: ZoneInfo) -> list[Due]:
    """Anchors whose instant is in (last_tick, now], each once, oldest first. After a sleep (a wall
    clock that moved much further than the monotonic one) several may be due: those within GRACE
    of ``now`` fire, older ones come back with ``missed=True``. A paused or disabled plan: []."""
    raise NotImplementedError


def window_open(resets_at: datetime | None, now: datetime) -> bool:
    """Whether a 5-hour window is open: a ``resets_at`` in the future. None or past: closed."""
    return resets_at is not None and resets_at > now


def coverage(anchor: Anchor, day: date, tz: ZoneInfo) -> str:
    """What an anchor buys, in words: "06:00 -> window 06:00-11:00, next free at 11:00"."""
    raise NotImplementedError


def plan_from_reset(
    plan: Plan, resets_at: datetime | None, now: datetime, tz: ZoneInfo
) -> list[tuple[Anchor, datetime, datetime]]:
    """Today's remaining anchors as (anchor, window start, window end), starting from the window
    the server reports (``resets_at``, which need not land on the hour): an anchor that falls
    inside the open window starts at its reset instead."""
    raise NotImplementedError


@dataclass(frozen=True, slots=True)
class WeeklyAdvice:
    runs_out_at: datetime | None  # at the current pace; None: it lasts to the reset
    percent_per_day: float  # what a day may use to last until the reset
    # "At this pace the weekly limit runs out Thu 14:00; about 12% a day keeps you inside it until the reset."
    text: str


def weekly_pace(
    utilization: float, resets_at: datetime | None, rate_per_hour: float | None, now: datetime, tz: ZoneInfo
) -> WeeklyAdvice:
    """The weekly pace planner. ``utilization`` in percent, ``rate_per_hour`` the recent burn rate in
    percent per hour (None: unknown, only the per-day budget is given)."""
    raise NotImplementedError


class Outcome(StrEnum):
    """How a start attempt ended (the attempts log, ``doctor``, the timeline's marks)."""

    VERIFIED = "verified"  # the 5-hour resets_at is about 5 h after the start
    NOT_OPENED = "not_opened"  # ran, but no window opened (headless use may be billed separately)
    REFUSED = "refused"  # not run: a window is open, status not allowed, quiet hours, limits
    FAILED = "failed"  # claude missing, timed out, crashed
    REMINDED = "reminded"  # a reminder was shown instead
    SKIPPED = "skipped"  # the user pressed Skip, or the anchor was missed by more than GRACE


@dataclass(frozen=True, slots=True)
class Attempt:
    at: datetime  # aware UTC
    anchor_id: str | None  # None: started by hand (`window start`)
    outcome: Outcome
    detail: str = ""  # one line for people ("resets at 12:03", "a window is open until 11:40")
    account: str = "default"
    window_key: str = ""  # the closed window this attempt was for (its previous resets_at, ISO)
    extra: dict[str, str] = field(default_factory=dict)
