"""Issue 19, item 3: no transcript line (and no transcript file) stops local tracking.

Each hostile line sits between good lines of a real transcript; the real scanner (in-process and
through its process pool), the real SQLite ledger and ``claude-watch report`` must skip it, count it,
name its file and line, count the good lines exactly, and do the same on the next (incremental) run.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest

from tests.helpers.fixtures_ledger import S1
from trayapp.__main__ import main
from trayapp.core.ledger import MAX_TOKENS
from trayapp.services import ledger_writer
from trayapp.sources.transcripts.decode import decode_line
from trayapp.sources.transcripts.reader import line_numbers, scan_many, scan_range

MODEL = "claude-sonnet-4-5-20250929"
USER = '{"type":"user","timestamp":"2026-03-01T09:59:00Z","message":{"role":"user","content":"hi"}}'


def line(
    n: int,
    inp: str = "10",
    *,
    out: str = "5",
    ts: str = "2026-03-01T10:00:00Z",
    message_extra: str = "",
    usage_extra: str = "",
    top_extra: str = ',"costUSD":0.25',
) -> str:
    """One assistant usage line, numbers spelled exactly as given (2**63, 1e30...)."""
    return (
        f'{{"type":"assistant","timestamp":"{ts}","sessionId":"{S1}","cwd":"/work/app","requestId":"req_{n}",'
        f'"message":{{"id":"msg_{n}","model":"{MODEL}"{message_extra},'
        f'"usage":{{"input_tokens":{inp},"output_tokens":{out}{usage_extra}}}}}{top_extra}}}'
    )


def deep(n: int) -> str:
    return "[" * n + "]" * n


# The inputs of the report (a-d), then the same patterns through other fields and code paths.
HOSTILE: dict[str, list[str]] = {
    # a) nesting deeper than msgspec goes (RecursionError), inside a valid usage line and on its own
    "a_deep_key_in_usage_line": [line(90, message_extra=',"extra":' + deep(1000))],
    "a_deep_nesting_with_marker": [deep(5000)[:5000] + '"input_tokens"' + deep(5000)[5000:]],
    # b) counts that do not fit SQLite's INTEGER
    "b_count_2_63": [line(90, inp=str(2**63))],
    "b_cache_read_2_64": [line(90, usage_extra=f',"cache_read_input_tokens":{2**64}')],
    # c) a float count (int(1e30) does not fit either)
    "c_float_1e30": [line(90, inp="1e30")],
    "c_float_split_1e19": [line(90, usage_extra=',"cache_creation":{"ephemeral_5m_input_tokens":1e19}')],
    # d) two counts that each fit but whose SUM overflows 64 bits (same 15-minute bucket)
    "d_two_times_2_62_plus_1": [line(90, inp=str(2**62 + 1)), line(91, inp=str(2**62 + 1))],
    "d_two_times_5e18": [line(90, inp="5e18"), line(91, inp="5e18")],
    # the lenient decoder (taken for any odd field, here a float output count) applies the limits too
    "loose_path_over_limit": [line(90, inp=str(MAX_TOKENS + 1), out="1.5")],
    # timestamps no report can work with (year 0 does not parse; 9999 overflows day arithmetic)
    "ts_year_0": [line(90, ts="0000-01-01T00:00:00Z")],
    "ts_year_9999": [line(90, ts="9999-12-31T23:59:59Z")],
    "ts_year_9999_offset": [line(90, ts="9999-12-31T23:59:59-23:59")],
    "ts_before_1970": [line(90, ts="1969-12-31T23:59:59Z")],
    # costs that would make the cost total infinite (or negative)
    "cost_1e308_twice": [line(90, top_extra=',"costUSD":1e308'), line(91, top_extra=',"costUSD":1e308')],
    "cost_negative": [line(90, top_extra=',"costUSD":-1e308')],
    "cost_out_of_float_range": [line(90, top_extra=',"costUSD":1e999')],
}


def good_lines(first: int = 1) -> list[str]:
    """Three good lines (message ids from ``first``): 10+20+30 input, 3 x 5 output, 3 x $0.25."""
    return [
        line(first, "10"),
        line(first + 1, "20", ts="2026-03-01T10:01:00Z"),
        line(first + 2, "30", ts="2026-03-01T10:02:00Z"),
    ]


GOOD = good_lines()


def write_transcript(path: Path, bad: list[str], first: int = 1) -> list[int]:
    """user line, good, <bad lines>, good, user line, good; returns the bad lines' numbers."""
    path.parent.mkdir(parents=True, exist_ok=True)
    good = good_lines(first)
    lines = [USER, good[0], *bad, good[1], USER, good[2]]
    path.write_text("\n".join(lines) + "\n")
    return list(range(3, 3 + len(bad)))


