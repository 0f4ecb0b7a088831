"""Price matching, the long-context rule, fast mode, overrides and cost modes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.fixtures_ledger import PRICES
from trayapp.core.pricing import PriceTable, group_cost, parse_override


def test_matching_dated_aliases_and_providers(table: PriceTable) -> None:
    assert table.resolve("claude-sonnet-4-5-20250929") == "claude-sonnet-4-5-20250929"
    assert table.resolve("claude-haiku-4-5") == "claude-haiku-4-5"
    assert table.resolve("claude-opus-4-8-20260701") == "claude-opus-4-8"  # dated -> undated
    assert table.resolve("anthropic.claude-haiku-4-5-20251001-v1:0") == "claude-haiku-4-5-20251001"
    assert table.resolve("us.anthropic.claude-sonnet-4-5-20250929-v1:0") == "claude-sonnet-4-5-20250929"
    assert table.resolve("vertex_ai/claude-opus-4-1@20250805") == "claude-opus-4-1"
    assert table.resolve("claude-3-5-haiku-latest") == "claude-3-5-haiku-20241022"
    # Never a guess: unknown ids and near misses stay unpriced.
    for unknown in ("claude-mystery-9", "claude-opus", "gpt-4o", "<synthetic>", "claude-sonnet-4-5-x"):
        assert table.resolve(unknown) is None, unknown


def test_cost_formula_and_cache_ttls(table: PriceTable) -> None:
    usd = table.cost("claude-opus-4-8", 1_000_000, 1_000_000, 1_000_000, 1_000_000, 1_000_000,
                     fast=False, long_context=False)  # fmt: skip
    assert usd == pytest.approx(5 + 25 + 6.25 + 10 + 0.5)
    assert table.cost(
        "claude-opus-4-8", 1_000_000, 0, 0, 0, 0, fast=True, long_context=False
    ) == pytest.approx(10)


def test_long_context_premium_applies_to_the_whole_request(table: PriceTable) -> None:
    # Fixture S2 of the spec: all tokens at the premium when input+cache > 200k (Sonnet 4.5).
    normal = table.cost("claude-sonnet-4-5", 1000, 500, 0, 0, 250_000, fast=False, long_context=False)
    long = table.cost("claude-sonnet-4-5", 1000, 500, 0, 0, 250_000, fast=False, long_context=True)
    assert normal == pytest.approx((1000 * 3 + 500 * 15 + 250_000 * 0.3) / 1e6)
    assert long == pytest.approx((1000 * 6 + 500 * 22.5 + 250_000 * 0.6) / 1e6)
    # Models without a premium (4.6+) keep their standard price.
    assert table.cost("claude-opus-4-8", 1, 0, 0, 0, 0, fast=False, long_context=True) == pytest.approx(5e-6)


def test_overrides(tmp_path: Path) -> None:
    t = PriceTable.load(PRICES, ["claude-mystery-9=2/8", "claude-haiku-4-5=1/5/1.25/2/0.05"])
    assert t.cost(
        "claude-mystery-9", 1_000_000, 1_000_000, 0, 0, 0, fast=False, long_context=False
    ) == pytest.approx(10)
    assert t.cost("claude-haiku-4-5", 0, 0, 0, 0, 1_000_000, fast=False, long_context=False) == pytest.approx(
        0.05
    )
    with pytest.raises(ValueError, match="model=input/output"):
        parse_override("claude-x=3")
    with pytest.raises(ValueError, match="numbers"):
        parse_override("claude-x=a/b")


def test_cost_modes(table: PriceTable) -> None:
    tokens = (1_000_000, 0, 0, 0, 0)
    kw = {"fast": False, "long_context": False}
    assert group_cost(table, "auto", "claude-haiku-4-5", tokens, has_cost=True, recorded=0.5, **kw) == (
        0.5,
        True,
    )
    assert group_cost(table, "auto", "claude-haiku-4-5", tokens, has_cost=False, recorded=0, **kw) == (
        1.0,
        True,
    )
    assert group_cost(table, "calculate", "claude-haiku-4-5", tokens, has_cost=True, recorded=0.5, **kw) == (
        1.0,
        True,
    )
    assert group_cost(table, "display", "claude-haiku-4-5", tokens, has_cost=False, recorded=0, **kw) == (
        0.0,
        True,
    )
    assert group_cost(table, "calculate", "claude-mystery", tokens, has_cost=False, recorded=0, **kw) == (
        0.0,
        False,
    )
