"""Token prices and the token -> USD rule (claude-data-formats.md §5).

The table is ``resources/pricing.json`` (USD per million tokens: input, output, 5-minute and 1-hour
cache writes, cache reads, an optional ``above_200k`` tier and a fast-mode multiplier), plus user
overrides from the ``tracking.price_overrides`` setting. A transcript model id is matched exactly,
then after removing provider prefixes and suffixes (``anthropic.``, ``us.``, ``vertex_ai/``, ``@date``,
``-v1:0``), then through the table's aliases and dated <-> undated ids. Anything else is *unpriced*:
reported with cost 0 and flagged, never priced as some other model.

Long context follows Anthropic's rule: when a request's ``input + cache_creation + cache_read``
exceeds 200k tokens, *all* its tokens use the model's ``above_200k`` prices (only models that have
them). Cost modes follow ccusage: ``auto`` uses a line's ``costUSD`` when present, ``calculate``
always computes, ``display`` uses only ``costUSD``.
"""

from __future__ import annotations

import json
import re

# typing.TYPE_CHECKING without importing typing (this module is on the warm ``report`` path).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from pathlib import Path
    from typing import Any

COST_MODES = ("auto", "calculate", "display")
_PREFIX = r"^(?:(?:us|eu|apac|global|jp|au)\.)?(?:anthropic[./]|vertex_ai/|bedrock/)?"
_SUFFIX = r"(?:-v\d+(?::\d+)?|@\d{8}|@latest)$"
_DATE = r"-\d{8}$"


def _undated(model: str) -> str:
    return re.sub(_DATE, "", model)


# Plain ``__slots__`` classes, not dataclasses: defining a dataclass costs about a millisecond at
# import time, which the warm ``report`` path cannot afford.
class Rates:
    """USD per million tokens for one model (one tier)."""

    __slots__ = ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read")

    def __init__(
        self, input: float, output: float, cache_write_5m: float, cache_write_1h: float, cache_read: float
    ) -> None:
        self.input = input
        self.output = output
        self.cache_write_5m = cache_write_5m
        self.cache_write_1h = cache_write_1h
        self.cache_read = cache_read

    def _values(self) -> tuple[float, ...]:
        return (self.input, self.output, self.cache_write_5m, self.cache_write_1h, self.cache_read)

    def __eq__(self, other: object) -> bool:
        return type(other) is Rates and self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        return "Rates(input={}, output={}, cache_write_5m={}, cache_write_1h={}, cache_read={})".format(
            *self._values()
        )

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> Rates:
        base = float(obj["input"])

        def get(name: str, factor: float) -> float:
            value = obj.get(name)
            return base * factor if value is None else float(value)

        return cls(base, float(obj["output"]), get("cache_write_5m", 1.25), get("cache_write_1h", 2.0),
                   get("cache_read", 0.1))  # fmt: skip


class ModelPrice:
    """A model's standard rates, its optional above-200k tier and its fast-mode multiplier."""

    __slots__ = ("standard", "above_200k", "fast")

    def __init__(self, standard: Rates, above_200k: Rates | None = None, fast: float = 1.0) -> None:
        self.standard = standard
        self.above_200k = above_200k
        self.fast = fast

    def __eq__(self, other: object) -> bool:
        return type(other) is ModelPrice and (self.standard, self.above_200k, self.fast) == (
            other.standard,
            other.above_200k,
            other.fast,
        )

    def __hash__(self) -> int:
        return hash((self.standard, self.above_200k, self.fast))

    def __repr__(self) -> str:
        return f"ModelPrice(standard={self.standard!r}, above_200k={self.above_200k!r}, fast={self.fast!r})"