@pytest.mark.parametrize("case", list(HOSTILE))
def test_decode_line_calls_a_hostile_line_malformed(case: str) -> None:
    for raw in HOSTILE[case]:
        assert decode_line(raw.encode(), 0, "p", "s") is False


@pytest.mark.parametrize("case", list(HOSTILE))
def test_tracker_skips_names_and_counts_around_a_hostile_line(case: str, tmp_path: Path, tracker) -> None:
    root = tmp_path / "projects"
    path = root / "-work-app" / f"{S1}.jsonl"
    numbers = write_transcript(path, HOSTILE[case])

    stats = tracker.refresh([root], workers=1)

    assert stats.malformed == len(numbers)
    assert [(p, n) for p, _, n in stats.bad_lines] == [(str(path), n) for n in numbers]
    assert stats.notes() == [
        f"skipped {len(numbers)} malformed usage line(s): " + ", ".join(f"{path}:{n}" for n in numbers)
    ]
    daily = tracker.daily(stats_cache=False)
    assert list(daily.rows) == ["2026-03-01"]
    model = daily.totals.models[MODEL]
    assert (model.input, model.output, model.cache_creation, model.cache_read) == (60, 15, 0, 0)
    assert math.isfinite(daily.totals.cost)
    assert daily.totals.cost > 0

    again = tracker.refresh([root], workers=1)  # warm: nothing new, nothing stuck
    assert again.bytes_read == 0
    assert again.malformed == 0
    assert again.notes() == []
    assert tracker.daily(stats_cache=False).totals.total == 60 + 15


