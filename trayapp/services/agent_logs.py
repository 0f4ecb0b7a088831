"""Agents' output logs: the raw stream-json lines of each task in ``data/agents/<task id>.log``,
capped per task with one rotation to ``.1``, written in batches on a worker lane; and a short
human tail (assistant lines, tool uses) kept in memory for the views.

A run can print tens of thousands of lines a minute. Writing each line as it comes would put a
file write on the loop per line, so :class:`TaskLog` buffers them and one :class:`LogWriter`
writes every task's batch in one call on the io lane, one flush at a time (so batches stay in
order). Reading a log back (``agents logs``, "Open
log") goes through :func:`read_tail`, capped.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections import deque
from pathlib import Path

from trayapp import paths
from trayapp.runtime import run_blocking

log = logging.getLogger(__name__)

MAX_LOG = 8 * 1024 * 1024  # bytes per log file before it rotates to .1 (so 16 MB a task at most)
FLUSH_BYTES = 256 * 1024  # a batch this big is written at once rather than after FLUSH_DELAY
FLUSH_DELAY = 0.25  # seconds lines wait in memory at most
HUMAN_TAIL = 200  # lines of the human tail kept per task


def logs_dir() -> Path:
    return paths.data_dir() / "agents"


def log_path(task_id: str, base: Path | None = None) -> Path:
    return (base or logs_dir()) / f"{task_id}.log"


def append_rotating(path: Path, data: bytes, cap: int = MAX_LOG) -> None:
    """Append ``data`` to ``path``; when the file would pass ``cap`` it becomes ``<path>.1`` first
    (replacing the older one). Blocking: call on a worker lane."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        size = 0
    if size and size + len(data) > cap:
        os.replace(path, path.with_name(path.name + ".1"))
    if len(data) > cap:  # one batch over the cap alone: keep its end
        data = data[-cap:]
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def remove_logs(paths: list[Path]) -> None:
    """Delete these logs and their rotated halves (pruned tasks). Blocking."""
    for path in paths:
        for one in (path, path.with_name(path.name + ".1")):
            try:
                one.unlink()
            except FileNotFoundError:
                pass
            except OSError as exc:
                log.warning("agents: cannot remove %s: %s", one, exc)


def read_tail(path: Path, max_bytes: int = 64 * 1024) -> list[str]:
    """The last whole lines of ``path`` within ``max_bytes`` (decoded leniently). Blocking."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - max_bytes))
            raw = fh.read(max_bytes)
    except OSError:
        return []
    lines = raw.decode("utf-8", "replace").splitlines()
    return lines[1:] if size > max_bytes and lines else lines


class LogWriter:
    """Writes the buffered lines of many task logs: one flush task, one worker-lane call per
    batch for all of them (20 streaming runs cost a few thread hand-offs a second, not 80)."""

    def __init__(self) -> None:
        self._dirty: dict[Path, TaskLog] = {}
        self._flusher: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self.errors = 0

    def mark(self, task_log: TaskLog, big: bool) -> None:
        self._dirty[task_log.path] = task_log
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.get_running_loop().create_task(self._flush_later())
        if big:
            self._wake.set()

    async def _flush_later(self) -> None:
        try:
            await asyncio.wait_for(self._wake.wait(), FLUSH_DELAY)
        except TimeoutError:
            pass
        await self._write()

    async def _write(self) -> None:
        while self._dirty:
            logs, self._dirty = list(self._dirty.values()), {}
            self._wake.clear()
            batch = [(t.path, t.take(), t.cap) for t in logs]
            failed = await run_blocking(_write_many, batch)
            for path, exc in failed:
                self.errors += 1
                if self.errors <= 3:
                    log.warning("agents: cannot write %s: %s", path, exc)

    async def flush(self) -> None:
        """Everything buffered written (in order with what a running flush writes)."""
        if self._flusher is not None and not self._flusher.done():
            self._wake.set()
            await asyncio.shield(self._flusher)
        await self._write()


def _write_many(batch: list[tuple[Path, bytes, int]]) -> list[tuple[Path, OSError]]:
    failed = []
    for path, data, cap in batch:
        if data:
            try:
                append_rotating(path, data, cap)
            except OSError as exc:
                failed.append((path, exc))
    return failed


class TaskLog:
    """One task's log: :meth:`write` buffers a raw line for the (shared) :class:`LogWriter`;
    :meth:`human` keeps the short tail people read."""

    def __init__(self, path: Path, cap: int = MAX_LOG, writer: LogWriter | None = None) -> None:
        self.path = path
        self.cap = cap
        self.tail: deque[str] = deque(maxlen=HUMAN_TAIL)
        self._buf: list[bytes] = []
        self._size = 0
        self.writer = writer or LogWriter()

    def write(self, line: bytes) -> None:
        self._buf.append(line if line.endswith(b"\n") else line + b"\n")
        self._size += len(line) + 1
        if self._size > self.cap:  # the disk cannot keep up: what rotation would drop goes now
            half = len(self._buf) // 2
            self._buf = self._buf[half:]
            self._size = sum(len(b) for b in self._buf)
        self.writer.mark(self, self._size >= FLUSH_BYTES)

    def take(self) -> bytes:
        data, self._buf, self._size = b"".join(self._buf), [], 0
        return data

    def human(self, line: str) -> None:
        self.tail.append(line)

    async def flush(self) -> None:
        await self.writer.flush()

    async def close(self) -> None:
        await self.writer.flush()