class PriceTable:
    """Model id -> :class:`ModelPrice`, with the matching rules of §5.4 (never a fuzzy guess)."""

    def __init__(self, models: Mapping[str, ModelPrice], aliases: Mapping[str, str] | None = None) -> None:
        self.models = dict(models)
        self.aliases = dict(aliases or {})
        self._cache: dict[str, str | None] = {}

    @classmethod
    def load(cls, path: Path, overrides: Iterable[str] = ()) -> PriceTable:
        data = json.loads(path.read_text(encoding="utf-8"))
        models: dict[str, ModelPrice] = {}
        for name, obj in data["models"].items():
            above = obj.get("above_200k")
            models[name] = ModelPrice(
                Rates.from_json(obj), Rates.from_json(above) if above else None, float(obj.get("fast") or 1.0)
            )
        table = cls(models, data.get("aliases", {}))
        for text in overrides:
            name, price = parse_override(text)
            old = table.models.get(table.resolve(name) or name)
            table.models[name] = ModelPrice(price, None, old.fast if old else 1.0)
            table._cache.clear()
        return table

    def resolve(self, model: str) -> str | None:
        """The table key that prices ``model``, or None when unknown."""
        if model in self._cache:
            return self._cache[model]
        found = self._resolve(model)
        self._cache[model] = found
        return found

    def _resolve(self, model: str) -> str | None:
        # The exact id and its alias come first in the candidate order below; checking them before
        # any regular expression is compiled keeps the common case (a known id) cheap.
        if model in self.models:
            return model
        if self.aliases.get(model) in self.models:
            return self.aliases[model]
        candidates = [model]
        bare = re.sub(_SUFFIX, "", re.sub(_PREFIX, "", model))
        if bare != model:
            candidates.append(bare)
        for cand in list(candidates):
            undated = _undated(cand)
            if undated != cand:
                candidates.append(undated)
        for cand in candidates:
            if cand in self.models:
                return cand
            target = self.aliases.get(cand)
            if target in self.models:
                return target
        # An undated id priced by a single dated entry (e.g. claude-haiku-4-5 -> ...-20251001).
        for cand in candidates:
            dated = [k for k in self.models if _undated(k) == cand]
            if len(dated) == 1:
                return dated[0]
        return None

    def price(self, model: str) -> ModelPrice | None:
        key = self.resolve(model)
        return None if key is None else self.models[key]

    def cost(
        self, model: str, inp: int, out: int, cc5: int, cc1: int, cr: int, *, fast: bool, long_context: bool
    ) -> float | None:
        """USD for these tokens, or None when the model is unpriced."""
        p = self.price(model)
        if p is None:
            return None
        r = p.above_200k if long_context and p.above_200k is not None else p.standard
        usd = (
            inp * r.input
            + out * r.output
            + cc5 * r.cache_write_5m
            + cc1 * r.cache_write_1h
            + cr * r.cache_read
        ) / 1_000_000
        return usd * p.fast if fast else usd


def parse_override(text: str) -> tuple[str, Rates]:
    """``model=input/output[/cache_write_5m[/cache_write_1h[/cache_read]]]`` in USD per million tokens."""
    name, sep, rest = text.partition("=")
    name = name.strip()
    parts = [p.strip() for p in rest.split("/")] if sep else []
    if not name or not 2 <= len(parts) <= 5:
        raise ValueError(
            f"price override {text!r}: use model=input/output[/cache_write_5m/cache_write_1h/cache_read]"
        )
    try:
        values = [float(p) if p else None for p in parts]
    except ValueError:
        raise ValueError(
            f"price override {text!r}: prices must be numbers (USD per million tokens)"
        ) from None
    if any(v is not None and v < 0 for v in values) or values[0] is None or values[1] is None:
        raise ValueError(f"price override {text!r}: input and output prices are required and non-negative")
    keys = ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read")
    return name, Rates.from_json(dict(zip(keys, values, strict=False)))


def display_model(model: str, fast: bool) -> str:
    """The model name shown in reports (``-fast`` suffix as ccusage does)."""
    return f"{model}-fast" if fast else model


def group_cost(
    table: PriceTable,
    mode: str,
    model: str,
    tokens: tuple[int, int, int, int, int],
    *,
    fast: bool,
    long_context: bool,
    has_cost: bool,
    recorded: float,
) -> tuple[float, bool]:
    """Cost of a group of entries under ``mode``: (USD, priced). ``recorded`` is the sum of their
    ``costUSD`` (meaningful only when ``has_cost``)."""
    if mode == "display" or (mode == "auto" and has_cost):
        return (recorded if has_cost else 0.0), True
    usd = table.cost(model, *tokens, fast=fast, long_context=long_context)
    if usd is None:
        return 0.0, False
    return usd, True
