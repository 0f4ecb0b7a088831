"""The agents queue's book of tasks: the latest record of each, saved in batches on the io lane
and announced to subscribers, coalesced.

A streaming run changes its task on every line; saving or announcing each change would put
thousands of SQLite writes and view updates a second on the loop. So a change marks the task
dirty and pending: a state change (``urgent``) is announced at once and saved at the next batch; a
streamed change is announced at most every :data:`NOTIFY_EVERY` seconds and saved at most every
:data:`SAVE_EVERY` seconds. One save runs at a time, so the stored order follows the real one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from trayapp.core.agents import Task
from trayapp.runtime import run_blocking
from trayapp.store.agents_repo import AgentsRepo

log = logging.getLogger(__name__)

NOTIFY_EVERY = 0.2  # seconds between announcements of streamed changes
SAVE_EVERY = 0.5  # seconds between saves of streamed changes


class TaskBook:
    """See the module docstring. Runs on the loop; only the save itself leaves it."""

    def __init__(self, repo: AgentsRepo, now: Callable[[], datetime]) -> None:
        self.repo = repo
        self._now = now
        self.tasks: dict[str, Task] = {}
        self._subscribers: list[Callable[[Task], None]] = []
        self._pending: set[str] = set()
        self._notify_handle: asyncio.TimerHandle | None = None
        self._dirty: set[str] = set()
        self._saver: asyncio.Task[None] | None = None
        self._save_now = asyncio.Event()

    def subscribe(self, callback: Callable[[Task], None]) -> Callable[[], None]:
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

        return unsubscribe

    def set(self, task: Task, *, urgent: bool, save: bool = True) -> None:
        """Record ``task``'s latest state; announce and save it (see the module docstring)."""
        self.tasks[task.id] = task
        if save:
            self._dirty.add(task.id)
            self.save_soon(urgent)
        self._pending.add(task.id)
        if urgent:
            self._notify()
        elif self._notify_handle is None:
            self._notify_handle = asyncio.get_running_loop().call_later(NOTIFY_EVERY, self._notify)

    def load(self, task: Task, *, changed: bool) -> None:
        """A stored task back at start (saved again when ``changed``)."""
        self.tasks[task.id] = task
        if changed:
            self._dirty.add(task.id)

    def _notify(self) -> None:
        if self._notify_handle is not None:
            self._notify_handle.cancel()
            self._notify_handle = None
        pending, self._pending = self._pending, set()
        for task_id in pending:
            task = self.tasks[task_id]
            for callback in list(self._subscribers):
                try:
                    callback(task)
                except Exception:
                    log.exception("agents: a subscriber failed")

    def save_soon(self, urgent: bool) -> None:
        if urgent:
            self._save_now.set()
        if self._saver is None or self._saver.done():
            self._saver = asyncio.get_running_loop().create_task(self._save_loop(), name="agents-save")

    async def flush(self) -> None:
        """Save what is dirty now and wait for it (shutdown)."""
        self.save_soon(urgent=True)
        if self._saver is not None:
            await self._saver

    async def _save_loop(self) -> None:
        while self._dirty:
            try:
                await asyncio.wait_for(self._save_now.wait(), SAVE_EVERY)
            except TimeoutError:
                pass
            self._save_now.clear()
            batch = [self.tasks[i] for i in self._dirty if i in self.tasks]
            self._dirty.clear()
            try:
                await run_blocking(self.repo.save, batch, self._now())
            except Exception as exc:  # disk full, locked: kept for the next save
                log.warning("agents: cannot save %d tasks: %s", len(batch), exc)
                self._dirty.update(t.id for t in batch)
                await asyncio.sleep(SAVE_EVERY * 4)
