"""Data mapping for the timeline, kept free of Qt so it can be tested and benchmarked alone.

The store hands over rows of ``(time, window_id, utilization, resets_at)``. :func:`build_series`
keeps the rows inside the view, groups them per window, finds reset markers (where a window's
``resets_at`` moved on), breaks the line over gaps in the data, and decimates long runs with a
min/max-per-bucket rule that keeps peaks (90 days of 5-minute samples become a few hundred
points without flattening a spike). :class:`Axis` maps times and percentages to pixels.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

Row = tuple[datetime, str, float, datetime | None]
Point = tuple[float, float]  # (epoch seconds, percent)

RESET_TOLERANCE = timedelta(minutes=10).total_seconds()
GAP = timedelta(minutes=40).total_seconds()


@dataclass(slots=True)
class Series:
    window_id: str
    segments: list[list[Point]] = field(default_factory=list)
    resets: list[float] = field(default_factory=list)

    @property
    def last(self) -> Point | None:
        for seg in reversed(self.segments):
            if seg:
                return seg[-1]
        return None

    def points(self) -> list[Point]:
        return [pt for seg in self.segments for pt in seg]


def decimate(points: Sequence[Point], max_points: int) -> list[Point]:
    """Reduce ``points`` to about ``max_points`` keeping each time bucket's min and max."""
    n = len(points)
    if n <= max_points or max_points < 4:
        return list(points)
    buckets = max_points // 2
    t0, t1 = points[0][0], points[-1][0]
    span = (t1 - t0) or 1.0
    out: list[Point] = [points[0]]
    start = 1
    for b in range(buckets):
        edge = t0 + span * (b + 1) / buckets
        end = start
        while end < n - 1 and points[end][0] <= edge:
            end += 1
        if end > start:
            chunk = points[start:end]
            lo = min(chunk, key=lambda p: p[1])
            hi = max(chunk, key=lambda p: p[1])
            out.extend((lo, hi) if lo[0] <= hi[0] else (hi, lo))
            if lo is hi:
                out.pop()
        start = end
    out.append(points[-1])
    return out


def build_series(
    rows: Iterable[Row],
    since: datetime,
    until: datetime,
    max_points: int = 480,
    order: Sequence[str] = (),
) -> list[Series]:
    """Group history ``rows`` into per-window series for the span ``since``..``until``.

    Windows listed in ``order`` come first, in that order; others follow by id.
    """
    lo, hi = since.timestamp(), until.timestamp()
    raw: dict[str, list[tuple[float, float, float | None]]] = {}
    for t, wid, util, resets_at in rows:
        ts = t.timestamp()
        if lo <= ts <= hi:
            raw.setdefault(wid, []).append((ts, float(util), resets_at.timestamp() if resets_at else None))
    rank = {wid: i for i, wid in enumerate(order)}
    out: list[Series] = []
    for wid in sorted(raw, key=lambda w: (rank.get(w, len(rank)), w)):
        samples = sorted(raw[wid])
        series = Series(wid)
        segment: list[Point] = []
        prev_t: float | None = None
        prev_reset: float | None = None
        for ts, util, reset in samples:
            if prev_t is not None and ts - prev_t > GAP:
                series.segments.append(segment)
                segment = []
            if prev_reset is not None and reset is not None and reset - prev_reset > RESET_TOLERANCE:
                # The window rolled over: mark where the old instance ended (or when we saw it).
                series.resets.append(prev_reset if prev_t is not None and prev_reset <= ts else ts)
            segment.append((ts, max(0.0, util)))
            prev_t = ts
            if reset is not None:
                prev_reset = reset
        series.segments.append(segment)
        budget = max(8, max_points)
        total = sum(len(s) for s in series.segments) or 1
        series.segments = [decimate(s, max(4, round(budget * len(s) / total))) for s in series.segments if s]
        out.append(series)
    return out


@dataclass(frozen=True, slots=True)
class Axis:
    """Maps (epoch seconds, percent) to widget pixels inside a plot rectangle."""

    t0: float
    t1: float
    left: float
    top: float
    width: float
    height: float
    max_percent: float = 100.0

    def x(self, t: float) -> float:
        span = (self.t1 - self.t0) or 1.0
        return self.left + (t - self.t0) / span * self.width

    def y(self, percent: float) -> float:
        v = max(0.0, min(percent, self.max_percent))
        return self.top + self.height - v / self.max_percent * self.height

    def t_at(self, x: float) -> float:
        return self.t0 + (x - self.left) / (self.width or 1.0) * (self.t1 - self.t0)


def nearest(series: Sequence[Series], t: float) -> tuple[Series, Point] | None:
    """The sample closest in time to ``t`` across all series (for the hover read-out)."""
    best: tuple[float, Series, Point] | None = None
    for s in series:
        for seg in s.segments:
            if not seg:
                continue
            # Segments are sorted: binary search for the neighbourhood of t.
            lo, hi = 0, len(seg) - 1
            while lo < hi:
                mid = (lo + hi) // 2
                if seg[mid][0] < t:
                    lo = mid + 1
                else:
                    hi = mid
            for i in (lo - 1, lo):
                if 0 <= i < len(seg):
                    d = abs(seg[i][0] - t)
                    if best is None or d < best[0]:
                        best = (d, s, seg[i])
    return None if best is None else (best[1], best[2])


def view_span(now: datetime, range_key: str) -> tuple[datetime, datetime]:
    """The history span and the axis end for ``ui.timeline_range`` (room on the right for the
    projection to the next reset)."""
    back = timedelta(days=7) if range_key == "7d" else timedelta(hours=24)
    return now - back, now + back * 0.18
