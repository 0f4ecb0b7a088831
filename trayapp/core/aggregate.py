"""Roll-ups of de-duplicated usage: by day (in a chosen time zone), month, session, project and model,
with costs under a cost mode, shaped like ccusage's JSON so scripts written for it keep working.

The store hands over :class:`GroupRow` sums (tokens of entries sharing a key, model, fast flag,
long-context flag and presence of ``costUSD``); because the price is linear inside such a group,
costing the sums is exact. Day keys come from 15-minute UTC buckets, which every UTC offset in use
divides, so any IANA zone can be applied after the SQL has run.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo

from trayapp.core.pricing import PriceTable, display_model, group_cost

# typing.TYPE_CHECKING without importing typing: this module is on the warm ``report`` path, where
# every millisecond of start-up counts (mypy treats any name TYPE_CHECKING as true).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any

BUCKET_MS = 900_000

# Plain ``__slots__`` classes rather than dataclasses: creating a dataclass costs about a millisecond
# at import time (plus importing dataclasses itself), which a warm report cannot afford.


class GroupRow:
    """Token sums of the entries sharing (key, model, fast, long-context, has-costUSD)."""

    __slots__ = ("key", "model", "fast", "long", "has_cost", "inp", "out", "cc5", "cc1", "cr", "cost",
                 "count", "first_ts", "last_ts")  # fmt: skip

    def __init__(
        self,
        key: str | int,
        model: str,
        fast: bool,
        long: bool,
        has_cost: bool,
        inp: int,
        out: int,
        cc5: int,
        cc1: int,
        cr: int,
        cost: float,
        count: int,
        first_ts: int,
        last_ts: int,
    ) -> None:
        self.key = key
        self.model = model
        self.fast = fast
        self.long = long
        self.has_cost = has_cost
        self.inp = inp
        self.out = out
        self.cc5 = cc5
        self.cc1 = cc1
        self.cr = cr
        self.cost = cost
        self.count = count
        self.first_ts = first_ts
        self.last_ts = last_ts

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        return type(other) is GroupRow and self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        return "GroupRow(" + ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__slots__) + ")"


class Tally:
    """Running totals for one report row (and, inside it, one model)."""

    __slots__ = ("input", "output", "cache_creation", "cache_read", "cost", "entries", "first_ts", "last_ts",
                 "models", "unpriced")  # fmt: skip

    def __init__(
        self,
        input: int = 0,
        output: int = 0,
        cache_creation: int = 0,
        cache_read: int = 0,
        cost: float = 0.0,
        entries: int = 0,
        first_ts: int | None = None,
        last_ts: int | None = None,
        models: dict[str, Tally] | None = None,
        unpriced: set[str] | None = None,
    ) -> None:
        self.input = input
        self.output = output
        self.cache_creation = cache_creation
        self.cache_read = cache_read
        self.cost = cost
        self.entries = entries
        self.first_ts = first_ts
        self.last_ts = last_ts
        self.models: dict[str, Tally] = {} if models is None else models
        self.unpriced: set[str] = set() if unpriced is None else unpriced

    def __eq__(self, other: object) -> bool:
        return type(other) is Tally and all(getattr(self, n) == getattr(other, n) for n in self.__slots__)

    __hash__ = None  # type: ignore[assignment]  # mutable, like the dataclass it replaced

    def __repr__(self) -> str:
        return "Tally(" + ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__slots__) + ")"

    @property
    def total(self) -> int:
        return self.input + self.output + self.cache_creation + self.cache_read

    def add(self, row: GroupRow, cost: float) -> None:
        self.input += row.inp
        self.output += row.out
        self.cache_creation += row.cc5 + row.cc1
        self.cache_read += row.cr
        self.cost += cost
        self.entries += row.count
        self.first_ts = row.first_ts if self.first_ts is None else min(self.first_ts, row.first_ts)
        self.last_ts = row.last_ts if self.last_ts is None else max(self.last_ts, row.last_ts)

    def merge(self, other: Tally) -> None:
        self.input += other.input
        self.output += other.output
        self.cache_creation += other.cache_creation
        self.cache_read += other.cache_read
        self.cost += other.cost
        self.entries += other.entries
        for ts in (other.first_ts, other.last_ts):
            if ts is not None:
                self.first_ts = ts if self.first_ts is None else min(self.first_ts, ts)
                self.last_ts = ts if self.last_ts is None else max(self.last_ts, ts)
        self.unpriced |= other.unpriced
        for name, sub in other.models.items():
            self.models.setdefault(name, Tally()).merge(sub)

    def token_json(self) -> dict[str, Any]:
        return {
            "inputTokens": self.input,
            "outputTokens": self.output,
            "cacheCreationTokens": self.cache_creation,
            "cacheReadTokens": self.cache_read,
            "totalTokens": self.total,
            "totalCost": self.cost,
        }

    def row_json(self) -> dict[str, Any]:
        """ccusage's per-period fields: tokens, cost, modelsUsed, modelBreakdowns."""
        out = self.token_json()
        out["modelsUsed"] = sorted(self.models)
        out["modelBreakdowns"] = [
            {
                "modelName": name,
                "inputTokens": m.input,
                "outputTokens": m.output,
                "cacheCreationTokens": m.cache_creation,
                "cacheReadTokens": m.cache_read,
                "cost": m.cost,
            }
            for name, m in sorted(self.models.items(), key=lambda kv: (-kv[1].cost, kv[0]))
        ]
        return out


