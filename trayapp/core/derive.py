"""Derived state: from a snapshot and its stored samples to an :class:`AccountState`. Pure.

Per window: level, time to reset, burn rate, projection at reset and projected time of 100 %.
The burn rate is the slope (percentage points per hour) over the samples of the *current*
window instance: samples whose ``resets_at`` differs from the current one by more than
:data:`SAME_INSTANCE` belong to an earlier instance and are excluded (the endpoint's
``resets_at`` jitters by microseconds between polls, hence a tolerance, not equality). With
fewer than two usable samples the rate falls back to utilization divided by the time elapsed
since the window started. The binding limit is the window closest to its cap. The snapshot is
stale when older than 10 minutes (statusline) or twice the poll interval (API), or when the
latest attempt failed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from trayapp.core.models import (
    AccountInfo,
    AccountState,
    FetchError,
    Source,
    UsageSnapshot,
    Window,
    WindowState,
    level_for,
)

Sample = tuple[datetime, float, datetime | None]  # (time, utilization, resets_at)

SAME_INSTANCE = timedelta(minutes=10)
MIN_SPAN = timedelta(minutes=10)  # shorter sample spans give wild slopes (but see min_span())
MIN_ELAPSED = timedelta(minutes=5)
STATUSLINE_STALE = timedelta(minutes=10)
MAX_PROJECTION = 1000.0


def same_instance(a: datetime | None, b: datetime | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= SAME_INSTANCE


def min_span(interval: timedelta | None) -> timedelta:
    """Samples must span this long for a slope: 10 minutes, or three polls when polling faster
    (only the demo polls faster than every 2 minutes)."""
    return MIN_SPAN if interval is None else min(MIN_SPAN, 3 * interval)


def burn_rate(
    window: Window, samples: Sequence[Sample], now: datetime, at: datetime, span: timedelta = MIN_SPAN
) -> float | None:
    """Percentage points per hour over the current instance of ``window`` (read at ``at``)."""
    points = [(t, u) for t, u, r in samples if same_instance(r, window.resets_at) and t <= at]
    points.append((at, window.utilization))
    points.sort()
    first_t, first_u = points[0]
    last_t, last_u = points[-1]
    if last_t - first_t >= span and len(points) >= 2:
        hours = (last_t - first_t).total_seconds() / 3600
        return max(0.0, (last_u - first_u) / hours)
    start = window.starts_at
    if start is None:
        return None
    elapsed = at - start
    if elapsed < MIN_ELAPSED:
        return None
    if elapsed > window.length:
        elapsed = window.length
    return max(0.0, window.utilization / (elapsed.total_seconds() / 3600))


def window_state(
    window: Window, samples: Sequence[Sample], now: datetime, at: datetime, span: timedelta = MIN_SPAN
) -> WindowState:
    """Everything derived for one window. ``at`` is when the reading was taken."""
    if window.resets_at is not None and window.resets_at <= now:
        # The window has reset since this (old) reading: it restarted from 0 %.
        fresh = Window(window.id, window.label, window.kind, 0.0, None, window.length)
        return WindowState(fresh, level_for(0.0), None, None, None, None)
    ttr = window.resets_at - now if window.resets_at is not None else None
    rate = burn_rate(window, samples, now, at, span)
    projected: float | None = None
    full_at: datetime | None = None
    if rate is not None:
        hours_since = max(0.0, (now - at).total_seconds() / 3600)
        current = window.utilization + rate * hours_since
        if ttr is not None:
            projected = min(MAX_PROJECTION, current + rate * ttr.total_seconds() / 3600)
        if rate > 0 and window.utilization < 100:
            full_at = at + timedelta(hours=(100 - window.utilization) / rate)
            if window.resets_at is not None and full_at >= window.resets_at:
                full_at = None
    return WindowState(window, level_for(window.utilization), ttr, rate, projected, full_at)


def binding(states: Sequence[WindowState]) -> WindowState | None:
    """The window closest to its cap; on a tie the one that stays blocked longer."""
    if not states:
        return None

    def key(s: WindowState) -> tuple[float, float]:
        ttr = s.time_to_reset.total_seconds() if s.time_to_reset is not None else 0.0
        return (s.window.utilization, ttr)

    return max(states, key=key)


def is_stale(snapshot: UsageSnapshot, now: datetime, interval: timedelta) -> bool:
    age = now - snapshot.fetched_at
    if snapshot.source is Source.STATUSLINE:
        return age > STATUSLINE_STALE
    return age > 2 * interval


def derive_state(
    snapshot: UsageSnapshot | None,
    samples: Mapping[str, Sequence[Sample]],
    now: datetime,
    *,
    interval: timedelta,
    error: FetchError | None = None,
    account: AccountInfo | None = None,
    notices: Sequence[str] = (),
) -> AccountState:
    """Build the :class:`AccountState`. ``error`` is the latest attempt's failure, if it failed."""
    if snapshot is None:
        return AccountState(
            None, error=error, stale=error is not None, account=account, notices=tuple(notices)
        )
    span = min_span(interval)
    states = tuple(
        window_state(w, samples.get(w.id, ()), now, snapshot.fetched_at, span) for w in snapshot.windows
    )
    age = max(0.0, (now - snapshot.fetched_at).total_seconds())
    stale = error is not None or is_stale(snapshot, now, interval)
    return AccountState(
        snapshot=snapshot,
        windows=states,
        binding=binding(states),
        error=error,
        stale=stale,
        age_seconds=age,
        account=account,
        notices=tuple(notices),
    )
