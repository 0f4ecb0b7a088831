"""Five-hour usage blocks with burn rate and projection, following ccusage (claude-data-formats.md §1.11).

A block opens at its first entry's time floored to the full UTC hour and lasts five hours; the next
entry opens a new block when it falls more than five hours after the block start or more than five
hours after the previous entry, and an idle stretch longer than five hours becomes a gap block.
A block is active while its last entry is under five hours old and its end is still ahead. This is a
local heuristic: Anthropic's real window comes from the server and is not hour-aligned.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from trayapp.core.aggregate import iso_ms

HOUR_MS = 3_600_000


@dataclass(frozen=True, slots=True)
class BlockEntry:
    ts: int  # epoch ms
    model: str  # display name (with -fast)
    inp: int
    out: int
    cc: int
    cr: int
    cost: float

    @property
    def total(self) -> int:
        return self.inp + self.out + self.cc + self.cr


@dataclass(frozen=True, slots=True)
class BurnRate:
    tokens_per_minute: float
    tokens_per_minute_for_indicator: float  # input + output only
    cost_per_hour: float


@dataclass(frozen=True, slots=True)
class Projection:
    total_tokens: int
    total_cost: float
    remaining_minutes: int


@dataclass(slots=True)
class Block:
    start_ms: int
    end_ms: int
    is_gap: bool = False
    is_active: bool = False
    entries: list[BlockEntry] = field(default_factory=list)

    @property
    def id(self) -> str:
        return ("gap-" if self.is_gap else "") + (iso_ms(self.start_ms) or "")

    @property
    def actual_end_ms(self) -> int | None:
        return self.entries[-1].ts if self.entries else None

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
        if self.is_gap or len(self.entries) < 2:
            return None
        minutes = (self.entries[-1].ts - self.entries[0].ts) / 60_000
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
            "entries": len(self.entries),
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


def identify_blocks(entries: Sequence[BlockEntry], now_ms: int, hours: int = 5) -> list[Block]:
    """Group time-sorted entries into blocks (gap blocks included)."""
    length = hours * HOUR_MS
    blocks: list[Block] = []
    current: Block | None = None
    for e in entries:
        if current is None:
            current = Block(_floor_hour(e.ts), _floor_hour(e.ts) + length, entries=[e])
            continue
        last = current.entries[-1].ts
        if e.ts - current.start_ms > length or e.ts - last > length:
            blocks.append(_close(current, now_ms, length))
            if e.ts - last > length:
                blocks.append(Block(last + length, e.ts, is_gap=True))
            current = Block(_floor_hour(e.ts), _floor_hour(e.ts) + length, entries=[e])
        else:
            current.entries.append(e)
    if current is not None:
        blocks.append(_close(current, now_ms, length))
    return blocks


def _close(block: Block, now_ms: int, length: int) -> Block:
    last = block.entries[-1].ts
    block.is_active = now_ms - last < length and now_ms < block.end_ms
    return block


def _floor_hour(ts: int) -> int:
    return ts - ts % HOUR_MS


def active_block(blocks: Sequence[Block]) -> Block | None:
    for b in reversed(blocks):
        if b.is_active:
            return b
    return None