def _cli(capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[dict, str]:
    rc = main(["report", "daily", "--json", "--timezone", "UTC", "--cost-mode", "display", *extra])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    return json.loads(captured.out), captured.err


@pytest.mark.parametrize("case", list(HOSTILE))
def test_report_cli_skips_names_and_counts_around_a_hostile_line(case: str, claude_dir: Path, capsys) -> None:
    path = claude_dir / "projects" / "-work-app" / f"{S1}.jsonl"
    numbers = write_transcript(path, HOSTILE[case])

    out, err = _cli(capsys)
    where = ", ".join(f"{path}:{n}" for n in numbers)
    assert f"note: skipped {len(numbers)} malformed usage line(s): {where}\n" in err
    totals = out["totals"]
    assert (totals["inputTokens"], totals["outputTokens"], totals["totalTokens"]) == (60, 15, 75)
    assert totals["totalCost"] == pytest.approx(0.75)  # the good lines' recorded costs only

    # Second run: warm, nothing to read, the same figures and no note.
    out, err = _cli(capsys)
    assert "malformed" not in err
    assert out["totals"]["totalTokens"] == 75
    assert out["totals"]["totalCost"] == pytest.approx(0.75)

    # Third run: incremental, one more good line and the same hostile line(s) again.
    with open(path, "a") as fh:
        fh.write("\n".join([line(4, "40", ts="2026-03-01T10:03:00Z"), *HOSTILE[case]]) + "\n")
    out, err = _cli(capsys)
    first_new = len(numbers) + 7  # after the 5 + len(numbers) lines written before and the new good one
    where = ", ".join(f"{path}:{first_new + k}" for k in range(len(numbers)))
    assert f"note: skipped {len(numbers)} malformed usage line(s): {where}\n" in err
    assert (out["totals"]["inputTokens"], out["totals"]["outputTokens"]) == (100, 20)
    assert out["totals"]["totalCost"] == pytest.approx(1.0)


def test_every_hostile_line_through_the_process_pool(tmp_path: Path, tracker) -> None:
    """A first scan large enough for the process pool (ranges of one file decoded by several
    workers), the hostile lines spread over the ranges; then an incremental rescan."""
    root = tmp_path / "projects"
    big = root / "-work-app" / f"{S1}.jsonl"
    big.parent.mkdir(parents=True)
    filler = json.dumps({"type": "user", "message": {"content": "x" * (1 << 20)}})  # no usage marker
    hostile = [raw for case in HOSTILE.values() for raw in case]
    body: list[str] = [GOOD[0]]
    bad_numbers: list[int] = []
    for k, raw in enumerate(hostile):
        body.extend([filler] * 3)
        body.append(raw)
        bad_numbers.append(len(body))
        body.append(line(100 + k, "1", ts="2026-03-01T11:00:00Z"))  # good lines in between, one token each
    body.extend([GOOD[1], GOOD[2]])
    big.write_text("\n".join(body) + "\n")
    other = root / "-work-other" / "other.jsonl"
    write_transcript(other, [line(90, inp=str(2**63))], first=11)
    assert big.stat().st_size > ledger_writer.POOL_MIN_BYTES

    stats = tracker.refresh([root], workers=2)

    assert stats.workers == 2
    assert stats.files_read == 2
    assert stats.failed == []
    assert stats.malformed == len(hostile) + 1
    # The first lines by path and line number: the other file's path sorts after the big one's.
    named = ledger_writer.NAMED
    assert [(p, n) for p, _, n in stats.bad_lines] == [(str(big), n) for n in bad_numbers[:named]]
    assert stats.notes()[0].endswith(f"(and {len(hostile) + 1 - ledger_writer.NAMED} more)")
    model = tracker.daily(stats_cache=False).totals.models[MODEL]
    # big: 10 + 20 + 30 and one per good line in between; other: 10 + 20 + 30
    assert model.input == 60 + len(hostile) + 60
    assert model.output == 5 * (3 + len(hostile) + 3)

    with open(big, "a") as fh:
        fh.write(line(4, "40", ts="2026-03-01T12:00:00Z") + "\n" + HOSTILE["b_count_2_63"][0] + "\n")
    again = tracker.refresh([root], workers=2)
    assert again.malformed == 1
    assert again.bad_lines[0][2] == len(body) + 2
    assert tracker.daily(stats_cache=False).totals.models[MODEL].input == model.input + 40


def test_a_file_that_vanishes_or_turns_unreadable_mid_scan_fails_alone(tmp_path: Path, tracker) -> None:
    root = tmp_path / "projects"
    keep = root / "a" / "keep.jsonl"
    gone = root / "b" / "gone.jsonl"
    odd = root / "c" / "odd.jsonl"
    for k, p in enumerate((keep, gone, odd)):
        write_transcript(p, [], first=1 + 10 * k)

    def break_two_files(done: int, total: int) -> None:
        if gone.exists():  # the first call: after the plan (every file stat'ed), before any is read
            gone.unlink()
            odd.unlink()
            odd.mkdir()  # a directory where the transcript was: cannot be read as a file

    stats = tracker.refresh([root], workers=1, progress=break_two_files)

    assert stats.files_read == 1
    assert stats.files_failed == 2
    assert [(p, why.split(":")[0]) for p, why in stats.failed] == [
        (str(gone), "FileNotFoundError"),
        (str(odd), "IsADirectoryError"),
    ]
    assert stats.notes()[0].startswith("could not read 2 transcript file(s), tried again on the next scan: ")
    assert tracker.daily(stats_cache=False).totals.total == 75  # keep.jsonl

    odd.rmdir()
    write_transcript(odd, [], first=21)  # readable again: the next scan reads it; the vanished one is missing
    again = tracker.refresh([root], workers=1)
    assert again.files_failed == 0
    assert again.files_read == 1
    assert again.files_missing == 1
    assert tracker.daily(stats_cache=False).totals.total == 150


def test_scan_many_returns_a_failed_range_instead_of_raising(tmp_path: Path) -> None:
    good = tmp_path / "good.jsonl"
    write_transcript(good, [])
    size = good.stat().st_size
    results = scan_many(
        [(1, str(tmp_path / "missing.jsonl"), 0, 10, "s", True), (2, str(good), 0, size, "s", True)]
    )
    assert results[0].error is not None
    assert results[0].error.startswith("FileNotFoundError")
    assert results[1].error is None
    assert len(results[1].records) == 3


def test_unterminated_deep_last_line_is_consumed_as_malformed(tmp_path: Path) -> None:
    p = tmp_path / "t.jsonl"
    p.write_text(GOOD[0] + "\n" + HOSTILE["a_deep_nesting_with_marker"][0])  # no final newline
    r = scan_range(0, str(p), 0, p.stat().st_size, "s", True)
    assert len(r.records) == 1
    assert r.malformed == 1
    assert r.end_offset == p.stat().st_size
    assert r.bad == [len(GOOD[0]) + 1]


def test_line_numbers(tmp_path: Path) -> None:
    p = tmp_path / "t.jsonl"
    p.write_bytes(b"a\nbb\n\nccc\n")
    assert line_numbers(str(p), [0, 2, 5, 6, 10, 99]) == {0: 1, 2: 2, 5: 3, 6: 4, 10: 5}
    assert line_numbers(str(tmp_path / "missing"), [0]) == {}


def test_counts_at_the_limit_are_counted_and_sum_without_overflow(tmp_path: Path, tracker) -> None:
    root = tmp_path / "projects"
    path = root / "p" / "s.jsonl"
    path.parent.mkdir(parents=True)
    at_limit = [
        line(k, str(MAX_TOKENS), out=str(MAX_TOKENS), usage_extra=f',"cache_read_input_tokens":{MAX_TOKENS}')
        for k in range(20)
    ]
    path.write_text("\n".join(at_limit) + "\n")  # all in one 15-minute bucket
    stats = tracker.refresh([root], workers=1)
    assert stats.malformed == 0
    model = tracker.daily(stats_cache=False).totals.models[MODEL]
    assert (model.input, model.output, model.cache_read) == (20 * MAX_TOKENS,) * 3


def _old_version_ledger(path: Path, transcript: Path) -> None:
    """A ledger as a version before the limits left it (schema 3): the rows its decoder made of the
    transcript's lines, absurd ones included, with the file marked as completely read."""
    from trayapp.store.db import open_database
    from trayapp.store.ledger import LedgerRepo
    from trayapp.store.ledger.schema import MIGRATIONS
    from trayapp.store.ledger.write import Batch, FileState

    repo = LedgerRepo(open_database(path, MIGRATIONS[:3]))
    fid = repo.add_files([(str(transcript), "-work-app", S1)])[str(transcript)]
    minute = 60_000
    t0 = 1772359200000  # 2026-03-01T10:00:00Z

    def row(n: int, inp: int, ts: int, cost: float | None = 0.25) -> tuple:
        return (fid, f"msg_{n}", f"req_{n}", 0, ts, S1, "/work/app", MODEL, inp, 5, 0, 0, 0, 0, cost)

    st = os.stat(transcript)
    batch = Batch()
    batch.rows = [
        row(1, 10, t0),
        row(90, 2**63 - 1, t0 + 16 * minute),  # one row, alone in its bucket: it could be stored
        row(91, 2**62 + 1, t0 + 31 * minute),  # two buckets of one day: their sum overflows
        row(92, 2**62 + 1, t0 + 46 * minute),
        row(93, 10, 253402300799000),  # 9999-12-31T23:59:59Z
        row(94, 10, t0 + 61 * minute, 1e308),  # two recorded costs whose total is infinite
        row(95, 10, t0 + 76 * minute, 1e308),
        row(2, 20, t0 + minute),
        row(3, 30, t0 + 2 * minute),
    ]
    batch.states = [FileState(fid, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_size, 0)]
    repo.apply(batch)
    repo.close()


def test_absurd_rows_stored_by_an_older_version_are_dropped_and_their_lines_named(
    claude_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from trayapp.store.ledger import ledger_file

    path = claude_dir / "projects" / "-work-app" / f"{S1}.jsonl"
    bad = [
        line(90, str(2**63 - 1), ts="2026-03-01T10:16:00Z"),
        line(91, str(2**62 + 1), ts="2026-03-01T10:31:00Z"),
        line(92, str(2**62 + 1), ts="2026-03-01T10:46:00Z"),
        line(93, ts="9999-12-31T23:59:59Z"),
        line(94, ts="2026-03-01T11:01:00Z", top_extra=',"costUSD":1e308'),
        line(95, ts="2026-03-01T11:16:00Z", top_extra=',"costUSD":1e308'),
    ]
    numbers = write_transcript(path, bad)
    _old_version_ledger(ledger_file(), path)

    # Without scanning: the absurd rows are gone (no overflow, finite cost), the good ones stay.
    out, err = _cli(capsys, "--no-scan")
    assert (out["totals"]["inputTokens"], out["totals"]["totalCost"]) == (60, pytest.approx(0.75))

    # The scan reads the file again: its bad lines are named, the good ones counted once.
    out, err = _cli(capsys)
    where = ", ".join(f"{path}:{n}" for n in numbers[: ledger_writer.NAMED])
    assert f"note: skipped {len(bad)} malformed usage line(s): {where} (and 1 more)\n" in err
    assert (out["totals"]["inputTokens"], out["totals"]["outputTokens"]) == (60, 15)
    assert out["totals"]["totalCost"] == pytest.approx(0.75)

    out, err = _cli(capsys)  # and the run after that is an ordinary warm one
    assert "note" not in err
    assert out["totals"]["totalTokens"] == 75


async def test_tracking_service_publishes_around_hostile_lines(claude_dir: Path, qtbot, caplog) -> None:
    """The popup's local usage: every refresh publishes a summary (no ``scan_failed``), the skipped
    lines are logged by file and line."""
    from datetime import UTC, datetime

    from trayapp.core.clock import FakeClock
    from trayapp.services.tracking_service import TrackingService

    path = claude_dir / "projects" / "-work-app" / f"{S1}.jsonl"
    write_transcript(path, [raw for case in HOSTILE.values() for raw in case])
    service = TrackingService(clock=FakeClock(datetime(2026, 3, 1, 12, 0, tzinfo=UTC)), workers=1)
    failed: list[str] = []
    service.scan_failed.connect(failed.append)
    try:
        first = await service.refresh()
        with open(path, "a") as fh:
            fh.write(line(4, "40", ts="2026-03-01T10:03:00Z") + "\n")
        second = await service.refresh()
    finally:
        await service.stop()
    assert failed == []
    assert first is not None
    assert first.tally.total == 75
    assert second is not None
    assert second.tally.total == 75 + 45
    assert f"{path}:3, {path}:4" in caplog.text
