"""Achievements: a playful layer that rewards good pacing, never volume. Pure.

Every rule reads a :class:`History` the app already has (usage readings grouped into window
instances, poll outcomes, the ledger's daily token sums, the window scheduler's attempts) and
returns a :class:`Standing`: when it was first earned (a date taken from the history itself, so a
recomputation always finds the same date) and the progress toward it. Recomputing is idempotent:
the service stores what is unlocked, per account, and announces only what is new, several at once
in one notification (:func:`announcement`).

Days are local days (``History.tz``); only complete days and finished windows count, so an
achievement never flickers during the day it is about.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from trayapp.core.models import Alert, AlertKind, Level

INSTANCE_TOLERANCE = timedelta(minutes=10)
WEEK = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Sample:
    at: datetime
    window_id: str  # "five_hour", "seven_day"
    utilization: float
    resets_at: datetime | None


@dataclass(frozen=True, slots=True)
class Poll:
    at: datetime
    ok: bool
    http_status: int | None = None
    error_kind: str | None = None

    @property
    def rate_limited(self) -> bool:
        return self.http_status == 429 or self.error_kind == "rate_limited"


@dataclass(frozen=True, slots=True)
class DayUse:
    """One local day of the ledger."""

    day: date
    input: int = 0
    cache_creation: int = 0
    cache_read: int = 0
    entries: int = 0

    @property
    def cache_read_share(self) -> float:
        total = self.input + self.cache_creation + self.cache_read
        return self.cache_read / total if total else 0.0


@dataclass(frozen=True, slots=True)
class Start:
    """A window start by the scheduler (verified or not); ``anchor`` None when started by hand."""

    at: datetime
    verified: bool
    anchor: str | None


@dataclass(frozen=True, slots=True)
class History:
    now: datetime
    tz: tzinfo | None
    samples: Sequence[Sample] = ()
    polls: Sequence[Poll] = ()
    days: Sequence[DayUse] = ()
    starts: Sequence[Start] = ()


@dataclass(frozen=True, slots=True)
class Instance:
    """One window instance: its reset, its highest use, its readings (oldest first)."""

    window_id: str
    resets_at: datetime
    peak: float
    readings: tuple[tuple[datetime, float], ...]


@dataclass(frozen=True, slots=True)
class Standing:
    rule_id: str
    earned_at: datetime | None
    progress: float  # 0..1 toward earning it
    note: str = ""  # "best week: 84%"

    @property
    def earned(self) -> bool:
        return self.earned_at is not None


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    name: str
    description: str
    glyph: str  # drawn on the badge
    colour: str  # a core.palette ICON level name: ok, warning, critical, at_limit
    check: Callable[[History], Standing] = field(repr=False)


# ----- history shapes ------------------------------------------------------------------------------
def instances(samples: Sequence[Sample], window_id: str) -> list[Instance]:
    """The window's instances, oldest first (readings whose resets agree within 10 minutes).
    Remembered for the last ``samples`` seen: several rules ask for the same ones."""
    key = (id(samples), len(samples), window_id)
    cached = _instances_memo.get(key)
    if cached is not None and cached[0] is samples:
        return cached[1]
    groups: list[tuple[datetime, list[tuple[datetime, float]]]] = []
    for s in sorted((s for s in samples if s.window_id == window_id and s.resets_at), key=lambda s: s.at):
        assert s.resets_at is not None
        if groups and abs(groups[-1][0] - s.resets_at) < INSTANCE_TOLERANCE:
            groups[-1][1].append((s.at, s.utilization))
        else:
            groups.append((s.resets_at, [(s.at, s.utilization)]))
    out = [Instance(window_id, r, max(u for _, u in rs), tuple(rs)) for r, rs in groups]
    if len(_instances_memo) >= 4:  # one history's windows at a time: never grows
        _instances_memo.clear()
    _instances_memo[key] = (samples, out)
    return out


_instances_memo: dict[tuple[int, int, str], tuple[Sequence[Sample], list[Instance]]] = {}


def finished(items: Iterable[Instance], now: datetime) -> list[Instance]:
    return [i for i in items if i.resets_at <= now]


def day_end(day: date, tz: tzinfo | None) -> datetime:
    """The local midnight that ends ``day`` (when a day's achievement is earned)."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz or UTC)


def complete_days(h: History) -> list[DayUse]:
    return sorted((d for d in h.days if day_end(d.day, h.tz) <= h.now), key=lambda d: d.day)


def _share(x: float, goal: float) -> float:
    return max(0.0, min(1.0, x / goal)) if goal else 1.0


def _first_run(flags: Sequence[tuple[bool, datetime]], length: int) -> tuple[datetime | None, int]:
    """When ``length`` True flags in a row first happened, and the current run's length."""
    run = 0
    for ok, at in flags:
        run = run + 1 if ok else 0
        if run == length:
            return at, length
    return None, run


# ----- rules -------------------------------------------------------------------------------------
def _surfer(h: History) -> Standing:
    weeks = finished(instances(h.samples, "seven_day"), h.now)
    hit = [w for w in weeks if 90 <= w.peak < 100]
    best = max((w.peak for w in weeks if w.peak < 100), default=0.0)
    return Standing("surfer", hit[0].resets_at if hit else None, _share(best, 90), f"best week: {best:.0f}%")


def _steady(h: History) -> Standing:
    weeks = finished(instances(h.samples, "seven_day"), h.now)
    at, run = _first_run([(70 <= w.peak < 100, w.resets_at) for w in weeks], 3)
    return Standing("steady", at, run / 3, f"{run} of 3 weeks")


def _cool_head(h: History) -> Standing:
    fives = instances(h.samples, "five_hour")
    weeks = finished(instances(h.samples, "seven_day"), h.now)
    best = 0
    for w in weeks:
        inside = [f for f in fives if w.resets_at - WEEK < f.resets_at <= w.resets_at]
        if any(f.peak >= 100 for f in inside):
            continue
        if len(inside) >= 3:
            return Standing("cool_head", w.resets_at, 1.0)
        best = max(best, len(inside))
    return Standing("cool_head", None, best / 3, f"{best} of 3 windows in a week")


def _pacer(h: History) -> Standing:
    fives = finished(instances(h.samples, "five_hour"), h.now)
    hit = [f for f in fives if 80 <= f.peak < 100]
    best = max((f.peak for f in fives if f.peak < 100), default=0.0)
    return Standing("pacer", hit[0].resets_at if hit else None, _share(best, 80), f"best window: {best:.0f}%")


def acted_resets(h: History) -> list[datetime]:
    """Resets acted on: a 5-hour window used past 50% reset, and the next one was in use within
    an hour of that reset (the times of those first readings)."""
    out = []
    fives = instances(h.samples, "five_hour")
    for before, after in zip(fives, fives[1:], strict=False):
        if before.peak < 50 or before.resets_at > h.now:
            continue
        used = [at for at, u in after.readings if u > 0 and at >= before.resets_at]
        if used and used[0] - before.resets_at <= timedelta(hours=1):
            out.append(used[0])
    return out


def _fresh_start(h: History) -> Standing:
    acted = acted_resets(h)
    return Standing("fresh_start", acted[0] if acted else None, min(1.0, len(acted)))


def _reset_champion(h: History) -> Standing:
    acted = acted_resets(h)
    return Standing(
        "reset_champion", acted[4] if len(acted) >= 5 else None, len(acted[:5]) / 5, f"{len(acted)} of 5"
    )


def _local_weeks(h: History) -> list[tuple[datetime, datetime]]:
    """Complete local weeks (Monday to Monday) from the first poll on."""
    if not h.polls:
        return []
    first = min(p.at for p in h.polls).astimezone(h.tz).date()
    monday = first - timedelta(days=first.weekday())
    out: list[tuple[datetime, datetime]] = []
    while True:
        start = datetime.combine(monday, time(0), tzinfo=h.tz or UTC)
        end = day_end(monday + timedelta(days=6), h.tz)
        if end > h.now:
            return out
        out.append((start, end))
        monday += timedelta(days=7)


def _calm_weeks(h: History) -> list[tuple[bool, datetime]]:
    """Per complete local week: polled on at least 5 days and never a 429 (and the week's end)."""
    polled: dict[date, set[date]] = {}
    limited: set[date] = set()
    for p in h.polls:
        d = p.at.astimezone(h.tz or UTC).date()
        monday = d - timedelta(days=d.weekday())
        polled.setdefault(monday, set()).add(d)
        if p.rate_limited:
            limited.add(monday)
    flags = []
    for start, end in _local_weeks(h):
        monday = start.date()
        flags.append((len(polled.get(monday, ())) >= 5 and monday not in limited, end))
    return flags


def _zero_429(h: History) -> Standing:
    at, _ = _first_run(_calm_weeks(h), 1)
    last = max((p.at for p in h.polls if p.rate_limited), default=min((p.at for p in h.polls), default=h.now))
    days = (h.now - last) / timedelta(days=1)
    return Standing("zero_429", at, _share(days, 7), f"{int(days)} days without a 429")


def _unbroken(h: History) -> Standing:
    at, run = _first_run(_calm_weeks(h), 4)
    return Standing("unbroken", at, run / 4, f"{run} of 4 weeks")


def _cache_whisperer(h: History) -> Standing:
    days = [d for d in complete_days(h) if d.entries >= 5]
    hit = [d for d in days if d.cache_read_share >= 0.9]
    best = max((d.cache_read_share for d in days), default=0.0)
    at = day_end(hit[0].day, h.tz) if hit else None
    return Standing("cache_whisperer", at, _share(best, 0.9), f"best day: {best:.0%}")


def _consecutive(
    days: Sequence[DayUse], ok: Callable[[DayUse], bool], tz: tzinfo | None
) -> list[tuple[bool, datetime]]:
    """One flag per calendar day from the first to the last (a day missing from the ledger is False)."""
    if not days:
        return []
    by_day = {d.day: d for d in days}
    flags, day = [], days[0].day
    while day <= days[-1].day:
        d = by_day.get(day)
        flags.append((d is not None and ok(d), day_end(day, tz)))
        day += timedelta(days=1)
    return flags


def _cache_sage(h: History) -> Standing:
    flags = _consecutive(complete_days(h), lambda d: d.entries > 0 and d.cache_read_share >= 0.8, h.tz)
    at, run = _first_run(flags, 7)
    return Standing("cache_sage", at, run / 7, f"{run} of 7 days")


def streak(h: History, length: int) -> tuple[datetime | None, int]:
    """Active days in a row, where one missed day a week is forgiven (a freeze): when ``length``
    active days were first reached, and the current streak."""
    flags = _consecutive(complete_days(h), lambda d: d.entries > 0, h.tz)
    count, last_freeze = 0, -WEEK.days
    for i, (active, at) in enumerate(flags):
        if active:
            count += 1
            if count == length:
                return at, count
        elif i - last_freeze >= WEEK.days and count:
            last_freeze = i  # the freeze covers this day
        else:
            count = 0
    return None, count


def _streak(h: History) -> Standing:
    at, n = streak(h, 7)
    return Standing("streak", at, min(1.0, n / 7), f"{n} of 7 days")


def _marathon(h: History) -> Standing:
    at, n = streak(h, 30)
    return Standing("marathon", at, min(1.0, n / 30), f"{n} of 30 days")


def _weekend_off(h: History) -> Standing:
    days = {d.day: d for d in complete_days(h)}
    for d in sorted(days):
        if d.weekday() != 4 or days[d].entries == 0:  # an active Friday...
            continue
        sat, sun, mon = (d + timedelta(days=k) for k in (1, 2, 3))
        rested = all(days.get(x) is None or days[x].entries == 0 for x in (sat, sun))
        if rested and mon in days and days[mon].entries > 0:  # ...a quiet weekend, back on Monday
            return Standing("weekend_off", day_end(mon, h.tz), 1.0)
    return Standing("weekend_off", None, 0.0)


def _early_bird(h: History) -> Standing:
    hit = sorted(s.at for s in h.starts if s.verified and s.anchor)
    return Standing("early_bird", hit[0] if hit else None, 1.0 if hit else 0.0)


def _watcher(h: History) -> Standing:
    first = min((s.at for s in h.samples), default=None)
    return Standing("watcher", first, 1.0 if first else 0.0)


RULES: tuple[Rule, ...] = (
    Rule("watcher", "Watcher", "Claude Watch took its first reading of your limits.", "W", "ok", _watcher),
    Rule("surfer", "Surfer", "Finished a week above 90% without ever hitting 100%.", "≈", "warning", _surfer),
    Rule("steady", "Steady hands", "Three weeks in a row between 70% and 99%.", "≡", "ok", _steady),
    Rule("cool_head", "Cool head", "A week of at least three 5-hour windows, none at the limit.",
         "❄", "ok", _cool_head),
    Rule("pacer", "Right on time", "A 5-hour window finished between 80% and 99%.", "◷", "warning", _pacer),
    Rule("fresh_start", "Fresh start", "Back at work within an hour of a reset.", "↻", "ok", _fresh_start),
    Rule("reset_champion", "Reset champion", "Five resets acted on.", "♛", "critical", _reset_champion),
    Rule("zero_429", "Zero-429 week", "A whole week of polling without a single 429.", "✓", "ok", _zero_429),
    Rule("unbroken", "Unbroken", "Four zero-429 weeks in a row.", "∞", "critical", _unbroken),
    Rule("cache_whisperer", "Cache whisperer", "A day with at least 90% of input read from cache.",
         "◆", "ok", _cache_whisperer),
    Rule("cache_sage", "Cache sage", "Seven days in a row at 80% cache reads or more.",
         "◈", "critical", _cache_sage),
    Rule("streak", "Streak", "Seven active days (one day off a week is forgiven).", "➚", "warning", _streak),
    Rule("marathon", "Marathon", "Thirty active days (one day off a week is forgiven).",
         "⚑", "at_limit", _marathon),
    Rule("weekend_off", "Weekend off", "Rested a whole weekend between two working days.",
         "☾", "ok", _weekend_off),
    Rule("early_bird", "Early bird", "A scheduled window start, verified.", "☀", "warning", _early_bird),
)  # fmt: skip
BY_ID = {r.id: r for r in RULES}


def evaluate(history: History) -> list[Standing]:
    """Every rule's standing over ``history`` (same order as :data:`RULES`)."""
    return [rule.check(history) for rule in RULES]


def new_unlocks(standings: Iterable[Standing], unlocked: Iterable[str]) -> list[Standing]:
    """The earned standings not unlocked yet, oldest first."""
    known = set(unlocked)
    fresh = [s for s in standings if s.earned and s.rule_id not in known]
    return sorted(fresh, key=lambda s: (s.earned_at or datetime.min.replace(tzinfo=UTC), s.rule_id))


def announcement(new: Sequence[Standing], now: datetime, account: str = "default") -> Alert | None:
    """One notification for everything newly unlocked (a history import may bring several)."""
    if not new:
        return None
    rules = [BY_ID[s.rule_id] for s in new]
    if len(rules) == 1:
        title = f"Achievement unlocked: {rules[0].name}"
        body = rules[0].description
    else:
        title = f"{len(rules)} achievements unlocked"
        body = "\n".join(f"{r.name}: {r.description}" for r in rules)
    return Alert(
        key=f"achievement:{account}:{'+'.join(r.id for r in rules)}",
        kind=AlertKind.ACHIEVEMENT,
        window_id="achievements",
        window_label="Achievements",
        utilization=0.0,
        level=Level.OK,
        created_at=now,
        title=title,
        body=body,
        extra={"account": account, "achievements": ",".join(r.id for r in rules)},
    )
