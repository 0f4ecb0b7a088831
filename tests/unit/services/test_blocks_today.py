"""Five-hour blocks (ccusage semantics), the active block's burn rate and projection, today's summary,
today-cost.json, and the stats-cache fallback."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.helpers.fixtures_ledger import S1
from trayapp.core.blocks import BlockEntry, active_block, identify_blocks

H = 3_600_000


def _e(ts: int, tokens: int = 100, cost: float = 1.0) -> BlockEntry:
    return BlockEntry(ts, "claude-x", tokens, 0, 0, 0, cost)


def test_blocks_floor_to_hour_split_and_gap() -> None:
    t0 = 1_767_952_800_000 + 25 * 60_000  # 10:25Z
    entries = [_e(t0), _e(t0 + 2 * H), _e(t0 + 4 * H + 40 * 60_000), _e(t0 + 12 * H)]
    blocks = identify_blocks(entries, now_ms=t0 + 100 * H)
    assert [(b.is_gap, len(b.entries)) for b in blocks] == [(False, 2), (False, 1), (True, 0), (False, 1)]
    assert blocks[0].start_ms == t0 - 25 * 60_000
    assert blocks[0].end_ms == blocks[0].start_ms + 5 * H
    # The third entry is more than 5 h after the first block's start: new block at its floored hour.
    assert blocks[1].start_ms == t0 + 4 * H + 40 * 60_000 - 5 * 60_000
    assert blocks[2].start_ms == entries[2].ts + 5 * H
    assert blocks[2].end_ms == entries[3].ts
    assert blocks[2].id.startswith("gap-")
    assert active_block(blocks) is None


def test_active_block_burn_rate_and_projection() -> None:
    start = 1_767_952_800_000  # 10:00Z
    entries = [_e(start + 10 * 60_000, 1000, 0.5), _e(start + 70 * 60_000, 2000, 1.0)]
    now = start + 2 * H
    block = active_block(identify_blocks(entries, now))
    assert block is not None
    rate = block.burn_rate()
    assert rate is not None
    assert rate.tokens_per_minute == pytest.approx(3000 / 60)
    assert rate.cost_per_hour == pytest.approx(1.5)
    proj = block.projection(now)
    assert proj is not None
    assert proj.remaining_minutes == 180
    assert proj.total_tokens == 3000 + 50 * 180
    assert proj.total_cost == pytest.approx(1.5 + 1.5 * 3)
    assert block.to_json(now)["burnRate"]["costPerHour"] == pytest.approx(1.5)


def test_today_summary_and_today_cost_file(cases: Path, tracker) -> None:
    from trayapp import paths

    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    tracker.refresh(workers=1)
    assert not (paths.state_dir() / "today-cost.json").exists()  # a scan writes only the ledger
    assert tracker.write_today(now) == paths.state_dir() / "today-cost.json"
    data = json.loads((paths.state_dir() / "today-cost.json").read_text())
    assert data["date"] == "2026-03-01"
    assert data["tokens"] == 269_703
    assert data["cost_usd"] == pytest.approx(tracker.daily(stats_cache=False).rows["2026-03-01"].cost)
    assert data["updated_at"] == "2026-03-01T12:00:00Z"
    today = tracker.today(now)
    assert today.top_sessions[0][0] == S1
    assert today.top_sessions[0][1] == "/work/app"
    assert today.top_projects[0][0] == "/work/app"
    assert today.block is not None
    assert today.block.is_active
    assert today.block.start_ms == int(datetime(2026, 3, 1, 10, tzinfo=UTC).timestamp() * 1000)
    assert tracker.today(datetime(2026, 3, 1, 23, 0, tzinfo=UTC)).block is None


def test_stats_cache_only_for_days_without_transcripts(cases: Path, claude_dir: Path, tracker) -> None:
    (claude_dir / "stats-cache.json").write_text(json.dumps({
        "version": 4, "lastComputedDate": "2026-03-01",
        "dailyModelTokens": [
            {"date": "2026-01-15", "tokensByModel": {"claude-opus-4-5": 3037, "<synthetic>": 5}},
            {"date": "2026-03-01", "tokensByModel": {"claude-sonnet-4-5": 99}},
            {"date": "2026-03-02", "tokensByModel": {"claude-sonnet-4-5": 99}},
        ],
    }))  # fmt: skip
    tracker.refresh(workers=1)
    daily = tracker.daily()
    assert daily.stats_cache == {"2026-01-15": {"claude-opus-4-5": 3037}}
    assert "2026-01-15" not in daily.rows


def test_stats_cache_unknown_version_is_ignored(claude_dir: Path) -> None:
    from trayapp.sources.stats_cache import read_stats_cache

    (claude_dir / "stats-cache.json").write_text('{"version": 99, "dailyModelTokens": []}')
    result = read_stats_cache([claude_dir])
    assert result.days == {}
    assert "unknown stats-cache version" in result.problems[0]
    (claude_dir / "stats-cache.json").write_text("{not json")
    assert read_stats_cache([claude_dir]).problems
