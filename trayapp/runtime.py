"""One runtime for background work: tasks, worker lanes and the health of long-lived loops.

- :func:`spawn` starts a fire-and-forget coroutine on the running loop, keeps a reference (the
  loop only keeps weak ones, so an unreferenced task can vanish mid-run) and logs its failure;
  :func:`try_spawn` does the same when a loop runs and quietly drops the coroutine otherwise (a
  widget shown in a test without one). A task may belong to a *group* (any hashable, often the
  object that started it): :func:`wait` waits for a group without cancelling it, and
  :func:`drain` ends a group (or everything, at shutdown): cancel first, or with
  ``cancel_after=True`` let it finish for up to ``timeout`` and cancel only what is left. Neither
  raises when time runs out; they return whether everything ended.
- :func:`run_blocking` runs a blocking call (file reads, SQLite, keyring) on a bounded set of
  daemon threads per *lane*, so a slow keyring prompt cannot starve the ledger and the GUI thread
  never blocks. Plain threads, not the loop's default executor: under qasync that is a pool of
  QThreads, which crash the interpreter at exit when many event loops come and go (see
  :class:`_Lane` for the rest of the reasons). Callers without an event loop (the CLI, a worker
  thread) use :func:`submit` (a ``concurrent.futures.Future``) or :func:`call_with_timeout`,
  which waits at most so long for the lane's answer.
- :class:`LoopHealth` is what every long-lived loop (poller, scanner, outbox, watchers) reports
  to: an unexpected exception is logged once with its traceback (repeats of the same error only
  counted), counted, and answered with an exponential backoff, never a tight retry. The counts
  are written to ``loop-health.json`` in the state folder, which ``claude-watch doctor`` shows.

Standard library only; nothing here imports Qt.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Coroutine, Hashable
from concurrent.futures import Future
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")

HEALTH_FILE = "loop-health.json"
# Generic loop backoff after an unexpected exception: 5 s doubling to 5 minutes. The usage
# poller has its own, longer, request backoff on top (core.poll_policy).
LOOP_BACKOFF_BASE = 5.0
LOOP_BACKOFF_CAP = 300.0
# How many lanes and threads: io (files, version probes), ledger (SQLite), keyring (may block on
# an unlock prompt for minutes, so it never shares threads with the others).
LANES: dict[str, int] = {"io": 4, "ledger": 1, "keyring": 1}

# Every task started with spawn() -> its group (None when it has none).
_tasks: dict[asyncio.Task[Any], Hashable | None] = {}
_lanes: dict[str, _Lane] = {}
_lanes_lock = threading.Lock()
_where = threading.local()  # .lane: the name of the lane whose thread this is
# How long drain(cancel_after=True) gives cancelled tasks to unwind (their finally blocks).
CANCEL_GRACE = 1.0


# --- tasks -------------------------------------------------------------------------------------


def spawn(coro: Coroutine[Any, Any, T], name: str, *, group: Hashable | None = None) -> asyncio.Task[T]:
    """Run ``coro`` as a task named ``name`` on the running loop; keep it, log it if it fails.

    ``group`` is what :func:`wait` and :func:`drain` select tasks by: usually the object that
    started them, so it waits for its own work and nobody else's. Raises RuntimeError when no
    loop runs in this thread (``coro`` is closed, not leaked).
    """
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        coro.close()  # no "coroutine was never awaited" warning on top of the error
        raise
    task = loop.create_task(coro, name=name)
    _tasks[task] = group
    task.add_done_callback(_task_done)
    return task


def try_spawn(
    coro: Coroutine[Any, Any, T], name: str, *, group: Hashable | None = None
) -> asyncio.Task[T] | None:
    """:func:`spawn` when an event loop runs in this thread; otherwise close ``coro``, return None
    (work started on a click in a widget test or a script, where nothing could run it)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        coro.close()
        log.debug("no running event loop: %s skipped", name)
        return None
    return spawn(coro, name, group=group)


def _task_done(task: asyncio.Task[Any]) -> None:
    _tasks.pop(task, None)
    if task.cancelled():
        return
    exc = task.exception()
    if exc is not None:
        log.error("background task %s failed", task.get_name(), exc_info=exc)


def _running(loop: asyncio.AbstractEventLoop, group: Hashable | None) -> list[asyncio.Task[Any]]:
    """This loop's unfinished tasks of ``group`` (every group when None), never the caller's own."""
    me = asyncio.current_task()
    return [
        t
        for t, g in list(_tasks.items())
        if t.get_loop() is loop and not t.done() and t is not me and (group is None or g == group)
    ]


