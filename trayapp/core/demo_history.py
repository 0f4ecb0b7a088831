"""Made-up but plausible usage history for the demo account, the screenshots and the benchmarks.

:func:`usage_history` walks back ``days`` from ``now`` in ``step`` samples: work-day bursts of
requests (fewer at weekends, and always some in the last hours, so the live windows have a
curve), 5-hour windows that open at the first request after a reset and close five hours later,
weekly windows on a fixed reset, and one past 5-hour window pushed near its limit (the alert
everyone wants to see once). The current windows end exactly at the readings given (the demo
server's first answer), so the chart and the gauges agree. Pure and deterministic: the same
arguments give the same samples (a seeded :class:`random.Random`, no clock, no I/O).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, tzinfo

FIVE_HOURS = timedelta(hours=5)
WEEK = timedelta(days=7)
NEAR_LIMIT = 96.0  # the peak of the one window pushed near its limit
RECENT = timedelta(hours=3)  # always some activity this close to now


@dataclass(frozen=True, slots=True)
class Sample:
    """One reading: both windows' utilization (percent) and reset times (None: idle window)."""

    at: datetime
    five: float
    five_reset: datetime | None
    week: float
    week_reset: datetime


def usage_history(
    now: datetime,
    *,
    five_now: float,
    five_reset: datetime,
    week_now: float,
    week_reset: datetime,
    days: float = 7.0,
    step: timedelta = timedelta(minutes=5),
    seed: int = 7,
    tz: tzinfo | None = None,
) -> list[Sample]:
    """Samples from ``now - days`` to ``now`` (oldest first) ending at the given readings.

    Args:
        now: the last sample's time (aware).
        five_now, five_reset: the 5-hour window's reading at ``now``; its current instance is
            the five hours before ``five_reset``.
        week_now, week_reset: the weekly window's reading; earlier weeks reset 7 days apart.
        tz: the zone whose hours count as the working day (None: the local zone).
    """
    rng = random.Random(seed)
    current_start = five_reset - FIVE_HOURS
    week_start = week_reset - WEEK
    t = now - timedelta(days=days)
    n = int((now - t) / step)
    t = now - n * step  # the last sample falls on ``now`` exactly
    day_factor: dict[object, float] = {}
    samples: list[Sample] = []
    five = week = 0.0
    opened: datetime | None = None  # the running 5-hour window's start (None: idle)
    while t <= now:
        local = t.astimezone(tz)
        day = local.date()
        if day not in day_factor:
            day_factor[day] = rng.uniform(0.6, 1.3)
        if opened is not None and t >= opened + FIVE_HOURS:
            five, opened = 0.0, None
        if t >= current_start and (opened is None or opened < current_start):
            five, opened = 0.0, current_start  # the live window starts where the server says
        while t >= week_start + WEEK:
            week_start += WEEK
        if t >= week_start and samples and samples[-1].at < week_start:
            week = 0.0
        if _active(local, now - t, rng):
            if opened is None:
                opened = t
            burst = rng.uniform(0.4, 2.6) * day_factor[day] * (1.0 + 0.5 * math.sin(t.timestamp() / 5000))
            five = min(100.0, five + burst)
            week = min(100.0, week + burst * 0.085)
        reset = opened + FIVE_HOURS if opened is not None else None
        samples.append(Sample(t, five, reset, week, _week_reset(t, week_reset)))
        t += step
    samples = _push_near_limit(samples, current_start)
    samples = _end_at(samples, lambda s: s.five_reset == five_reset, "five", five_now)
    return _end_at(samples, lambda s: s.week_reset == week_reset, "week", week_now)


def _active(local: datetime, before_now: timedelta, rng: random.Random) -> bool:
    """Whether a request burst falls in this step: work hours on weekdays, a little at weekends."""
    hour = local.hour + local.minute / 60
    if before_now <= RECENT:
        return rng.random() < 0.6
    if local.weekday() < 5:
        return 9 <= hour < 19 and rng.random() < 0.55
    return 11 <= hour < 16 and rng.random() < 0.2


def _week_reset(t: datetime, latest: datetime) -> datetime:
    """The weekly reset in force at ``t`` (resets fall 7 days apart, ``latest`` the current one)."""
    weeks_back = max(0, math.floor((latest - t) / WEEK))
    return latest - weeks_back * WEEK


def _push_near_limit(samples: list[Sample], current_start: datetime) -> list[Sample]:
    """Scale the busiest past 5-hour window so it peaks at :data:`NEAR_LIMIT`."""
    peaks: dict[datetime, float] = {}
    for s in samples:
        if s.five_reset is not None and s.five_reset - FIVE_HOURS < current_start:
            peaks[s.five_reset] = max(peaks.get(s.five_reset, 0.0), s.five)
    if not peaks:
        return samples
    busiest = max(peaks, key=lambda k: peaks[k])
    factor = NEAR_LIMIT / peaks[busiest] if peaks[busiest] else 1.0
    return [replace(s, five=min(100.0, s.five * factor)) if s.five_reset == busiest else s for s in samples]


def _end_at(
    samples: list[Sample], current: Callable[[Sample], bool], field: str, target: float
) -> list[Sample]:
    """Rescale the current instance of a window (the samples ``current`` selects) of ``field``
    ("five" or "week") so its last value is ``target``; a flat instance becomes a straight climb."""
    mine = [i for i, s in enumerate(samples) if current(s)]
    if not mine:
        return samples
    last = getattr(samples[mine[-1]], field)
    out = list(samples)
    for k, i in enumerate(mine):
        value = getattr(out[i], field)
        scaled = value * target / last if last > 0 else target * (k + 1) / len(mine)
        value = round(min(100.0, scaled), 1)
        out[i] = replace(out[i], five=value) if field == "five" else replace(out[i], week=value)
    return out