def row_cost(table: PriceTable, mode: str, row: GroupRow) -> tuple[float, bool]:
    """(cost, priced) of a group of entries under the cost mode (see :func:`group_cost`)."""
    return group_cost(
        table,
        mode,
        row.model,
        (row.inp, row.out, row.cc5, row.cc1, row.cr),
        fast=row.fast,
        long_context=row.long,
        has_cost=row.has_cost,
        recorded=row.cost,
    )


def rollup(
    rows: Iterable[GroupRow], key: Callable[[GroupRow], str], table: PriceTable, mode: str
) -> dict[str, Tally]:
    """Sum rows into one :class:`Tally` per ``key(row)``, with per-model breakdowns and costs."""
    result: dict[str, Tally] = {}
    for row in rows:
        cost, priced = row_cost(table, mode, row)
        name = display_model(row.model, row.fast)
        tally = result.setdefault(key(row), Tally())
        tally.add(row, cost)
        sub = tally.models.setdefault(name, Tally())
        sub.add(row, cost)
        if not priced:
            tally.unpriced.add(name)
            sub.unpriced.add(name)
    return result


def totals(tallies: Iterable[Tally]) -> Tally:
    out = Tally()
    for t in tallies:
        out.merge(t)
    return out


class DayKeys:
    """Maps 15-minute UTC bucket numbers to ``YYYY-MM-DD`` in ``tz`` (None: the system's local zone,
    DST included), cached per bucket."""

    def __init__(self, tz: tzinfo | None) -> None:
        self.tz = tz
        self._cache: dict[int, str] = {}

    def __call__(self, row: GroupRow) -> str:
        bucket = int(row.key)
        day = self._cache.get(bucket)
        if day is None:
            day = datetime.fromtimestamp(bucket * BUCKET_MS / 1000, self.tz).strftime("%Y-%m-%d")
            self._cache[bucket] = day
        return day


def day_range_ms(since: date | None, until: date | None, tz: tzinfo | None) -> tuple[int | None, int | None]:
    """[start of ``since``, end of ``until``) in ``tz`` as epoch ms (None = open)."""
    lo = hi = None
    if since is not None:
        lo = int(datetime(since.year, since.month, since.day, tzinfo=tz).timestamp() * 1000)
    if until is not None:
        nxt = until + timedelta(days=1)
        hi = int(datetime(nxt.year, nxt.month, nxt.day, tzinfo=tz).timestamp() * 1000)
    return lo, hi


def period_ranges(
    lo_ms: int, hi_ms: int, tz: tzinfo | None, *, monthly: bool = False, weekly: bool = False
) -> list[tuple[str, int, int]]:
    """Consecutive (label, start ms, end ms) days (``YYYY-MM-DD``), weeks (from Monday, labelled
    with that Monday's date) or months (``YYYY-MM``) in ``tz`` (None: system local, DST included)
    covering [lo_ms, hi_ms]."""
    first = datetime.fromtimestamp(lo_ms / 1000, tz).date()
    last = datetime.fromtimestamp(hi_ms / 1000, tz).date()
    out: list[tuple[str, int, int]] = []
    day = first.replace(day=1) if monthly else first - timedelta(days=first.weekday()) if weekly else first
    while day <= last:
        if monthly:
            nxt = date(day.year + day.month // 12, day.month % 12 + 1, 1)
            label = day.strftime("%Y-%m")
        else:
            nxt = day + timedelta(days=7 if weekly else 1)
            label = day.isoformat()
        out.append((label, _midnight_ms(day, tz), _midnight_ms(nxt, tz)))
        day = nxt
    return out


def _midnight_ms(d: date, tz: tzinfo | None) -> int:
    return int(datetime(d.year, d.month, d.day, tzinfo=tz).timestamp() * 1000)


def iso_ms(ts: int | None) -> str | None:
    """Epoch ms -> ``2026-01-09T10:00:00.000Z`` (ccusage's timestamp format)."""
    if ts is None:
        return None
    dt = datetime.fromtimestamp(ts / 1000, UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts % 1000:03d}Z"


def today_in(tz: tzinfo | None, now: datetime) -> str:
    return now.astimezone(tz).strftime("%Y-%m-%d")
