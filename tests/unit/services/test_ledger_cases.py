"""Every duplication case of claude-data-formats.md §1.7, counted once, on the hand-built fixture tree."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from tests.helpers.fixtures_ledger import S1, S2, S3


def test_scan_counts_each_request_once(cases: Path, tracker) -> None:
    stats = tracker.refresh(workers=1)
    assert stats.malformed == 1  # the broken JSON line with a usage marker
    assert stats.files_seen == 5  # memory/ and the workflow journal are skipped
    sessions = tracker.sessions()
    s1 = sessions.rows[S1]
    sonnet = s1.models["claude-sonnet-4-5-20250929"]
    # msg_A final copy (250 output), msg_B once (replay dropped), msg_C twice (two requests), the
    # id-less line, msg_L; resumed copies in S2 are attributed to S1.
    assert (sonnet.input, sonnet.output, sonnet.cache_creation, sonnet.cache_read) == (
        1042,
        962,
        4000,
        263000,
    )
    haiku = s1.models["claude-haiku-4-5-20251001"]
    # msg_E logged inline and in subagents/ counts once; msg_G; legacy agent file msg_H.
    assert (haiku.input, haiku.output, haiku.cache_read) == (35, 350, 100)
    assert "claude-opus-4-8-fast" in s1.models
    assert s1.unpriced == {"claude-mystery-9"}
    assert sessions.rows[S2].total == 40 + 400 + 1000  # only its own msg_D
    assert sessions.rows[S3].total == 11 + 110 + 12 + 120  # invalid UTF-8 line kept, truncated line not
    assert sessions.extra["projects"][S3] == "/work/other"
    assert "<synthetic>" not in str(sessions.rows)


def test_resumed_copy_keeps_first_day(cases: Path, tracker) -> None:
    tracker.refresh(workers=1)
    daily = tracker.daily(stats_cache=False)
    assert sorted(daily.rows) == ["2026-03-01", "2026-03-02", "2026-03-03"]
    assert daily.rows["2026-03-02"].total == 1440  # msg_D only; msg_A/msg_B copies stay on 03-01


def test_rescan_reads_nothing_when_unchanged(cases: Path, tracker) -> None:
    first = tracker.refresh(workers=1)
    before = tracker.sessions().totals.total
    again = tracker.refresh(workers=1)
    assert first.bytes_read > 0
    assert again.bytes_read == 0
    assert again.files_read == 0
    assert before > 0
    assert tracker.sessions().totals.total == before


def test_truncated_last_line_counted_once_completed(cases: Path, tracker) -> None:
    tracker.refresh(workers=1)
    path = cases / "-work-other" / f"{S3}.jsonl"
    full = _complete_k_line()
    data = path.read_bytes()
    assert full.startswith(data[data.rfind(b"\n") + 1 :])
    with open(path, "ab") as fh:
        fh.write(full[len(data) - data.rfind(b"\n") - 1 :])
    stats = tracker.refresh(workers=1)
    assert stats.bytes_read < 1000  # only the appended bytes and the pending tail
    assert tracker.sessions().rows[S3].total == 253 + 13 + 130


def test_shrunk_or_replaced_file_is_reread(cases: Path, tracker) -> None:
    tracker.refresh(workers=1)
    path = cases / "-work-app" / f"{S2}.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:2]))  # keep only msg_A's copy: msg_D gone
    stats = tracker.refresh(workers=1)
    assert stats.files_reset == 1
    assert S2 not in tracker.sessions().rows
    # Replaced by a new file (new inode) with msg_D again.
    tmp = path.with_suffix(".new")
    tmp.write_bytes(b"".join(lines))
    os.replace(tmp, path)
    tracker.refresh(workers=1)
    assert tracker.sessions().rows[S2].total == 1440


def test_history_survives_deleted_transcripts_and_restarts(cases: Path, tracker, tmp_path: Path) -> None:
    from trayapp.services.ledger_service import Tracker
    from trayapp.store.ledger import LedgerRepo

    tracker.refresh(workers=1)
    before = tracker.daily(stats_cache=False).totals.total
    (cases / "-work-app" / f"{S1}.jsonl").unlink()
    stats = tracker.refresh(workers=1)
    assert stats.files_missing == 1
    assert tracker.daily(stats_cache=False).totals.total == before
    tracker.repo.close()
    # A new process: the dedup index is persistent, so a resumed copy in a new file is not recounted.
    repo = LedgerRepo.open(tmp_path / "ledger.sqlite3")
    again = Tracker(repo, table=tracker.table, tz=tracker.tz, cost_mode="calculate")
    copy = cases / "-work-app" / "44444444-4444-4444-8444-444444444444.jsonl"
    copy.write_bytes((cases / "-work-app" / f"{S2}.jsonl").read_bytes())
    again.refresh(workers=1)
    assert again.daily(stats_cache=False).totals.total == before
    tracker.repo = repo  # closed by the fixture


def test_date_filters_and_timezone(cases: Path, tracker) -> None:
    from zoneinfo import ZoneInfo

    tracker.refresh(workers=1)
    only = tracker.daily(date(2026, 3, 2), date(2026, 3, 2), stats_cache=False)
    assert list(only.rows) == ["2026-03-02"]
    tracker.tz = ZoneInfo("Pacific/Kiritimati")  # UTC+14: 10:00Z on 03-01 is 03-02 local
    assert "2026-03-01" not in tracker.daily(stats_cache=False).rows


def _complete_k_line() -> bytes:
    import json

    usage = {"input_tokens": 13, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
             "output_tokens": 130, "service_tier": "standard"}  # fmt: skip
    message = {"id": "msg_K", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5-20250929",
               "content": [{"type": "text", "text": "ok"}], "stop_reason": None, "usage": usage}  # fmt: skip
    d = {"parentUuid": None, "isSidechain": False, "userType": "external", "cwd": "/work/other",
         "sessionId": S3, "version": "2.1.90", "gitBranch": "", "type": "assistant", "message": message,
         "uuid": "u-msg_K-2026-03-03T09:00:03.000Z", "timestamp": "2026-03-03T09:00:03.000Z",
         "requestId": "req_K"}  # fmt: skip
    return json.dumps(d, separators=(",", ":")).encode() + b"\n"