async def wait(timeout: float | None = None, *, group: Hashable | None = None) -> bool:
    """Wait, without cancelling, until the tasks of ``group`` (every task when None) have ended,
    those started meanwhile included. False when ``timeout`` passed first (they keep running)."""
    loop = asyncio.get_running_loop()
    deadline = None if timeout is None else loop.time() + timeout
    while True:
        mine = _running(loop, group)
        if not mine:
            return True
        left = None if deadline is None else deadline - loop.time()
        if left is not None and left <= 0:
            return False
        await asyncio.wait(mine, timeout=left)


async def drain(
    timeout: float | None = 5.0, *, group: Hashable | None = None, cancel_after: bool = False
) -> bool:
    """End the tasks of ``group`` (every task started with :func:`spawn` when None) on this loop.

    By default they are cancelled at once and given ``timeout`` seconds to unwind (shutdown).
    With ``cancel_after=True`` they may first finish on their own for up to ``timeout`` seconds
    (None: as long as they take); only what is still running then is cancelled and given
    :data:`CANCEL_GRACE` seconds to unwind (alerts in flight at shutdown).

    Never raises when time runs out: returns True when every task had ended by the deadline
    (on its own with ``cancel_after``), False when some had to be cancelled or given up on.
    """
    loop = asyncio.get_running_loop()
    if cancel_after:
        if await wait(timeout, group=group):
            return True
        left = _running(loop, group)
        for task in left:
            task.cancel()
        log.warning("%d task(s) still running after %s s: cancelled", len(left), timeout)
        if left:
            await asyncio.wait(left, timeout=CANCEL_GRACE)
        return False
    mine = _running(loop, group)
    for task in mine:
        task.cancel()
    if not mine:
        return True
    _, pending = await asyncio.wait(mine, timeout=timeout)
    return not pending


# --- blocking work ------------------------------------------------------------------------------


class _Lane:
    """A fixed number of daemon worker threads fed by one queue.

    Daemon threads, so a keyring call hung on an unlock prompt cannot keep the process alive at
    exit. Results go back to the loop through ``call_soon_threadsafe`` inside a closure, never
    through qasync's QThread executor: that one logs call arguments and results at DEBUG level
    (a secret would land in the log), and handing Python objects through its cross-thread signal
    corrupted reference counts in our test runs.
    """

    def __init__(self, name: str, workers: int) -> None:
        self.name = name
        self.workers = workers
        self._queue: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def submit(self, job: Callable[[], None]) -> None:
        with self._lock:
            if len(self._threads) < self.workers:
                thread = threading.Thread(
                    target=self._work, name=f"claude-watch-{self.name}-{len(self._threads)}", daemon=True
                )
                self._threads.append(thread)
                thread.start()
        self._queue.put(job)

    def _work(self) -> None:
        _where.lane = self.name
        while True:
            self._queue.get()()


def _lane(name: str) -> _Lane:
    with _lanes_lock:
        lane = _lanes.get(name)
        if lane is None:
            if name not in LANES:
                raise ValueError(f"unknown lane {name!r}; lanes: {', '.join(LANES)}")
            lane = _lanes[name] = _Lane(name, LANES[name])
        return lane


async def run_blocking(fn: Callable[..., T], *args: Any, lane: str = "io", **kwargs: Any) -> T:
    """Run ``fn(*args, **kwargs)`` on one of the lane's threads and await its result. The result
    comes back through the loop's ``call_soon_threadsafe`` (``asyncio.wrap_future``); cancelling
    the await before a thread picked the call up means it never runs."""
    return await asyncio.wrap_future(submit(fn, *args, lane=lane, **kwargs))


def current_lane() -> str | None:
    """The lane whose worker thread this is, or None (the GUI thread, a CLI's main thread...)."""
    lane: str | None = getattr(_where, "lane", None)
    return lane


def submit(fn: Callable[..., T], *args: Any, lane: str = "io", **kwargs: Any) -> Future[T]:
    """Run ``fn(*args, **kwargs)`` on one of the lane's threads: :func:`run_blocking` for callers
    without a loop (the CLI, worker threads). Never wait on its ``.result()`` on the GUI thread."""
    future: Future[T] = Future()
    call = partial(fn, *args, **kwargs)

    def job() -> None:
        if not future.set_running_or_notify_cancel():
            return  # the caller cancelled it before a thread was free
        try:
            result = call()
        except BaseException as exc:  # handed to the caller, who decides
            future.set_exception(exc)
        else:
            future.set_result(result)

    _lane(lane).submit(job)
    return future


