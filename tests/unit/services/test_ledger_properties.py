"""Property tests: incremental scanning equals one cold scan, whatever the chunking, and a scan killed
midway (a real child process, SIGKILLed) and rerun gives the same totals."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers.fixtures_ledger import FIX, PRICES
from trayapp.core.pricing import PriceTable
from trayapp.services import ledger_writer
from trayapp.services.ledger_writer import scan
from trayapp.store.ledger import LedgerRepo

CASES = FIX / "cases" / "projects"
_TABLE = PriceTable.load(PRICES)


SLOT_MS = 15 * 60 * 1000  # a bucket is one 15-minute UTC slot
LONG_CONTEXT = 200_000  # prompt tokens (input, cache writes and reads) above which a request is long-context


def _bucket_sums(entries: list[tuple]) -> list[tuple]:
    """The buckets by their definition, summed in Python from ``(ts, model, fast, inp, outp, cc5, cc1,
    cr, cost)`` entries: keyed by (slot, model, fast, long context, has a recorded cost), the token
    sums, the cost total (0.0 when none), the count and the first and last time."""
    sums: dict[tuple, list] = {}
    for ts, model, fast, inp, outp, cc5, cc1, cr, cost in entries:
        key = (
            ts // SLOT_MS,
            model,
            int(fast),
            int(inp + cc5 + cc1 + cr > LONG_CONTEXT),
            int(cost is not None),
        )
        b = sums.setdefault(key, [0, 0, 0, 0, 0, 0.0, 0, ts, ts])
        for i, v in enumerate((inp, outp, cc5, cc1, cr)):
            b[i] += v
        b[5] += cost or 0.0
        b[6] += 1
        b[7], b[8] = min(b[7], ts), max(b[8], ts)
    return [(*k, *v) for k, v in sorted(sums.items())]


def _fingerprint(repo: LedgerRepo) -> list[tuple]:
    # The 15-minute buckets the day reports read must always equal the sums of the entries.
    stored = sorted(tuple(r) for r in repo.conn.execute("SELECT * FROM buckets"))
    entries = repo.conn.execute("SELECT ts, model, fast, inp, outp, cc5, cc1, cr, cost FROM entries")
    expected = _bucket_sums([tuple(r) for r in entries])
    assert [r[:10] + r[11:] for r in stored] == [r[:10] + r[11:] for r in expected]
    assert [r[10] for r in stored] == pytest.approx([r[10] for r in expected])  # cost: float sums
    cols = "gkey, req, ts, session, project, model, inp, outp, cc5, cc1, cr, fast, cost, side, cwd"
    rows = repo.conn.execute(f"SELECT {cols} FROM entries").fetchall()
    # Lines without message.id are keyed by path and offset: compare them relative to their root.
    return sorted((r[0].rpartition("/projects/")[2], *tuple(r)[1:]) for r in rows)


def _cold(root: Path, db: Path) -> list[tuple]:
    repo = LedgerRepo.open(db)
    try:
        scan(repo, [root], workers=1)
        return _fingerprint(repo)
    finally:
        repo.close()


def test_cold_scan_gives_the_same_ledger_however_early_it_flushes(tmp_path: Path, monkeypatch) -> None:
    # Flushing after every file makes provisional single-copy entries that later files (resumed
    # sessions, sidechain replays) turn into repeated groups: finish() must replace them.
    monkeypatch.setattr(ledger_writer, "FLUSH_GROUPS", 10**9)
    once = _cold(CASES, tmp_path / "once.sqlite3")
    monkeypatch.setattr(ledger_writer, "FLUSH_GROUPS", 1)
    repo = LedgerRepo.open(tmp_path / "early.sqlite3")
    try:
        scan(repo, [CASES], workers=1)
        assert _fingerprint(repo) == once
        spanning = repo.conn.execute(
            "SELECT COUNT(*) FROM (SELECT gkey FROM occ GROUP BY gkey HAVING COUNT(DISTINCT file_id) > 1)"
        ).fetchone()[0]
        assert spanning > 0  # the case above really happened
    finally:
        repo.close()


def _has_group_index(repo: LedgerRepo) -> bool:
    sql = "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'entries_key'"
    return repo.conn.execute(sql).fetchone() is not None


def _counted(repo: LedgerRepo) -> list[tuple]:
    """The entries with a message id (lines without one are never deduplicated, by design)."""
    cols = "gkey, req, ts, session, project, model, inp, outp, cc5, cc1, cr, fast, cost"
    sql = f"SELECT {cols} FROM entries WHERE substr(gkey, 1, 1) != char(0) ORDER BY gkey, req"
    return [tuple(r) for r in repo.conn.execute(sql)]


def test_group_index_deferred_by_a_cold_load_is_rebuilt_by_the_next_merge(tmp_path: Path) -> None:
    root = tmp_path / "projects"
    shutil.copytree(CASES, root)
    repo = LedgerRepo.open(tmp_path / "l.sqlite3")
    try:
        assert _has_group_index(repo)  # a new ledger has it
        scan(repo, [root], workers=1)
        assert not _has_group_index(repo)  # the cold load leaves it for later
        cold = _counted(repo)
        # A resumed session: the same lines again in a new file. The merge must find every group.
        first = sorted(root.rglob("*.jsonl"))[0]
        (first.parent / "resumed-copy.jsonl").write_bytes(first.read_bytes())
        scan(repo, [root], workers=1)
        assert _has_group_index(repo)
        plan = " ".join(r[3] for r in repo.conn.execute(
            "EXPLAIN QUERY PLAN SELECT gkey FROM entries WHERE gkey IN (SELECT gkey FROM temp.touched)"
        ))  # fmt: skip
        assert "entries_key" in plan
        assert _counted(repo) == cold  # nothing counted twice
        _fingerprint(repo)  # and the buckets still match the entries
    finally:
        repo.close()


def _sources() -> list[tuple[str, bytes]]:
    out = []
    for p in sorted(CASES.rglob("*.jsonl")):
        out.append((str(p.relative_to(CASES)), p.read_bytes()))
    return out


SOURCES = _sources()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_appending_in_chunks_equals_one_cold_scan(tmp_path_factory, data) -> None:
    base = tmp_path_factory.mktemp("chunks")
    full_root = base / "full" / "projects"
    inc_root = base / "inc" / "projects"
    for rel, body in SOURCES:
        (full_root / rel).parent.mkdir(parents=True, exist_ok=True)
        (full_root / rel).write_bytes(body)
    expected = _cold(full_root, base / "cold.sqlite3")
    # Append every file in random chunks, interleaved across files, scanning after each round.
    cuts = {
        rel: sorted(set(data.draw(st.lists(st.integers(0, len(body)), max_size=6), label=rel)) | {len(body)})
        for rel, body in SOURCES
    }
    repo = LedgerRepo.open(base / "inc.sqlite3")
    written = dict.fromkeys(cuts, 0)
    try:
        rounds = max(len(c) for c in cuts.values())
        for k in range(rounds):
            for rel, body in SOURCES:
                if k < len(cuts[rel]):
                    target = inc_root / rel
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with open(target, "ab") as fh:
                        fh.write(body[written[rel] : cuts[rel][k]])
                    written[rel] = cuts[rel][k]
            scan(repo, [inc_root], workers=1)
        assert _fingerprint(repo) == expected
    finally:
        repo.close()


def test_scan_killed_midway_then_rerun_gives_same_totals(tmp_path: Path) -> None:
    # A history big enough for several transactions: the cases tree copied many times under new ids.
    root = tmp_path / "projects"
    for i in range(40):
        for rel, body in SOURCES:
            target = root / f"copy{i:02d}" / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(body.replace(b'"msg_', f'"m{i}_'.encode()) * 30)
    expected = _cold(root, tmp_path / "cold.sqlite3")
    db = tmp_path / "killed.sqlite3"
    code = (
        "import sys, trayapp.services.ledger_writer as s; from pathlib import Path;"
        "from trayapp.store.ledger import LedgerRepo;"
        # Many small transactions so the kill lands between and inside them (the first is the
        # cold scan's bulk load, the others incremental merges).
        "s.BATCH_BYTES = 64 * 1024; s.COLD_MAX_ROWS = 300;"
        "r = LedgerRepo.open(Path(sys.argv[1]));"
        "print('started', flush=True);"
        "s.scan(r, [Path(sys.argv[2])], workers=1)"
    )
    killed_midway = False
    for delay in (0.15, 0.3, 0.6):
        if db.exists():
            for p in tmp_path.glob("killed.sqlite3*"):
                p.unlink()
        proc = subprocess.Popen([sys.executable, "-c", code, str(db), str(root)], stdout=subprocess.PIPE)
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == b"started"
        time.sleep(delay)
        still_running = proc.poll() is None
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        if still_running:
            repo = LedgerRepo.open(db)
            partial = repo.conn.execute("SELECT COUNT(*) FROM files WHERE offset > 0").fetchone()[0]
            repo.close()
            killed_midway = 0 < partial
            if killed_midway:
                break
    assert killed_midway, "the scan finished before it could be killed; make the corpus bigger"
    repo = LedgerRepo.open(db)
    try:
        scan(repo, [root], workers=1)
        assert _fingerprint(repo) == expected
    finally:
        repo.close()
    shutil.rmtree(root)
