"""The byte-level reader: candidate lines, unterminated tails, range splitting."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.helpers.fixtures_ledger import FIX, S1
from trayapp.core.ledger import merge_into
from trayapp.sources.transcripts.decode import parse_timestamp_ms
from trayapp.sources.transcripts.reader import scan_range


def _all(path: Path, pieces: int) -> tuple[list[tuple], int, int]:
    size = path.stat().st_size
    step = max(1, size // pieces)
    cuts = list(range(0, size, step))
    table: dict = {}
    bad = 0
    end_offset = -1
    for k, a in enumerate(cuts):
        last = k == len(cuts) - 1
        r = scan_range(0, str(path), a, size if last else a + step, "hint", last)
        for rec in r.records:
            merge_into(table, rec)  # copies in different ranges collapse like copies in one
        bad += r.malformed
        if last:
            end_offset = r.end_offset
    return sorted(table.values(), key=repr), bad, end_offset


def test_ranges_at_any_offset_give_the_same_records() -> None:
    path = FIX / "cases" / "projects" / "-work-app" / f"{S1}.jsonl"
    whole, bad, end = _all(path, 1)
    # 12 usage lines: msg_A's three streaming copies and msg_C's two collapse.
    assert len(whole) == 9
    assert bad == 1
    assert end == path.stat().st_size
    for pieces in (2, 3, 7, 50, 400):
        recs, bad2, end2 = _all(path, pieces)
        assert recs == whole, pieces
        assert (bad2, end2) == (bad, end)


def test_unterminated_tail_consumed_only_when_complete_json(tmp_path: Path) -> None:
    src = FIX / "ccusage" / "test-transcript.jsonl"  # ccusage's sample ends without a newline
    r = scan_range(0, str(src), 0, src.stat().st_size, "s", True)
    assert r.end_offset == src.stat().st_size
    partial = tmp_path / "p.jsonl"
    partial.write_bytes(b'{"type":"user"}\n{"type":"assistant","message":{"usage":{"input_')
    r = scan_range(0, str(partial), 0, partial.stat().st_size, "s", True)
    assert r.end_offset == len(b'{"type":"user"}\n')
    assert r.records == []
    assert r.malformed == 0


def test_tail_spanning_ranges_is_owned_by_the_last_range(tmp_path: Path) -> None:
    p = tmp_path / "t.jsonl"
    body = (
        b'{"x":1}\n{"type":"assistant","timestamp":"2026-01-01T00:00:00Z",'
        b'"message":{"id":"m","usage":{"input_tokens":3,"output_tokens":4}}}'
    )
    p.write_bytes(body)
    size = len(body)
    first = scan_range(0, str(p), 0, 20, "s", False)
    last = scan_range(0, str(p), 20, size, "s", True)
    assert first.records == []
    assert len(last.records) == 1
    assert last.end_offset == size


def test_invalid_utf8_costs_at_most_its_line(tmp_path: Path) -> None:
    d = tmp_path / "projects" / "p"
    d.mkdir(parents=True)
    shutil.copy(
        FIX / "cases" / "projects" / "-work-other" / "33333333-3333-4333-8333-333333333333.jsonl",
        d / "s.jsonl",
    )
    r = scan_range(0, str(d / "s.jsonl"), 0, (d / "s.jsonl").stat().st_size, "s", True)
    assert [rec[1] for rec in r.records] == ["msg_I", "msg_J"]


def test_timestamps() -> None:
    assert parse_timestamp_ms("2026-01-09T10:00:00.000Z") == 1767952800000
    assert parse_timestamp_ms("2026-01-09T11:00:00.123+01:00") == 1767952800123
    assert parse_timestamp_ms("yesterday") is None


def test_lines_longer_than_the_map_window(tmp_path: Path, monkeypatch) -> None:
    import mmap

    from trayapp.sources.transcripts import reader

    p = tmp_path / "long.jsonl"
    big = "x" * (3 * mmap.ALLOCATIONGRANULARITY)
    lines = [
        f'{{"type":"assistant","timestamp":"2026-01-01T00:00:0{i}Z","message":{{"id":"m{i}","content":"{big}",'
        f'"usage":{{"input_tokens":{i},"output_tokens":1}}}},"requestId":"r{i}"}}\n'
        for i in range(5)
    ]
    p.write_text("".join(lines))
    normal = scan_range(0, str(p), 0, p.stat().st_size, "s", True)
    monkeypatch.setattr(reader, "WINDOW", mmap.ALLOCATIONGRANULARITY)
    small = scan_range(0, str(p), 0, p.stat().st_size, "s", True)
    assert len(normal.records) == 5
    assert small.records == normal.records
    assert small.end_offset == normal.end_offset == p.stat().st_size


def test_simd_search_and_standard_find_give_the_same_records(monkeypatch) -> None:
    from trayapp.sources.transcripts import reader

    assert reader._simd_find is not None  # stringzilla is a dependency: the fast path is what runs
    paths = sorted((FIX / "cases" / "projects").rglob("*.jsonl")) + sorted((FIX / "ccusage").rglob("*.jsonl"))
    assert len(paths) > 5
    fast = [_all(p, 3) for p in paths]
    monkeypatch.setattr(reader, "_simd_find", None)
    assert [_all(p, 3) for p in paths] == fast
