"""The day/month query cache: served only for the ledger generation it was computed for, voided
by every change, and never waited for."""

from __future__ import annotations

import time
from pathlib import Path

from tests.helpers.fixtures_ledger import S1
from trayapp.core.aggregate import period_ranges
from trayapp.services.ledger_writer import scan
from trayapp.store.ledger import LedgerRepo


def _days(repo: LedgerRepo) -> list[tuple[str, int, int]]:
    bounds = repo.ts_bounds()
    assert bounds is not None
    return period_ranges(bounds[0], bounds[1] + 40 * 86_400_000, None, monthly=False)


def _plain(rows) -> list[tuple]:
    return sorted((r.key, r.model, r.fast, r.long, r.has_cost, r.inp, r.out, r.cc5, r.cc1, r.cr, r.cost,
                   r.count, r.first_ts, r.last_ts) for r in rows)  # fmt: skip


def _cached_keys(repo: LedgerRepo) -> int:
    return int(repo.conn.execute("SELECT COUNT(*) FROM query_cache").fetchone()[0])


def test_cache_serves_a_repeat_and_is_voided_by_new_usage(cases: Path, tmp_path: Path) -> None:
    repo = LedgerRepo.open(tmp_path / "l.sqlite3")
    try:
        scan(repo, [cases], workers=1)
        spans = _days(repo)
        first = _plain(repo.grouped_ranges(spans))
        assert first
        assert _cached_keys(repo) == 1
        assert _plain(repo.grouped_ranges(spans)) == first  # served from the cache
        # The same history again in a new file under new message ids: every sum doubles.
        body = (cases / "-work-app" / f"{S1}.jsonl").read_bytes().replace(b'"msg_', b'"copy_')
        (cases / "-work-app" / "99999999-9999-4999-8999-999999999999.jsonl").write_bytes(body)
        scan(repo, [cases], workers=1)
        assert _cached_keys(repo) == 0  # voided in the same transaction as the change
        after = _plain(repo.grouped_ranges(spans))
        assert after != first
        assert after == _plain(repo.grouped_ranges(spans))
        fresh = sorted(tuple(r) for r in repo._sum_ranges(spans))
        assert [tuple(r[:1]) + tuple(r[1:]) for r in after] == [
            (r[0], r[1], bool(r[2]), bool(r[3]), bool(r[4]), *r[5:]) for r in fresh
        ]
    finally:
        repo.close()


def test_result_computed_before_a_change_is_never_served(cases: Path, tmp_path: Path) -> None:
    repo = LedgerRepo.open(tmp_path / "l.sqlite3")
    try:
        scan(repo, [cases], workers=1)
        spans = _days(repo)
        key = "ranges:" + repr(spans)
        gen = int(repo.conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0])
        stale = [(spans[0][0], "made-up-model", 0, 0, 0, 1, 2, 3, 4, 5, 0.0, 1, 0, 0)]
        # A reader that computed before a writer's change stores its result late, under its old
        # generation; the writer bumped the generation meanwhile.
        repo.conn.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'")
        repo._remember(key, gen, stale)
        assert "made-up-model" not in {r.model for r in repo.grouped_ranges(spans)}
    finally:
        repo.close()


def test_report_does_not_wait_for_a_busy_ledger(cases: Path, tmp_path: Path) -> None:
    db = tmp_path / "l.sqlite3"
    repo = LedgerRepo.open(db)
    writer = LedgerRepo.open(db)
    try:
        scan(repo, [cases], workers=1)
        spans = _days(repo)
        writer.conn.execute("BEGIN IMMEDIATE")  # another process scanning
        started = time.monotonic()
        rows = repo.grouped_ranges(spans)
        assert rows
        assert time.monotonic() - started < 5
        assert _cached_keys(repo) == 0  # nothing stored while the ledger was busy
        writer.conn.execute("ROLLBACK")
        assert _plain(repo.grouped_ranges(spans)) == _plain(rows)
        assert _cached_keys(repo) == 1
    finally:
        writer.close()
        repo.close()


def test_bucket_sums_read_from_the_table_equal_the_entries(cases: Path, tmp_path: Path) -> None:
    repo = LedgerRepo.open(tmp_path / "l.sqlite3")
    try:
        scan(repo, [cases], workers=1)
        from_table = _plain(repo.grouped("bucket"))
        assert from_table
        # A bound off the 15-minute grid takes the entries path; 1 ms excludes nothing here.
        assert _plain(repo.grouped("bucket", 1)) == from_table
    finally:
        repo.close()


def test_session_and_project_sums_are_cached_and_voided_too(cases: Path, tmp_path: Path) -> None:
    repo = LedgerRepo.open(tmp_path / "l.sqlite3")
    try:
        scan(repo, [cases], workers=1)
        sessions, projects = _plain(repo.grouped("session")), repo.session_projects()
        assert _cached_keys(repo) == 2
        assert _plain(repo.grouped("session")) == sessions
        assert repo.session_projects() == projects
        body = (cases / "-work-app" / f"{S1}.jsonl").read_bytes().replace(b'"msg_', b'"copy_')
        body = body.replace(S1.encode(), b"99999999-9999-4999-8999-999999999999")
        (cases / "-work-app" / "99999999-9999-4999-8999-999999999999.jsonl").write_bytes(body)
        scan(repo, [cases], workers=1)
        assert _cached_keys(repo) == 0
        grown = _plain(repo.grouped("session"))
        assert len(grown) > len(sessions)
        assert "99999999-9999-4999-8999-999999999999" in repo.session_projects()
    finally:
        repo.close()


def test_storing_a_result_keeps_the_connections_own_busy_timeout(cases: Path, tmp_path: Path) -> None:
    repo = LedgerRepo.open(tmp_path / "l.sqlite3")
    try:
        scan(repo, [cases], workers=1)
        repo.conn.execute("PRAGMA busy_timeout=1234")
        repo.grouped_ranges(_days(repo))  # a cache miss: stores the result without waiting
        assert repo.conn.execute("PRAGMA busy_timeout").fetchone()[0] == 1234
    finally:
        repo.close()