def call_with_timeout(fn: Callable[..., T], timeout: float, *args: Any, lane: str = "io", **kwargs: Any) -> T:
    """Call ``fn(*args, **kwargs)`` on the lane and wait at most ``timeout`` seconds for the answer.

    For synchronous callers that must not hang (the keyring behind an unlock prompt, doctor's
    probes). On a timeout the call keeps running on its thread (a thread cannot be interrupted)
    and its late result is dropped; later calls on the same lane queue behind it, which on the
    one-thread ``keyring`` lane is the point: a keyring stuck on a prompt answers nobody until it
    is unlocked, and each caller gets its own timeout instead of another stuck thread.

    Called on a thread of that lane already, ``fn`` runs inline: waiting for the lane from inside
    it would only wait for itself (the caller's caller holds the time limit then, for example
    ``SecretStore.aget``'s ``asyncio.wait_for``).

    Raises TimeoutError without an answer in time, ValueError for an unknown lane, and whatever
    ``fn`` raised.
    """
    if current_lane() == lane:
        return fn(*args, **kwargs)
    future = submit(fn, *args, lane=lane, **kwargs)
    try:
        return future.result(timeout=timeout)
    except TimeoutError:
        future.cancel()  # if it has not started yet, it never will
        raise


# --- health of long-lived loops -------------------------------------------------------------------


class LoopHealth:
    """Failure bookkeeping for one long-lived loop.

    ``failed(exc)`` logs (the traceback only the first time this kind of error is seen in a
    row), counts, persists and returns how long to wait before the next try; ``succeeded()``
    ends the streak. Thread-safe: a loop may report from its worker thread.
    """

    def __init__(
        self,
        name: str,
        *,
        base: float = LOOP_BACKOFF_BASE,
        cap: float = LOOP_BACKOFF_CAP,
        registry: HealthRegistry | None = None,
    ) -> None:
        self.name = name
        self.base = base
        self.cap = cap
        self.failures = 0  # since start
        self.streak = 0  # in a row, reset by a success
        self.last_error: str | None = None
        self.last_failed_at: float | None = None
        self._registry = registry if registry is not None else REGISTRY
        self._lock = threading.Lock()
        self._registry.add(self)

    def failed(self, exc: BaseException) -> float:
        """Record an unexpected exception; returns the backoff in seconds."""
        text = f"{type(exc).__name__}: {exc}"[:300]
        with self._lock:
            repeat = text == self.last_error and self.streak > 0
            self.failures += 1
            self.streak += 1
            self.last_error = text
            self.last_failed_at = time.time()
            streak = self.streak
            delay = self.delay(streak)
        if repeat:
            # The same error again: counted, but logged only at 2, 4, 8... in a row, so a stuck
            # loop cannot fill the log (it rotates through all its files within seconds otherwise).
            if streak & (streak - 1) == 0:
                log.warning("%s failed again (%d in a row): %s", self.name, streak, text)
        else:
            log.error("%s failed unexpectedly; retrying in %.0f s", self.name, delay, exc_info=exc)
        self._registry.save()
        return delay

    def succeeded(self) -> None:
        with self._lock:
            had_streak = self.streak > 0
            self.streak = 0
        if had_streak:
            self._registry.save()

    def delay(self, streak: int) -> float:
        return float(min(self.cap, self.base * 2 ** min(max(streak, 1) - 1, 20)))

    def as_dict(self) -> dict[str, Any]:
        with self._lock:
            return {
                "failures": self.failures,
                "streak": self.streak,
                "last_error": self.last_error,
                "last_failed_at": self.last_failed_at,
            }


class HealthRegistry:
    """Every loop's health, written to one small JSON file for ``doctor`` (when a path is set)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._loops: dict[str, LoopHealth] = {}
        self._lock = threading.Lock()

    def add(self, loop: LoopHealth) -> None:
        with self._lock:
            self._loops[loop.name] = loop

    def get(self, name: str) -> LoopHealth | None:
        with self._lock:
            return self._loops.get(name)

    def snapshot(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            loops = list(self._loops.values())
        return {loop.name: loop.as_dict() for loop in loops}

    def save(self) -> None:
        """Write the file (best effort: a full disk must not turn a failure into a crash)."""
        if self.path is None:
            return
        from trayapp.store.files import atomic_write

        doc = {"pid": os.getpid(), "updated_at": time.time(), "loops": self.snapshot()}
        try:
            atomic_write(self.path, json.dumps(doc, indent=1))
        except OSError as exc:
            log.warning("could not write %s: %s", self.path, exc)


REGISTRY = HealthRegistry()


def enable_health_file(state_dir: Path) -> Path:
    """Have the process-wide registry persist to ``state_dir/loop-health.json`` (the tray app)."""
    REGISTRY.path = state_dir / HEALTH_FILE
    REGISTRY.save()
    return REGISTRY.path


def read_health(path: Path) -> dict[str, Any] | None:
    """The persisted health document, or None when absent or unreadable (never raises)."""
    try:
        raw = path.read_bytes()
        if len(raw) > 1_000_000:
            return None
        doc = json.loads(raw)
    except (OSError, ValueError, RecursionError):
        return None
    return doc if isinstance(doc, dict) and isinstance(doc.get("loops"), dict) else None
