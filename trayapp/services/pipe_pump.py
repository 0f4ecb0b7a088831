"""Reads the output pipes of many children on a timer, in batches, instead of a wake per write.

Why: an agent's ``claude -p`` writes stream-json a few lines at a time, each write flushed. With
asyncio's pipe transports every write wakes the event loop (on the app's qasync loop a wake costs
a Qt socket notifier round trip): 20 agents at 1,000 events/s in total made 200 wakes a second,
about 10 % of a core before a single line was parsed. The pump keeps the read ends of the pipes
non-blocking and out of the loop's selector, and empties all of them together every ``interval``
seconds (10 a second by default), so the loop wakes 10 times a second however many children
write, and each child's lines arrive in one chunk per round. What that costs: a line reaches the
queue up to ``interval`` later; a child that writes more than a pipe's buffer (64 KiB on Linux)
per round waits for the next round (back pressure, nothing lost); one round reads at most
``round_cap`` bytes of a pipe so a flooding child cannot hold the loop.

POSIX only (non-blocking pipes); on Windows the runner keeps asyncio's pipe transports.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

READ_SIZE = 64 * 1024


@dataclass(slots=True, eq=False)
class Pipe:
    """A registered pipe: ``done`` is set at its end of file (or when it is discarded)."""

    fd: int
    on_data: Callable[[bytes], None]
    done: asyncio.Future[None]


class PipePump:
    """Drains registered pipe read ends every ``interval`` seconds while any is open."""

    def __init__(self, interval: float = 0.1, round_cap: int = 1024 * 1024) -> None:
        self.interval = interval
        self.round_cap = round_cap
        self._pipes: dict[int, Pipe] = {}
        self._task: asyncio.Task[None] | None = None
        self.rounds = 0  # how many times the pump has run (tests, the benchmark)

    def add(self, fd: int, on_data: Callable[[bytes], None]) -> Pipe:
        """Own ``fd`` (the read end of a pipe: made non-blocking, closed at its end of file, on
        :meth:`discard` or :meth:`close`); ``on_data`` gets each round's bytes."""
        os.set_blocking(fd, False)
        loop = asyncio.get_running_loop()
        pipe = Pipe(fd, on_data, loop.create_future())
        self._pipes[fd] = pipe
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._run(), name="pipe-pump")
        return pipe

    def discard(self, pipe: Pipe) -> None:
        """Stop reading ``pipe`` and close it (a reader that was cancelled); no-op once ended.
        By handle, not fd: a closed fd's number is soon another pipe's."""
        if self._pipes.get(pipe.fd) is pipe:
            self._finish(pipe)

    @property
    def open_pipes(self) -> int:
        return len(self._pipes)

    async def _run(self) -> None:
        try:
            while self._pipes:
                self.drain()
                if self._pipes:
                    await asyncio.sleep(self.interval)
        finally:
            if asyncio.current_task() is self._task:
                self._task = None

    def drain(self) -> None:
        """One round: read what every pipe holds now (up to ``round_cap`` each)."""
        self.rounds += 1
        for pipe in list(self._pipes.values()):
            self._drain_one(pipe)

    def _drain_one(self, pipe: Pipe) -> None:
        chunks: list[bytes] = []
        taken = 0
        ended = False
        while taken < self.round_cap:
            try:
                chunk = os.read(pipe.fd, READ_SIZE)
            except BlockingIOError:
                break
            except OSError as exc:  # EIO and the like: the pipe is unusable, treat as its end
                log.warning("pipe %d could not be read (%s); treated as ended", pipe.fd, exc)
                ended = True
                break
            if not chunk:
                ended = True
                break
            chunks.append(chunk)
            taken += len(chunk)
        if chunks:
            try:
                pipe.on_data(b"".join(chunks))
            except Exception:  # a consumer's bug must not stop the other pipes' reading
                log.exception("a pipe consumer failed")
        if ended:
            self._finish(pipe)

    def _finish(self, pipe: Pipe) -> None:
        self._pipes.pop(pipe.fd, None)
        with contextlib.suppress(OSError):
            os.close(pipe.fd)
        if not pipe.done.done():
            pipe.done.set_result(None)

    def close(self) -> None:
        """Stop reading everything (shutdown): the pipes are closed, their futures done."""
        for pipe in list(self._pipes.values()):
            self._finish(pipe)
        if self._task is not None:
            self._task.cancel()
            self._task = None
