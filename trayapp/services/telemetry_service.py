"""Claude Code's OpenTelemetry as live figures: ingest, totals, persistence, change callbacks.

:class:`TelemetryService` owns the fold (``core/telemetry_fold``: events and counters counted
once) and the store (``store/telemetry_repo``, ``data/telemetry.sqlite3``). The receiver's routes
(``services/telemetry_receiver``) hand it request bodies: :meth:`TelemetryService.ingest`
inflates a gzip body on a worker lane, decodes it (``sources/otlp_decode``, ``sources/otlp_claude``)
on the loop in slices of at most :data:`SLICE_S` (a 500-record batch is some 25 ms of Python: run
on a worker thread it would fight the GUI thread for the GIL, stalling it for longer), folds it
and saves the changes on a worker lane, one post at a time, so the totals in memory and on disk
move together. :meth:`ingest_body` does the same synchronously (the CLI, tests). Listeners
(:meth:`subscribe`, plain callables, no Qt) are told on the loop, at most every :data:`NOTIFY_S`
seconds while posts keep coming: the sessions panel and the dashboard read :meth:`totals`, the
Prometheus exporter too. Totals survive a restart
(:meth:`open` loads them); raw events are kept ``RAW_DAYS`` days.

All dollar figures are Claude Code's own local estimates: :data:`~trayapp.core.telemetry.LABEL`.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

from trayapp import runtime
from trayapp.core.telemetry import TelemetryTotals
from trayapp.core.telemetry_fold import Changes, TelemetryFold
from trayapp.sources import otlp_claude, otlp_decode
from trayapp.store.telemetry_repo import TelemetryRepo

log = logging.getLogger(__name__)

MAX_INFLATED = 32 * 1024 * 1024  # a gzip body inflates to at most this (Claude Code: well under 1 MiB)
SLICE_S = 0.004  # decoding yields to the loop this often
NOTIFY_S = 0.2
PRUNE_EVERY_S = 3600.0


@dataclass(frozen=True, slots=True)
class Ingested:
    """What one post brought: accepted records, refused ones (``partialSuccess``), duplicates."""

    accepted: int
    refused: int
    duplicates: int
    counted: bool  # the totals changed


class TelemetryService:
    """The receiver's store and live totals (see the module docstring).

    Args:
        tz: the day boundary of the "today" figures (``tracking.timezone``; None: local).
        path: the database (default ``data/telemetry.sqlite3``).
        clock: now, aware (tests pin it).
    """

    def __init__(
        self,
        tz: tzinfo | None = None,
        *,
        path: Path | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.path = path
        self.clock = clock or (lambda: datetime.now(UTC))
        self.fold = TelemetryFold(tz)
        self.repo: TelemetryRepo | None = None
        self._lock = threading.Lock()
        self._snapshot: TelemetryTotals | None = None
        self._listeners: list[Callable[[], object]] = []
        self._open_lock: asyncio.Lock | None = None
        self._ingest_lock: asyncio.Lock | None = None
        self._protobuf_loaded = False  # otlp_decode.preload() ran (the first protobuf post)
        self._notify: asyncio.TimerHandle | None = None
        self._notified_at = 0.0
        self._pruned_at = 0.0

    @property
    def is_open(self) -> bool:
        return self.repo is not None

    async def open(self) -> None:
        """Open the store and load the totals on a worker lane (once; later calls return at once)."""
        if self._open_lock is None:
            self._open_lock = asyncio.Lock()
        async with self._open_lock:
            if self.repo is None:
                await runtime.run_blocking(self.open_blocking)
        self._changed()

    def open_blocking(self) -> None:
        """:meth:`open` for threads without a loop (``serve``'s tests, the benchmark, the CLI)."""
        with self._lock:
            if self.repo is not None:
                return
            repo = TelemetryRepo.open(self.path)
            now = self.clock()
            try:
                repo.prune(now)
                repo.load_into(self.fold, now)
            except BaseException:
                repo.close()
                raise
            self.fold.prune(now)
            self.repo, self._snapshot = repo, None

    def set_timezone(self, tz: tzinfo | None) -> None:
        """Days of the "today" figures in ``tz`` from now on (``tracking.timezone`` changed)."""
        with self._lock:
            self.fold.tz = tz
            self._snapshot = None
        self._changed()

    async def close(self) -> None:
        if self._notify is not None:
            self._notify.cancel()
            self._notify = None
        repo, self.repo = self.repo, None
        if repo is not None:
            await runtime.run_blocking(repo.close)

    # ----- reading

    def totals(self) -> TelemetryTotals | None:
        """The latest totals (a cached snapshot); None while the store is not open."""
        if self.repo is None:
            return None
        with self._lock:
            if self._snapshot is None:
                self._snapshot = self.fold.totals(self.clock())
            return self._snapshot

    def subscribe(self, listener: Callable[[], object]) -> Callable[[], None]:
        """Call ``listener()`` on the loop after the totals change; returns the unsubscribe."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    # ----- ingest (a worker lane)

    def reject(self) -> None:
        """Count a refused post (malformed, oversized, unauthenticated, wrong content type)."""
        with self._lock:
            self.fold.rejected_posts += 1
            self._snapshot = None

    async def ingest(self, signal: str, body: bytes, media: str, encoding: str | None) -> Ingested:
        """Ingest one post on the loop (see the module docstring); posts are folded in order.

        Raises:
            OtlpError: the body is not what ``signal`` (``logs``/``metrics``) takes; nothing was
                stored.
        """
        if (encoding or "identity").strip().lower() != "identity":
            body = await runtime.run_blocking(otlp_decode.decompress, body, encoding, MAX_INFLATED)
        if media == otlp_decode.PROTOBUF and not self._protobuf_loaded:
            # The generated protobuf modules (some 4 MB resident, ~50 ms) load with the first
            # protobuf post, on a worker lane, not inside the loop's decoding slices; an app that
            # never receives one (most: telemetry is opt-in in Claude Code) never loads them.
            await runtime.run_blocking(otlp_decode.preload)
            self._protobuf_loaded = True
        now = self.clock()
        found: list[Any] = []
        refused = 0
        if signal == "logs":
            items: Iterator[Any] = otlp_decode.iter_logs(body, media)
        else:
            items = otlp_decode.iter_sums(body, media, otlp_claude.METRICS)
        deadline = time.perf_counter() + SLICE_S
        value: Any
        for item in items:
            if signal == "logs":
                value = otlp_claude.api_request(item, now) if otlp_claude.is_api_request(item) else False
            else:
                value = otlp_claude.counter_point(item) if item.metric in otlp_claude.METRICS else False
            if value is None:
                refused += 1
            elif value is not False:
                found.append(value)
            if time.perf_counter() > deadline:
                await asyncio.sleep(0)
                deadline = time.perf_counter() + SLICE_S
        if self._ingest_lock is None:
            self._ingest_lock = asyncio.Lock()
        async with self._ingest_lock:
            changes = Changes()
            with self._lock:
                if self.repo is None:
                    raise RuntimeError("the telemetry store is not open")
                if signal == "logs":
                    self.fold.add_requests(found, now, changes)
                else:
                    self.fold.add_points(found, now, changes)
                self._snapshot = None
            await runtime.run_blocking(self._save, changes, now)
        return Ingested(len(found), refused, changes.duplicates, changes.counted)

    def _save(self, changes: Changes, now: datetime) -> None:
        """Persist one ingest's changes (a worker lane); on failure the fold reloads from disk."""
        with self._lock:
            repo = self.repo
            if repo is None:
                return
            if changes.counted or changes.streams or changes.series:
                try:
                    repo.save(changes, now)
                except Exception:
                    # Memory and disk disagree now: reload from disk, so a retry of the post
                    # counts it again rather than never.
                    log.exception("telemetry could not be saved; reloading the stored totals")
                    self.fold = _reloaded(self.fold, repo, now)
                    self._snapshot = None
                    raise
            if now.timestamp() - self._pruned_at > PRUNE_EVERY_S:
                self._pruned_at = now.timestamp()
                repo.prune(now)
                self.fold.prune(now)
                self._snapshot = None

    def ingest_body(self, signal: str, body: bytes, media: str, encoding: str | None) -> Ingested:
        """Decompress, decode, fold and persist one post (blocking: call it on a worker lane).

        Raises:
            OtlpError: the body is not what ``signal`` (``logs``/``metrics``) takes; nothing was
                stored.
        """
        raw = otlp_decode.decompress(body, encoding, MAX_INFLATED)
        now = self.clock()
        if signal == "logs":
            requests, refused = otlp_claude.api_requests(otlp_decode.decode_logs(raw, media), now)
            return self._apply(
                lambda changes: self.fold.add_requests(requests, now, changes), len(requests), refused
            )
        points, refused = otlp_claude.counter_points(otlp_decode.decode_sums(raw, media, otlp_claude.METRICS))
        return self._apply(lambda changes: self.fold.add_points(points, now, changes), len(points), refused)

    def _apply(self, fold: Callable[[Changes], None], accepted: int, refused: int) -> Ingested:
        now = self.clock()
        changes = Changes()
        with self._lock:
            if self.repo is None:
                raise RuntimeError("the telemetry store is not open")
            fold(changes)
            self._snapshot = None
        self._save(changes, now)
        return Ingested(accepted, refused, changes.duplicates, changes.counted)

    # ----- change notification (the loop)

    def changed_soon(self) -> None:
        """Tell listeners, now or at most :data:`NOTIFY_S` after the last time (on the loop)."""
        self._changed()

    def _changed(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._fire()
            return
        if self._notify is not None:
            return  # already due
        wait = self._notified_at + NOTIFY_S - loop.time()
        self._notify = loop.call_later(max(0.0, wait), self._fire)

    def _fire(self) -> None:
        self._notify = None
        try:
            self._notified_at = asyncio.get_running_loop().time()
        except RuntimeError:
            pass
        for listener in list(self._listeners):
            try:
                listener()
            except Exception:
                log.exception("telemetry listener failed")


def _reloaded(old: TelemetryFold, repo: TelemetryRepo, now: datetime) -> TelemetryFold:
    fold = TelemetryFold(old.tz)
    fold.rejected_posts = old.rejected_posts
    repo.load_into(fold, now)
    return fold
