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

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
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
    os_timer: bool = False  # auto anchors also run from the OS timer (platform/os_timer) when the app is not


class PlanError(ValueError):
    """A plan that breaks the rules (too close, too many, bad time); the message says which."""


# Preset name -> (label, anchors). "Work day": 07:00 and 12:00 on weekdays (two full windows in
# the working day); "24/7": 00:00, 06:00, 12:00, 18:00 (at least 5 h apart: 4 a day);
# "Night owl": 14:00, 19:00 and 00:00 every day.
PRESETS: dict[str, tuple[str, tuple[Anchor, ...]]] = {
    "work_day": ("Work day", (Anchor(time(7, 0), WEEKDAYS), Anchor(time(12, 0), WEEKDAYS))),
    "24_7": ("24/7", tuple(Anchor(time(h, 0)) for h in (0, 6, 12, 18))),
    "night_owl": ("Night owl", (Anchor(time(0, 0)), Anchor(time(14, 0)), Anchor(time(19, 0)))),
}
CUSTOM_LABEL = "Custom"
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# How far back due_between looks: anchors older than this are not even reported as missed.
DUE_LOOKBACK = timedelta(days=7)


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def _gap_text(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    return f"{hours} h" if not rest else f"{hours} h {rest:02d} min"


def validate(plan: Plan) -> Plan:
    """The plan itself when it keeps the rules, else :class:`PlanError` naming the offending
    anchors and weekday (e.g. "08:00 and 11:00 on Mon are 3 h apart; anchors need 5 h")."""
    seen: set[str] = set()
    for anchor in plan.anchors:
        if anchor.at.tzinfo is not None:
            raise PlanError(f"{anchor.id}: an anchor is a local time of day, without a time zone")
        if not anchor.days or not anchor.days <= ALL_DAYS:
            raise PlanError(f"{anchor.id}: the weekdays must be some of Mon..Sun")
        if anchor.id in seen:
            raise PlanError(f"{anchor.id} appears twice; give one anchor all its weekdays")
        seen.add(anchor.id)
    if plan.paused_until is not None and plan.paused_until.utcoffset() is None:
        raise PlanError("the pause's end needs a time zone")
    gap = int(MIN_GAP.total_seconds() // 60)
    for weekday in range(7):
        today = sorted((a for a in plan.anchors if weekday in a.days), key=_anchor_key)
        if len(today) > MAX_ANCHORS_PER_DAY:
            raise PlanError(
                f"{len(today)} anchors on {DAY_NAMES[weekday]}; at most {MAX_ANCHORS_PER_DAY} a day "
                "(each window lasts 5 h)"
            )
        day = DAY_NAMES[weekday]
        pairs = [
            (a, b, _minutes(b.at) - _minutes(a.at), f"{a.id} and {b.id} on {day}")
            for a, b in zip(today, today[1:], strict=False)
        ]
        tomorrow = sorted((a for a in plan.anchors if (weekday + 1) % 7 in a.days), key=_anchor_key)
        if today and tomorrow:  # the midnight wrap: the day's last and the next day's first
            a, b = today[-1], tomorrow[0]
            names = f"{a.id} on {day} and {b.id} on {DAY_NAMES[(weekday + 1) % 7]}"
            pairs.append((a, b, 24 * 60 - _minutes(a.at) + _minutes(b.at), names))
        for _a, _b, apart, names in pairs:
            if apart < gap:
                raise PlanError(f"{names} are {_gap_text(apart)} apart; anchors need {_gap_text(gap)}")
    return plan


def _anchor_key(anchor: Anchor) -> tuple[int, int]:
    return (anchor.at.hour, anchor.at.minute)


def anchors_on(plan: Plan, day: date) -> list[Anchor]:
    """The anchors that apply on ``day`` (by weekday), in time order."""
    weekday = day.weekday()
    return sorted((a for a in plan.anchors if weekday in a.days), key=_anchor_key)


def _offset(instant: datetime, tz: ZoneInfo) -> timedelta:
    return instant.astimezone(tz).utcoffset() or timedelta(0)


def anchor_instant(anchor: Anchor, day: date, tz: ZoneInfo) -> datetime:
    """The aware UTC instant at which ``anchor`` fires on ``day`` in ``tz`` (DST-correct: a time
    in a spring-forward gap moves to the gap's end; an ambiguous time is its first occurrence)."""
    wall = datetime.combine(day, time(anchor.at.hour, anchor.at.minute))
    local = wall.replace(tzinfo=tz)  # fold=0: the first occurrence of an ambiguous time
    instant = local.astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) == wall:
        return instant
    # In a gap: fold=1 maps the wall time with the later offset, an instant before the change;
    # fold=0 with the earlier one, an instant after it. The change is between: find its minute.
    low = local.replace(fold=1).astimezone(UTC)
    high = instant
    after = _offset(high, tz)
    while high - low > timedelta(minutes=1):
        mid = low + (high - low) / 2
        mid = mid.replace(second=0, microsecond=0)
        if mid <= low:
            break
        if _offset(mid, tz) == after:
            high = mid
        else:
            low = mid
    return high


def is_paused(plan: Plan, now: datetime) -> bool:
    """Whether the plan's pause still holds at ``now``."""
    return plan.paused_until is not None and plan.paused_until > now


def _instants(plan: Plan, first: date, last: date, tz: ZoneInfo) -> list[tuple[Anchor, datetime]]:
    out: list[tuple[Anchor, datetime]] = []
    day = first
    while day <= last:
        out.extend((a, anchor_instant(a, day, tz)) for a in anchors_on(plan, day))
        day += timedelta(days=1)
    return out


def next_anchor(plan: Plan, now: datetime, tz: ZoneInfo) -> tuple[Anchor, datetime] | None:
    """The next anchor strictly after ``now`` (a paused plan: the first after the pause ends;
    a disabled or empty plan: None)."""
    if not plan.enabled or not plan.anchors:
        return None
    bound = now
    inclusive = False
    if plan.paused_until is not None and plan.paused_until > now:
        bound, inclusive = plan.paused_until, True
    first = bound.astimezone(tz).date() - timedelta(days=1)
    for anchor, at in _instants(plan, first, first + timedelta(days=9), tz):
        if at > bound or (inclusive and at == bound):
            return anchor, at
    return None


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
    of ``now`` fire, older ones come back with ``missed=True``. A paused or disabled plan: [].

    A ``last_tick`` more than :data:`DUE_LOOKBACK` ago is cut to that (weeks asleep report one
    week of missed anchors, not an unbounded list); a clock that went backwards gives []."""
    if not plan.enabled or not plan.anchors or now <= last_tick or is_paused(plan, now):
        return []
    start = max(last_tick, now - DUE_LOOKBACK)
    first = start.astimezone(tz).date() - timedelta(days=1)
    out: list[Due] = []
    for anchor, at in _instants(plan, first, now.astimezone(tz).date() + timedelta(days=1), tz):
        if not start < at <= now:
            continue
        if plan.paused_until is not None and at < plan.paused_until:
            continue  # fell inside a pause that ended since
        late = now - at
        out.append(Due(anchor, at, late, late > GRACE))
    out.sort(key=lambda d: d.at)
    return out


def window_open(resets_at: datetime | None, now: datetime) -> bool:
    """Whether a 5-hour window is open: a ``resets_at`` in the future. None or past: closed."""
    return resets_at is not None and resets_at > now


def _hm(instant: datetime, tz: ZoneInfo) -> str:
    return instant.astimezone(tz).strftime("%H:%M")


def coverage(anchor: Anchor, day: date, tz: ZoneInfo) -> str:
    """What an anchor buys, in words: "06:00 -> window 06:00-11:00, next free at 11:00"."""
    start = anchor_instant(anchor, day, tz)
    end = start + WINDOW  # elapsed time: across a DST change the wall-clock end moves with it
    return f"{anchor.id} -> window {_hm(start, tz)}-{_hm(end, tz)}, next free at {_hm(end, tz)}"


def plan_from_reset(
    plan: Plan, resets_at: datetime | None, now: datetime, tz: ZoneInfo
) -> list[tuple[Anchor, datetime, datetime]]:
    """Today's remaining anchors as (anchor, window start, window end), starting from the window
    the server reports (``resets_at``, which need not land on the hour): an anchor that falls
    inside the open window starts at its reset instead.

    Remaining: the anchor's instant is after ``now``. Windows chain: an anchor that falls inside
    the window planned before it also starts at that window's end. A disabled plan: []; a paused
    one: the anchors after the pause ends."""
    if not plan.enabled:
        return []
    cursor = resets_at if window_open(resets_at, now) else None
    out: list[tuple[Anchor, datetime, datetime]] = []
    for anchor in anchors_on(plan, now.astimezone(tz).date()):
        at = anchor_instant(anchor, now.astimezone(tz).date(), tz)
        if at <= now or (plan.paused_until is not None and at < plan.paused_until):
            continue
        start = at if cursor is None else max(at, cursor)
        end = start + WINDOW
        out.append((anchor, start, end))
        cursor = end
    return out


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
    percent per hour (None: unknown, only the per-day budget is given).

    Without a future reset the week is taken as 7 days from now. A day's budget is what is left
    spread over the days to the reset (the whole rest when less than a day remains)."""
    left = max(0.0, 100.0 - utilization)
    known_reset = resets_at if resets_at is not None and resets_at > now else None
    span = (known_reset - now) if known_reset is not None else timedelta(days=7)
    days = max(span / timedelta(days=1), 1.0)
    per_day = round(left / days, 1)
    budget = f"about {per_day:g}% a day keeps you inside it"
    if left <= 0:
        return WeeklyAdvice(now, 0.0, "The weekly limit is used up; it comes back at the reset.")
    runs_out: datetime | None = None
    if rate_per_hour is not None and rate_per_hour > 0:
        at = now + timedelta(hours=left / rate_per_hour)
        if known_reset is None or at < known_reset:
            runs_out = at
    when = known_reset.astimezone(tz).strftime("%a %H:%M") if known_reset is not None else None
    if runs_out is not None:
        out_at = runs_out.astimezone(tz).strftime("%a %H:%M")
        text = f"At this pace the weekly limit runs out {out_at}; {budget} until the reset."
    elif rate_per_hour is not None:
        text = f"At this pace the weekly limit lasts until the reset{f' ({when})' if when else ''}; {budget}."
    else:
        until = f"the reset ({when})" if when else "the reset"
        text = f"About {per_day:g}% a day keeps you inside the weekly limit until {until}."
    return WeeklyAdvice(runs_out, per_day, text)


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


# --- small helpers for the CLI, the store and the view -------------------------------------------

_DAY_KEYS = {name.lower(): i for i, name in enumerate(DAY_NAMES)}


def parse_days(text: str) -> frozenset[int]:
    """``"mon-fri"``, ``"sat,sun"``, ``"all"``, ``"weekdays"``, ``"weekend"`` -> weekday numbers
    (ranges may wrap: ``"fri-mon"``); anything else is a :class:`PlanError`."""
    spec = text.strip().lower()
    named = {"all": ALL_DAYS, "daily": ALL_DAYS, "weekdays": WEEKDAYS, "weekend": frozenset({5, 6})}
    if spec in named:
        return named[spec]
    days: set[int] = set()
    for part in (p.strip() for p in spec.split(",")):
        ends = [e.strip()[:3] for e in part.split("-")]
        if not 1 <= len(ends) <= 2 or any(e not in _DAY_KEYS for e in ends):
            raise PlanError(f"{text!r} is not a set of weekdays (mon-fri, sat,sun, all)")
        first, last = _DAY_KEYS[ends[0]], _DAY_KEYS[ends[-1]]
        days.update((first + i) % 7 for i in range((last - first) % 7 + 1))
    return frozenset(days)


def format_days(days: frozenset[int]) -> str:
    """The inverse of :func:`parse_days` for display: ``"all"``, ``"mon-fri"``, ``"sat,sun"``."""
    if days == ALL_DAYS:
        return "all"
    if days == WEEKDAYS:
        return "mon-fri"
    return ",".join(DAY_NAMES[d].lower() for d in sorted(days))


def parse_at(text: str) -> time:
    """``"07:00"`` / ``"7:00"`` -> a time of day (minutes only); else :class:`PlanError`."""
    hours, sep, minutes = text.strip().partition(":")
    if not sep or not hours.isdigit() or not minutes.isdigit() or len(minutes) != 2:
        raise PlanError(f"{text!r} is not a time of day (HH:MM)")
    h, m = int(hours), int(minutes)
    if not (0 <= h < 24 and 0 <= m < 60):
        raise PlanError(f"{text!r} is not a time of day (HH:MM)")
    return time(h, m)


def with_anchor(plan: Plan, anchor: Anchor) -> Plan:
    """The plan with ``anchor`` added (replacing one at the same time), validated; "custom" now."""
    kept = tuple(a for a in plan.anchors if a.id != anchor.id)
    return validate(replace(plan, anchors=(*kept, anchor), preset="custom"))


def without_anchor(plan: Plan, anchor_id: str) -> Plan:
    """The plan without the anchor ``HH:MM``; :class:`PlanError` when there is none."""
    kept = tuple(a for a in plan.anchors if a.id != anchor_id)
    if len(kept) == len(plan.anchors):
        raise PlanError(f"no anchor at {anchor_id}")
    return replace(plan, anchors=kept, preset="custom")


def from_preset(name: str, base: Plan | None = None) -> Plan:
    """A plan made of a preset's anchors (the pause and on/off of ``base`` kept)."""
    if name not in PRESETS:
        raise PlanError(f"unknown preset {name!r} (one of {', '.join(PRESETS)})")
    return validate(replace(base or Plan(), anchors=PRESETS[name][1], preset=name))


def preset_label(plan: Plan) -> str:
    """The plan's preset for people: "Work day", "24/7", "Night owl" or "Custom"."""
    entry = PRESETS.get(plan.preset)
    return entry[0] if entry is not None else CUSTOM_LABEL


def window_key(resets_at: datetime | None) -> str:
    """The closed window an attempt is for: its last ``resets_at`` in UTC to the minute, or
    ``"none"`` when no window was ever seen."""
    if resets_at is None:
        return "none"
    return resets_at.astimezone(UTC).replace(second=0, microsecond=0).strftime("%Y-%m-%dT%H:%MZ")
