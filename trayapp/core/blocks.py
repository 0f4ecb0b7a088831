"""Five-hour usage blocks with burn rate and projection, following ccusage (claude-data-formats.md §1.11).

A block opens at its first entry's time floored to the full UTC hour and lasts five hours; the next
entry opens a new block when it falls more than five hours after the block start or more than five
hours after the previous entry, and an idle stretch longer than five hours becomes a gap block.
A block is active while its last entry is under five hours old and its end is still ahead. This is a
local heuristic: Anthropic's real window comes from the server and is not hour-aligned.

The input may be single entries or *pieces*: the sums of entries of one model sharing a short
time bucket (first and last timestamp, count), which is what the ledger keeps pre-aggregated. The
result is the same as from the entries themselves, because a piece shorter than the five hours
cannot hide a five-hour gap and, block ends being whole hours, can straddle a block's end only
when its first entry sits exactly on it; :func:`identify_blocks` then asks for that piece's entries.
"""

from __future__ import annotations

from trayapp.core.aggregate import iso_ms

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any

HOUR_MS = 3_600_000


# Plain ``__slots__`` classes, not dataclasses: a blocks report builds tens of thousands of entries,
# and defining dataclasses costs start-up time.
class BlockEntry:
    """One entry, or a piece: ``count`` entries of one model from ``ts`` to ``last_ts`` (epoch ms)."""

    __slots__ = ("ts", "model", "inp", "out", "cc", "cr", "cost", "last_ts", "count")

    def __init__(
        self,
        ts: int,
        model: str,  # display name (with -fast)
        inp: int,
        out: int,
        cc: int,
        cr: int,
        cost: float,
        last_ts: int | None = None,
        count: int = 1,
    ) -> None:
        self.ts = ts
        self.model = model
        self.inp = inp
        self.out = out
        self.cc = cc
        self.cr = cr
        self.cost = cost
        self.last_ts = ts if last_ts is None else last_ts
        self.count = count

    @property
    def total(self) -> int:
        return self.inp + self.out + self.cc + self.cr

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, n) for n in self.__slots__)

    def __eq__(self, other: object) -> bool:
        return type(other) is BlockEntry and self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        return "BlockEntry(" + ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__slots__) + ")"


class BurnRate:
    __slots__ = ("tokens_per_minute", "tokens_per_minute_for_indicator", "cost_per_hour")

    def __init__(
        self, tokens_per_minute: float, tokens_per_minute_for_indicator: float, cost_per_hour: float
    ) -> None:
        self.tokens_per_minute = tokens_per_minute
        self.tokens_per_minute_for_indicator = tokens_per_minute_for_indicator  # input + output only
        self.cost_per_hour = cost_per_hour


class Projection:
    __slots__ = ("total_tokens", "total_cost", "remaining_minutes")

    def __init__(self, total_tokens: int, total_cost: float, remaining_minutes: int) -> None:
        self.total_tokens = total_tokens
        self.total_cost = total_cost
        self.remaining_minutes = remaining_minutes


