"""A scan whose process pool cannot start (no writable /dev/shm) reads in one process instead."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from trayapp.services import ledger_writer
from trayapp.store.ledger import LedgerRepo

LINE = (
    '{"type":"assistant","timestamp":"2026-01-01T10:00:00Z","sessionId":"s","requestId":"r%d",'
    '"message":{"id":"m%d","model":"claude-sonnet-4-5","usage":{"input_tokens":10,"output_tokens":5}}}\n'
)


class NoSemaphores(type(multiprocessing.get_context("spawn"))):  # type: ignore[misc]
    """A start context whose locks fail as SemLock does without a writable /dev/shm."""

    def Lock(self):
        raise PermissionError(13, "Permission denied")


def _corpus(root: Path) -> Path:
    project = root / "projects" / "-p"
    project.mkdir(parents=True)
    for i in range(3):
        (project / f"{i}0000000-0000-4000-8000-000000000000.jsonl").write_text(LINE % (i, i))
    return root / "projects"


def test_scan_falls_back_to_one_process_when_the_pool_cannot_start(tmp_path, monkeypatch, caplog) -> None:
    monkeypatch.setattr(ledger_writer, "_context", lambda: NoSemaphores())
    repo = LedgerRepo.open(tmp_path / "ledger.sqlite3")
    try:
        stats = ledger_writer.scan(repo, [_corpus(tmp_path)], workers=2, pool_min_bytes=1)
    finally:
        repo.close()
    assert stats.records == 3
    assert stats.workers == 0
    assert "scan pool unavailable" in caplog.text


def test_small_scan_uses_the_pool_when_asked(tmp_path) -> None:
    repo = LedgerRepo.open(tmp_path / "ledger.sqlite3")
    try:
        stats = ledger_writer.scan(repo, [_corpus(tmp_path)], workers=2, pool_min_bytes=1)
    finally:
        repo.close()
    assert stats.records == 3
    assert stats.workers == 2
