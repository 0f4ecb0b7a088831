"""5-hour blocks computed from the ledger's 15-minute pieces equal the blocks computed from every
entry: a hypothesis property on :func:`identify_blocks`, and the tracker end to end on a transcript
with an entry exactly on a block's end followed by another in the same 15 minutes (the one case
where a piece must be split into its entries)."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trayapp.core.blocks import HOUR_MS, BlockEntry, identify_blocks

Q = 900_000  # 15 minutes
T0 = int(datetime(2026, 3, 1, tzinfo=UTC).timestamp() * 1000)


def _pieces(entries: list[BlockEntry]) -> list[BlockEntry]:
    """Sum entries per (15-minute bucket, model), like the ledger's buckets table."""
    groups: dict[tuple[int, str], list[BlockEntry]] = {}
    for e in entries:
        groups.setdefault((e.ts // Q, e.model), []).append(e)
    out = [
        BlockEntry(
            min(e.ts for e in g),
            model,
            sum(e.inp for e in g),
            sum(e.out for e in g),
            sum(e.cc for e in g),
            sum(e.cr for e in g),
            sum(e.cost for e in g),
            max(e.ts for e in g),
            len(g),
        )  # fmt: skip
        for (_, model), g in groups.items()
    ]
    out.sort(key=lambda p: (p.ts, p.model))
    return out


def _close(a: Any, b: Any) -> None:
    if isinstance(a, float) or isinstance(b, float):
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9), (a, b)
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            _close(a[k], b[k])
    elif isinstance(a, list):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _close(x, y)
    else:
        assert a == b


# Offsets in minutes from T0, biased towards whole hours (block ends) and long idle stretches.
offsets = st.one_of(
    st.integers(0, 48 * 60),
    st.integers(0, 48).map(lambda h: h * 60),
    st.tuples(st.integers(0, 48), st.integers(1, 14)).map(lambda hm: hm[0] * 60 + hm[1]),
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            offsets, st.integers(0, 59), st.sampled_from(["claude-a", "claude-b"]), st.integers(1, 500)
        ),
        min_size=1,
        max_size=40,
    ),
    st.integers(0, 60 * 60),
)
def test_pieces_give_the_same_blocks_as_entries(raw: list[tuple[int, int, str, int]], now_min: int) -> None:
    entries = [
        BlockEntry(T0 + m * 60_000 + (s * 1000 if m % 60 else 0), model, tok, tok // 2, 0, 3, tok / 1000)
        for m, s, model, tok in raw
    ]
    entries.sort(key=lambda e: (e.ts, e.model))
    now = T0 + now_min * 60_000
    by_bucket: dict[tuple[int, str], list[BlockEntry]] = {}
    for e in entries:
        by_bucket.setdefault((e.ts // Q, e.model), []).append(e)

    def split(piece: BlockEntry) -> list[BlockEntry]:
        return by_bucket[(piece.ts // Q, piece.model)]

    want = [b.to_json(now) for b in identify_blocks(entries, now)]
    got = [b.to_json(now) for b in identify_blocks(_pieces(entries), now, split=split)]
    _close(got, want)


def test_a_piece_straddling_a_block_end_needs_split() -> None:
    a = BlockEntry(T0, "claude-a", 1, 1, 0, 0, 0.1)
    straddling = BlockEntry(T0 + 5 * HOUR_MS, "claude-a", 2, 2, 0, 0, 0.2, T0 + 5 * HOUR_MS + 60_000, 2)
    with pytest.raises(ValueError, match="split"):
        identify_blocks([a, straddling], T0)
    parts = [BlockEntry(T0 + 5 * HOUR_MS, "claude-a", 1, 1, 0, 0, 0.1),
             BlockEntry(T0 + 5 * HOUR_MS + 60_000, "claude-a", 1, 1, 0, 0, 0.1)]  # fmt: skip
    blocks = identify_blocks([a, straddling], T0, split=lambda p: parts)
    assert [b.entry_count for b in blocks] == [2, 1]  # the entry exactly on the end stays in the block


def _line(msg: str, ts_ms: int, tokens: int, model: str = "claude-sonnet-4-5-20250929") -> str:
    ts = datetime.fromtimestamp(ts_ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts_ms % 1000:03d}Z"
    return json.dumps({
        "type": "assistant", "isSidechain": False, "cwd": "/work/edge", "timestamp": ts,
        "requestId": f"req_{msg}", "sessionId": "44444444-4444-4444-8444-444444444444", "uuid": f"u-{msg}",
        "message": {"id": msg, "type": "message", "role": "assistant", "model": model, "content": [],
                    "usage": {"input_tokens": tokens, "output_tokens": tokens * 2,
                              "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}},
    })  # fmt: skip


def test_tracker_blocks_from_pieces_equal_blocks_from_entries(claude_dir: Path, tracker) -> None:
    start = T0 + 10 * HOUR_MS
    stamps = [start + 60_000, start + 2 * HOUR_MS, start + 5 * HOUR_MS, start + 5 * HOUR_MS + 120_000,
              start + 5 * HOUR_MS + 180_000, start + 11 * HOUR_MS + 7, start + 16 * HOUR_MS + 7]  # fmt: skip
    folder = claude_dir / "projects" / "-work-edge"
    folder.mkdir(parents=True)
    lines = [_line(f"msg_{i}", ts, 100 + i) for i, ts in enumerate(stamps)]
    lines.append(_line("msg_opus", start + 5 * HOUR_MS + 60_000, 7, "claude-opus-4-8"))
    (folder / "44444444-4444-4444-8444-444444444444.jsonl").write_text("\n".join(lines) + "\n")
    tracker.refresh(workers=1)
    now = datetime.fromtimestamp((start + 16 * HOUR_MS + 3_600_000) / 1000, UTC)
    now_ms = int(now.timestamp() * 1000)
    got = [b.to_json(now_ms) for b in tracker.blocks(now=now)]
    want = [b.to_json(now_ms) for b in identify_blocks(tracker.block_entries(), now_ms)]
    _close(got, want)
    assert [b["entries"] for b in got if not b["isGap"]] == [3, 3, 1, 1]
    assert got[-1]["isActive"]
