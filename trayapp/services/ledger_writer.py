"""The ledger's write protocol: compares the transcript files with the ledger, reads only what is
new, and merges the rows into the ledger (in one transaction on a first scan, else in batches).

Readers (:mod:`trayapp.sources.transcripts`) find the files and turn byte ranges into rows; the
store (:mod:`trayapp.store.ledger`) keeps them; this module decides what to read, in which worker,
and when the store merges. Per file the ledger remembers (device, inode, size, mtime, offset of the
last complete line). An unchanged file is skipped after one ``stat``; a grown file is read from its
offset; a file that shrank, was replaced (new inode) or was rewritten in place is read again from
the start after its old rows are dropped; a file that vanished keeps its rows (history outlives
Claude Code's 30-day clean-up). Large reads (a cold scan) are split into byte ranges and decoded by
a process pool (fork from a single-threaded CLI on Linux, else forkserver on Linux and spawn
elsewhere: those work in threaded and frozen apps once ``freeze_support`` ran); the parent only
merges, while the workers go on (see :class:`_Merger`). Progress is reported through a callback
as ranges complete.

Nothing in one file stops the scan of the others: malformed lines are skipped and counted (the
first few by file and line number, see :meth:`ScanStats.notes`), and a file that cannot be read
(vanished, unreadable) is left as it was in the ledger and tried again by the next scan.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from trayapp.core.ledger import GKEY, Row, merge_into
from trayapp.sources.transcripts.discovery import TranscriptFile, discover, transcript_roots
from trayapp.store.ledger import LedgerRepo
from trayapp.store.ledger.write import Batch, ColdLoad, FileRow, FileState

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (warm-start cost)

if TYPE_CHECKING:
    import multiprocessing.context
    from concurrent.futures import Future, ProcessPoolExecutor

    from trayapp.sources.transcripts.reader import RangeResult

ProgressFn = Callable[[int, int], None]  # (bytes done, bytes total)

POOL_MIN_BYTES = 48 * 1024 * 1024  # below this a pool costs more than it saves
BATCH_BYTES = 96 * 1024 * 1024  # transcript bytes per ledger transaction (merging overlaps scanning)
FLUSH_GROUPS = 4096  # a cold scan inserts provisional entries in steps of this many new groups
COLD_MAX_ROWS = 100_000  # rows a cold scan holds before its first load (~60 MB; ~3 GiB of history)
MIN_PIECE = 8 * 1024 * 1024
MAX_PIECE = 64 * 1024 * 1024
NAMED = 5  # malformed lines and failed files named in a note (the first ones, by path and line)


class ScanStats:
    """What a scan did (for the CLI's notes, the dashboard and the tests).

    ``bad_lines`` names the first malformed lines: (path, byte offset, 1-based line number or None
    when the file could not be read again to count); ``failed`` the files that could not be read:
    (path, reason)."""

    __slots__ = ("files_seen", "files_read", "files_reset", "files_missing", "files_failed", "bytes_read",
                 "records", "malformed", "bad_lines", "failed", "groups_touched", "workers", "seconds",
                 "roots")  # fmt: skip

    def __init__(self, roots: list[str] | None = None) -> None:
        self.files_seen = self.files_read = self.files_reset = self.files_missing = self.files_failed = 0
        self.bytes_read = self.records = self.malformed = self.groups_touched = self.workers = 0
        self.bad_lines: list[tuple[str, int, int | None]] = []
        self.failed: list[tuple[str, str]] = []
        self.seconds = 0.0
        self.roots: list[str] = roots or []

    def __repr__(self) -> str:
        return "ScanStats(" + ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__slots__) + ")"

    def notes(self) -> list[str]:
        """What the user should know about this scan: skipped lines (where the first ones are) and
        files that could not be read."""
        out: list[str] = []
        if self.malformed:
            named = [f"{p}:{n}" if n else f"{p} (byte {off})" for p, off, n in self.bad_lines[:NAMED]]
            more = self.malformed - len(named)
            text = f"skipped {self.malformed} malformed usage line(s)"
            if named:
                text += ": " + ", ".join(named) + (f" (and {more} more)" if more > 0 else "")
            out.append(text)
        if self.failed:
            named = [f"{p} ({why})" for p, why in self.failed[:NAMED]]
            more = len(self.failed) - len(named)
            out.append(
                f"could not read {len(self.failed)} transcript file(s), tried again on the next scan: "
                + ", ".join(named)
                + (f" (and {more} more)" if more > 0 else "")
            )
        return out


class _Job:
    """One file to read: from ``start`` to ``size`` (as stat'ed), split into ``ranges`` pieces."""

    __slots__ = ("file_id", "path", "start", "size", "dev", "ino", "mtime_ns", "session_hint", "reset",
                 "ranges", "results")  # fmt: skip

    def __init__(
        self, file_id: int, path: str, start: int, size: int, dev: int, ino: int, mtime_ns: int,
        session_hint: str, reset: bool,
    ) -> None:  # fmt: skip
        self.file_id, self.path, self.start, self.size = file_id, path, start, size
        self.dev, self.ino, self.mtime_ns = dev, ino, mtime_ns
        self.session_hint, self.reset = session_hint, reset
        self.ranges = 1
        self.results: list[RangeResult] = []


def plan(repo: LedgerRepo, found: list[TranscriptFile]) -> tuple[list[_Job], list[int]]:
    """Decide what to read: (jobs, ids of files that vanished)."""
    known = repo.files()
    stats: list[tuple[TranscriptFile, os.stat_result]] = []
    for f in found:
        try:
            stats.append((f, os.stat(f.path)))
        except OSError:
            continue
    # New files get their ids in the order they were last written (then by path): a line copied
    # into a resumed session's file ties with its original on time, and the tie goes to the file
    # with the smaller id (core.ledger.origin), so the original session, written earlier, keeps it.
    fresh = sorted((st.st_mtime_ns, f.path, f) for f, st in stats if f.path not in known)
    new = [(f.path, f.project_hint, f.session_hint) for _, _, f in fresh]
    ids = repo.add_files(new) if new else {}
    jobs: list[_Job] = []
    present: set[str] = set()
    for f, st in stats:
        present.add(f.path)
        row: FileRow | None = known.get(f.path)
        if row is None:
            jobs.append(_job(ids[f.path], f, st, 0, reset=False))
            continue
        same_file = (row.dev, row.ino) == (st.st_dev, st.st_ino)
        if same_file and row.size == st.st_size and row.mtime_ns == st.st_mtime_ns:
            continue
        if same_file and st.st_size > row.size and row.offset <= row.size:
            jobs.append(_job(row.id, f, st, row.offset, reset=False))  # appended to
        else:
            jobs.append(_job(row.id, f, st, 0, reset=True))  # shrank, replaced or rewritten
    missing = [row.id for path, row in known.items() if path not in present and not row.missing]
    return jobs, missing


def _job(file_id: int, f: TranscriptFile, st: os.stat_result, start: int, *, reset: bool) -> _Job:
    return _Job(
        file_id, f.path, start, st.st_size, st.st_dev, st.st_ino, st.st_mtime_ns, f.session_hint, reset
    )


def scan(
    repo: LedgerRepo,
    roots: list[Path] | None = None,
    *,
    progress: ProgressFn | None = None,
    workers: int | None = None,
    pool_min_bytes: int = POOL_MIN_BYTES,
) -> ScanStats:
    """Bring the ledger up to date with the transcripts under ``roots`` (default: discovered roots).

    Reads of ``pool_min_bytes`` or more go through a process pool of ``workers``; where the pool
    cannot start (no writable ``/dev/shm`` for its semaphores) the scan runs in this process.
    One scan at a time per ledger file, across processes (``<ledger>.scan.lock``): a second
    command waits, then finds the files the first one recorded (a warm scan), so any number of
    commands and the tray app started together get the same correct totals."""
    from contextlib import nullcontext

    from trayapp.store.db import ProcessLock, database_file

    file = database_file(repo.conn)
    lock = (
        ProcessLock(file.with_name(file.name + ".scan.lock"), on_wait=_tell_waiting)
        if file is not None
        else nullcontext()
    )
    with lock:
        return _scan(repo, roots, progress=progress, workers=workers, pool_min_bytes=pool_min_bytes)


def _tell_waiting() -> None:
    import logging

    logging.getLogger(__name__).info("another process is scanning the transcripts; waiting for it")


def _scan(
    repo: LedgerRepo,
    roots: list[Path] | None,
    *,
    progress: ProgressFn | None,
    workers: int | None,
    pool_min_bytes: int,
) -> ScanStats:
    t0 = time.perf_counter()
    if roots is None:
        roots = transcript_roots()
        # Each added account's folder, once (issue 16). With a single login there is no accounts
        # file and the warm path skips the accounts module (dataclasses, typing).
        from trayapp import paths

        if paths.accounts_file().exists():
            from trayapp.store.accounts_repo import account_transcript_roots

            roots += account_transcript_roots(roots)
    stats = ScanStats(roots=[str(r) for r in roots])
    found = discover(roots)
    stats.files_seen = len(found)
    jobs, missing = plan(repo, found)
    stats.files_missing = len(missing)
    total = sum(j.size - j.start for j in jobs)
    if progress:
        progress(0, total)
    if workers is None:
        workers = min(os.cpu_count() or 1, 4)
    use_pool = workers > 1 and total >= pool_min_bytes and len(jobs) > 0
    pool = _start_pool(workers) if use_pool else None
    use_pool = pool is not None
    if jobs:
        # Imported only when there is something to read: a warm rescan never needs the decoder.
        from trayapp.sources.transcripts.reader import scan_many
    tasks = _split(jobs, workers if use_pool else 1)
    stats.workers = workers if use_pool else 0
    merger = _Merger(repo, stats, missing)
    done_bytes = 0
    by_id = {j.file_id: j for j in jobs}

    def collect(results: Iterable[RangeResult]) -> None:
        nonlocal done_bytes
        for r in results:
            job = by_id[r.file_id]
            job.results.append(r)
            stats.bytes_read += r.bytes_read
            if len(job.results) == job.ranges:
                merger.add(job)
            done_bytes += r.bytes_read
        if progress:
            progress(min(done_bytes, total), total)

    try:
        if pool is not None:
            from concurrent.futures import FIRST_COMPLETED, wait

            with pool:
                futures: set[Future[list[RangeResult]]] = {pool.submit(scan_many, t) for t in tasks}
                while futures:
                    done, futures = wait(futures, return_when=FIRST_COMPLETED)
                    for fut in done:
                        collect(fut.result())
        else:
            for t in tasks:
                collect(scan_many(t))
        merger.close()
    except BaseException:
        merger.abort()
        raise
    if stats.bad_lines:
        _number_bad_lines(stats)
    stats.failed.sort()
    stats.seconds = time.perf_counter() - t0
    return stats


def _number_bad_lines(stats: ScanStats) -> None:
    """Keep the first :data:`NAMED` malformed lines (by path and offset) and find their line numbers
    (counting newlines: done for these few lines only, never on the hot path)."""
    from trayapp.sources.transcripts.reader import line_numbers

    first = sorted(stats.bad_lines)[:NAMED]
    by_path: dict[str, list[int]] = {}
    for path, off, _ in first:
        by_path.setdefault(path, []).append(off)
    numbers = {path: line_numbers(path, offs) for path, offs in by_path.items()}
    stats.bad_lines = [(path, off, numbers[path].get(off)) for path, off, _ in first]


class _Merger:
    """Feeds finished files into the ledger. On an empty ledger (a cold scan) through a
    :class:`ColdLoad`: one transaction, provisional entries inserted while the workers still read;
    a history too big to hold in memory switches to batches after that first load. Otherwise in
    batches of about :data:`BATCH_BYTES` through :meth:`LedgerRepo.apply`, one transaction each."""

    def __init__(self, repo: LedgerRepo, stats: ScanStats, missing: list[int]) -> None:
        self.repo = repo
        self.stats = stats
        self.pending = Batch(missing=missing)
        self.pending_bytes = 0
        self.cold: ColdLoad | None = repo.cold_load() if repo.is_empty() else None
        # Groups already merged by this scan: after a cold load only those can be in the ledger.
        self.seen: set[str] | None = None

    def add(self, job: _Job) -> None:
        stats, pending = self.stats, self.pending
        error = next((r.error for r in job.results if r.error is not None), None)
        if error is not None:
            # The file could not be read (whole): nothing of it is merged and its bookkeeping stays
            # as it was, so the next scan tries it again; the other files go on.
            stats.files_failed += 1
            stats.failed.append((job.path, error))
            job.results = []
            return
        malformed = sum(r.malformed for r in job.results)
        if malformed:
            stats.bad_lines.extend((job.path, off, None) for r in job.results for off in r.bad)
        end_offset = next(r.end_offset for r in job.results if r.last)
        pending.states.append(
            FileState(job.file_id, job.dev, job.ino, job.size, job.mtime_ns, end_offset, malformed)
        )
        if job.reset:
            pending.resets.append(job.file_id)
            stats.files_reset += 1
        stats.malformed += malformed
        stats.files_read += 1
        rows: list[Row] = []
        for r in job.results:
            rows.extend(r.records)
        job.results = []
        if job.ranges > 1:
            # Copies of one line read in different ranges of the file collapse into one row.
            table: dict[tuple[int, str, str, int], Row] = {}
            for row in rows:
                merge_into(table, row)
            rows = list(table.values())
        stats.records += len(rows)
        if self.cold is not None:
            self.cold.add(rows)
            if self.cold.rows >= COLD_MAX_ROWS:
                self._finish_cold()
            elif self.cold.pending >= FLUSH_GROUPS:
                self.cold.flush()
        else:
            pending.rows.extend(rows)
            self.pending_bytes += job.size - job.start
            if self.pending_bytes >= BATCH_BYTES:
                self._commit()

    def _finish_cold(self) -> None:
        assert self.cold is not None
        self.stats.groups_touched += self.cold.finish(self.pending)
        self.seen = set(self.cold.groups)
        self.cold = None
        self.pending = Batch()

    def _commit(self) -> None:
        self.stats.groups_touched += self.repo.apply(self.pending, self.seen)
        if self.seen is not None:
            self.seen.update(r[GKEY] for r in self.pending.rows)
        self.pending = Batch()
        self.pending_bytes = 0

    def close(self) -> None:
        p = self.pending
        if self.cold is not None:
            if self.cold.rows or p.states or p.missing:
                self._finish_cold()
        elif p.rows or p.states or p.resets or p.missing:
            self._commit()

    def abort(self) -> None:
        if self.cold is not None:
            self.cold.abort()


Task = list[tuple[int, str, int, int, str, bool]]


def _split(jobs: list[_Job], workers: int) -> list[Task]:
    """Cut jobs into byte ranges and pack small ones together, largest first (for load balance)."""
    total = sum(j.size - j.start for j in jobs)
    piece = max(MIN_PIECE, min(MAX_PIECE, total // max(1, workers * 4)))
    units: list[tuple[int, tuple[int, str, int, int, str, bool]]] = []
    for job in jobs:
        length = job.size - job.start
        if workers > 1 and length > piece:
            cuts = list(range(job.start, job.size, piece))
            job.ranges = len(cuts)
            for k, a in enumerate(cuts):
                last = k == len(cuts) - 1
                b = job.size if last else a + piece
                units.append((b - a, (job.file_id, job.path, a, b, job.session_hint, last)))
        else:
            job.ranges = 1
            units.append((length, (job.file_id, job.path, job.start, job.size, job.session_hint, True)))
    units.sort(key=lambda u: -u[0])
    tasks: list[Task] = []
    current: Task = []
    size = 0
    for length, unit in units:
        current.append(unit)
        size += length
        if size >= piece:
            tasks.append(current)
            current, size = [], 0
    if current:
        tasks.append(current)
    return tasks


def _start_pool(workers: int) -> ProcessPoolExecutor | None:
    """A process pool of ``workers``, or None where one cannot start (its semaphores need a
    writable ``/dev/shm``; some sandboxes and chroots have none)."""
    # Imported here: a warm scan (the common case) never needs it.
    from concurrent.futures import ProcessPoolExecutor

    try:
        return ProcessPoolExecutor(max_workers=workers, mp_context=_context())
    except (OSError, ImportError) as exc:
        import logging

        logging.getLogger(__name__).warning("scan pool unavailable, reading in one process: %s", exc)
        return None


def _context() -> multiprocessing.context.BaseContext:
    import multiprocessing
    import threading

    if (
        sys.platform.startswith("linux")
        and threading.active_count() == 1
        and not getattr(sys, "frozen", False)
    ):
        # A single-threaded process (the CLI) can fork safely, and forking is the cheapest start.
        return multiprocessing.get_context("fork")
    if sys.platform.startswith("linux"):
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["trayapp.sources.transcripts.reader"])
        return ctx
    return multiprocessing.get_context("spawn")