class Block:
    __slots__ = ("start_ms", "end_ms", "is_gap", "is_active", "entries")

    def __init__(
        self,
        start_ms: int,
        end_ms: int,
        is_gap: bool = False,
        is_active: bool = False,
        entries: list[BlockEntry] | None = None,
    ) -> None:
        self.start_ms = start_ms
        self.end_ms = end_ms
        self.is_gap = is_gap
        self.is_active = is_active
        self.entries: list[BlockEntry] = [] if entries is None else entries  # sorted by ts

    def __repr__(self) -> str:
        return (
            f"Block(start_ms={self.start_ms}, end_ms={self.end_ms}, is_gap={self.is_gap}, "
            f"is_active={self.is_active}, entries={len(self.entries)} piece(s))"
        )

    @property
    def entry_count(self) -> int:
        return sum(e.count for e in self.entries)

    @property
    def id(self) -> str:
        return ("gap-" if self.is_gap else "") + (iso_ms(self.start_ms) or "")

    @property
    def actual_end_ms(self) -> int | None:
        return max(e.last_ts for e in self.entries) if self.entries else None

    def sums(self) -> tuple[int, int, int, int, float]:
        inp = out = cc = cr = 0
        cost = 0.0
        for e in self.entries:
            inp += e.inp
            out += e.out
            cc += e.cc
            cr += e.cr
            cost += e.cost
        return inp, out, cc, cr, cost

    @property
    def total_tokens(self) -> int:
        inp, out, cc, cr, _ = self.sums()
        return inp + out + cc + cr

    def models(self) -> list[str]:
        seen: dict[str, None] = {}
        for e in self.entries:
            seen.setdefault(e.model, None)
        return list(seen)

    def burn_rate(self) -> BurnRate | None:
        end = self.actual_end_ms
        if self.is_gap or end is None or self.entry_count < 2:
            return None
        minutes = (end - self.entries[0].ts) / 60_000
        if minutes <= 0:
            return None
        inp, out, cc, cr, cost = self.sums()
        return BurnRate((inp + out + cc + cr) / minutes, (inp + out) / minutes, cost / minutes * 60)

    def projection(self, now_ms: int) -> Projection | None:
        if not self.is_active or self.is_gap:
            return None
        rate = self.burn_rate()
        if rate is None:
            return None
        remaining = max(0.0, (self.end_ms - now_ms) / 60_000)
        _, _, _, _, cost = self.sums()
        return Projection(
            round(self.total_tokens + rate.tokens_per_minute * remaining),
            round(cost + rate.cost_per_hour / 60 * remaining, 2),
            round(remaining),
        )

    def to_json(self, now_ms: int) -> dict[str, Any]:
        inp, out, cc, cr, cost = self.sums()
        rate = self.burn_rate() if self.is_active else None
        proj = self.projection(now_ms)
        return {
            "id": self.id,
            "startTime": iso_ms(self.start_ms),
            "endTime": iso_ms(self.end_ms),
            "actualEndTime": iso_ms(self.actual_end_ms),
            "isActive": self.is_active,
            "isGap": self.is_gap,
            "entries": self.entry_count,
            "tokenCounts": {
                "inputTokens": inp,
                "outputTokens": out,
                "cacheCreationInputTokens": cc,
                "cacheReadInputTokens": cr,
            },
            "totalTokens": inp + out + cc + cr,
            "costUSD": cost,
            "models": self.models(),
            "burnRate": None
            if rate is None
            else {
                "tokensPerMinute": rate.tokens_per_minute,
                "tokensPerMinuteForIndicator": rate.tokens_per_minute_for_indicator,
                "costPerHour": rate.cost_per_hour,
            },
            "projection": None
            if proj is None
            else {
                "totalTokens": proj.total_tokens,
                "totalCost": proj.total_cost,
                "remainingMinutes": proj.remaining_minutes,
            },
        }


def identify_blocks(
    entries: Sequence[BlockEntry],
    now_ms: int,
    hours: int = 5,
    split: Callable[[BlockEntry], list[BlockEntry]] | None = None,
) -> list[Block]:
    """Group time-sorted entries (or pieces, each shorter than ``hours``) into blocks, gap blocks
    included. ``split(piece)`` returns a piece's single entries, in time order; it is called only
    for a piece that straddles a block's end (needed whenever ``entries`` holds pieces)."""
    length = hours * HOUR_MS
    blocks: list[Block] = []
    current: Block | None = None
    last = 0  # time of the latest entry in ``current``
    stream = iter(entries)
    ahead = next(stream, None)
    expanded: list[BlockEntry] = []  # entries of split pieces not yet taken, latest first
    while True:
        # Split entries merge back into time order with the pieces still to come.
        if expanded and (ahead is None or (expanded[-1].ts, expanded[-1].model) <= (ahead.ts, ahead.model)):
            e = expanded.pop()
        elif ahead is not None:
            e, ahead = ahead, next(stream, None)
        else:
            break
        if current is None:
            current = Block(_floor_hour(e.ts), _floor_hour(e.ts) + length, entries=[e])
            last = e.last_ts
            continue
        if e.last_ts > e.ts and e.ts - current.start_ms <= length < e.last_ts - current.start_ms:
            if split is None:
                raise ValueError("a piece straddles a block's end and no split() was given")
            expanded.extend(split(e))
            expanded.sort(key=lambda x: (x.ts, x.model), reverse=True)
            continue
        if e.ts - current.start_ms > length or e.ts - last > length:
            blocks.append(_close(current, now_ms, length))
            if e.ts - last > length:
                blocks.append(Block(last + length, e.ts, is_gap=True))
            current = Block(_floor_hour(e.ts), _floor_hour(e.ts) + length, entries=[e])
            last = e.last_ts
        else:
            current.entries.append(e)
            last = max(last, e.last_ts)
    if current is not None:
        blocks.append(_close(current, now_ms, length))
    return blocks


def _close(block: Block, now_ms: int, length: int) -> Block:
    last = block.actual_end_ms
    assert last is not None  # a closed non-gap block has entries
    block.is_active = now_ms - last < length and now_ms < block.end_ms
    return block


def _floor_hour(ts: int) -> int:
    return ts - ts % HOUR_MS


def active_block(blocks: Sequence[Block]) -> Block | None:
    for b in reversed(blocks):
        if b.is_active:
            return b
    return None
