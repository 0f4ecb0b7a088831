"""Qt face of local usage tracking: scans Claude Code's transcripts off the GUI thread and publishes
today's summary (tokens, cost, top sessions and projects, the active 5-hour block).

All ledger work runs in one dedicated worker thread that owns the SQLite connection and the
:class:`~trayapp.services.ledger_service.Tracker`; a cold scan fans out to a process pool from
there. The asyncio side (qasync loop) awaits that thread, so the GUI never blocks. Progress of a
long scan is emitted from the worker thread; Qt queues it to receivers on the GUI thread. Every
refresh also rewrites ``today-cost.json``: this is the one place it is refreshed (see
:mod:`trayapp.services.ledger_service`).

Signals:
    scan_progressed(int, int): bytes done and bytes to read during a scan (only for large scans).
    summary_changed(object): a :class:`~trayapp.services.ledger_service.TodaySummary`.
    scan_failed(str): a readable reason when a scan or an export failed.
    export_finished(str, int): the written path and its number of data rows.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from trayapp.core.clock import Clock, SystemClock
from trayapp.runtime import LoopHealth, run_blocking, spawn, submit
from trayapp.settings import Settings
from trayapp.store.errors import DiskFull

log = logging.getLogger(__name__)

INTERVAL_S = 60.0  # between rescans (a warm rescan costs a stat per transcript)
PROGRESS_MIN_BYTES = 8 * 1024 * 1024  # smaller scans finish before a bar would be seen


class TrackingService(QObject):
    scan_progressed = Signal(int, int)
    summary_changed = Signal(object)
    scan_failed = Signal(str)
    export_finished = Signal(str, int)

    def __init__(
        self,
        settings: Any = None,
        *,
        clock: Clock | None = None,
        interval_s: float = INTERVAL_S,
        workers: int | None = None,
        parent: QObject | None = None,
    ) -> None:
        """``settings``: a loaded :class:`trayapp.settings.Settings` (None: load them in the worker);
        the service follows their ``tracking.*`` keys as they change."""
        super().__init__(parent)
        self.clock = clock or SystemClock()
        self.interval_s = interval_s
        self.workers = workers
        self._settings = settings
        self._unfollow: Callable[[], None] | None = None
        if isinstance(settings, Settings):
            self._unfollow = settings.subscribe("tracking", self._settings_changed)
        # The ledger is read and written only on the runtime's one "ledger" thread.
        self._tracker: Any = None  # created and used only on that thread
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self.summary: Any = None
        self.health = LoopHealth("transcript scanner", base=60.0, cap=1800.0)
        self._retry_in = 0.0  # seconds: the backoff after an unexpected scan failure
        self.disk_full = False  # the latest scan could not write (worker thread's view)

    # --- lifecycle
    def start(self) -> None:
        """Start periodic scanning on the running asyncio loop."""
        if self._task is None or self._task.done():
            self._task = spawn(self._run(), name="tracking-service")

    async def stop(self) -> None:
        if self._unfollow is not None:
            self._unfollow()
            self._unfollow = None
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        async with self._lock:
            await self._in_worker(self._close)

    def apply_settings(self, settings: Any) -> None:
        """New time zone, cost mode or price overrides take effect on the next refresh."""
        self._settings = settings
        submit(self._drop_tracker, lane="ledger")

    def _settings_changed(self, keys: list[str], settings: Settings) -> None:
        self.apply_settings(settings)
        if self._task is not None and not self._task.done():
            spawn(self.refresh(), name="tracking refresh after a settings change")

    # --- work
    async def refresh(self) -> Any:
        """Scan now and return (and emit) today's summary; None after a failure (``scan_failed``)."""
        async with self._lock:
            try:
                summary = await self._in_worker(self._scan_and_summarise)
            except Exception as exc:
                # Logged once with its traceback, counted for doctor; the periodic loop backs off.
                self._retry_in = self.health.failed(exc)
                self.scan_failed.emit(f"Local usage scan failed: {exc}")
                return None
        self.health.succeeded()
        self._retry_in = 0.0
        if self.disk_full:
            self.scan_failed.emit(
                "Disk full: the local usage ledger could not be updated; showing what it holds"
            )
        self.summary = summary
        self.summary_changed.emit(summary)
        return summary

    async def export_csv(self, what: str, out: Path) -> int | None:
        """Write ``daily``, ``sessions`` or ``snapshots`` as CSV; rows written, or None on failure."""
        async with self._lock:
            try:
                count: int = await self._in_worker(self._export, what, out)
            except Exception as exc:
                self.scan_failed.emit(f"Export failed: {exc}")
                return None
        self.export_finished.emit(str(out), count)
        return count

    async def _run(self) -> None:
        while True:
            await self.refresh()
            await asyncio.sleep(max(self.interval_s, self._retry_in))

    async def _in_worker(self, fn: Any, *args: Any) -> Any:
        return await run_blocking(fn, *args, lane="ledger")

    # --- worker-thread side
    def _get_tracker(self) -> Any:
        if self._tracker is None:
            from trayapp import settings as st
            from trayapp.services.ledger_service import Tracker
            from trayapp.store.ledger import LedgerRepo

            cfg = self._settings if self._settings is not None else st.load()
            repo = LedgerRepo.open(check_same_thread=False, read_only_when_full=True)
            self._tracker = Tracker.from_config(cfg, repo)
        return self._tracker

    def _scan_and_summarise(self) -> Any:
        tracker = self._get_tracker()
        now = self.clock.now()
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        try:
            stats = tracker.refresh(progress=self._progress, workers=self.workers)
        except DiskFull as exc:
            # Not a bug: the summary comes from what the ledger holds, the next scan tries again
            # (on a connection opened afresh: a read-only one was opened on a full disk).
            if not self.disk_full:
                log.warning("transcript scan: %s; showing what the ledger holds, retrying", exc)
            self.disk_full = True
            summary = tracker.today(now)
            self._close()
            return summary
        if self.disk_full:
            log.info("transcript scan: the ledger takes writes again")
            self.disk_full = False
        for note in stats.notes():  # skipped lines (file:line) and unreadable files; the scan went on
            log.warning("transcript scan: %s", note)
        summary = tracker.today(now)
        try:
            tracker.write_today(now)
        except OSError as exc:  # the dashboard still gets its summary
            log.warning("cannot write today-cost.json: %s", exc)
        return summary

    def _export(self, what: str, out: Path) -> int:
        from trayapp.services.export import export_csv

        tracker = self._get_tracker() if what != "snapshots" else None
        return export_csv(what, out, tracker)

    def _progress(self, done: int, total: int) -> None:
        if total >= PROGRESS_MIN_BYTES:
            self.scan_progressed.emit(done, total)

    def _drop_tracker(self) -> None:
        self._close()

    def _close(self) -> None:
        if self._tracker is not None:
            self._tracker.repo.close()
            self._tracker = None
