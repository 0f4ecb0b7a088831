"""The agents queue: tasks submitted, held near the limit, started on a slot, watched, stopped,
restarted and remembered (Qt-free; the app and the CLI's server wrap it).

Every change (a submit, a start, a line of output, an exit, new limits, the wake timer) ends in
:meth:`AgentQueue.reconsider`, which asks the pure :func:`~trayapp.core.agents.decide` what starts
where and what holds, and applies the answer. Runs go through *executors*: the local one
(:class:`~trayapp.services.agent_runner.LocalExecutor`) and any registered with
:meth:`AgentQueue.register_executor` (container slots). Output lines are parsed here
(:mod:`trayapp.core.stream_json`; a read round's assistant lines tallied and applied to the task at
once, the rest folded by :func:`~trayapp.core.agents.apply_event`), logged in batches, and announced
coalesced (state changes at once; :mod:`trayapp.services.agent_book`). A ``rate_limit_event`` from
any run updates the queue's limits (a status other than ``allowed`` holds everything waiting) and
goes to the ``on_rate_limit`` callbacks (the app feeds it to the usage engine as a fresh reading).

Tasks are saved through :class:`~trayapp.store.agents_repo.AgentsRepo` on the io lane, one batch at
a time. At :meth:`AgentQueue.start` the stored tasks come back: a running child that is gone is
LOST, one still alive (same pid and start time) is reattached (Stop works; no live output), held
and queued tasks go on per the decision.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from trayapp.core.agents import (
    ACTIVE,
    FINISHED,
    LimitView,
    QueuePolicy,
    RunKind,
    Slot,
    Task,
    TaskSpec,
    TaskState,
    decide,
)
from trayapp.core.clock import Clock, SystemClock
from trayapp.core.humanize import format_money
from trayapp.core.sessions import JobRecord
from trayapp.core.stream_json import RateLimitEvent
from trayapp.runtime import run_blocking
from trayapp.services import agent_stream
from trayapp.services.agent_book import TaskBook
from trayapp.services.agent_logs import LogWriter, TaskLog, log_path, logs_dir, remove_logs
from trayapp.services.agent_runner import Executor, LocalExecutor, RunError
from trayapp.store.agents_repo import AgentsRepo

log = logging.getLogger(__name__)


KEEP_FINISHED = timedelta(days=90)  # finished tasks (and their logs) older than this are pruned


class AgentError(RuntimeError):
    """A request the queue refuses (unknown task, a session we did not start, ...); for people."""


class AgentQueue:
    """See the module docstring."""

    def __init__(
        self,
        repo: AgentsRepo,
        *,
        clock: Clock | None = None,
        policy: QueuePolicy | None = None,
        local: LocalExecutor | None = None,
        logs: Path | None = None,
        prices: Any = None,
    ) -> None:
        self.repo = repo
        self.clock = clock or SystemClock()
        self.policy = policy or QueuePolicy()
        self.logs = logs
        self.prices = prices  # a core.pricing.PriceTable: the budget check of runs without the flag
        self.local = local or LocalExecutor()
        self._executors: dict[str, Executor] = {"local": self.local}
        self._slots: dict[str, list[Slot]] = {"local": [Slot("local", cap=self.policy.default_cap)]}
        self._book = TaskBook(repo, self.clock.now)
        self._tasks = self._book.tasks  # the same dict: the book records, the queue reads
        self._logs: dict[str, TaskLog] = {}
        self._log_writer = LogWriter()
        self._stream: dict[str, agent_stream.StreamState] = {}
        self._unsettled: set[str] = set()  # tasks whose stream has a tally to apply (_settle_all)
        self._stopping: set[str] = set()
        self._budget_stops: set[str] = set()
        self._limits = LimitView()
        self.on_rate_limit: list[Callable[[RateLimitEvent], None]] = []
        self._wake: asyncio.TimerHandle | None = None
        self._jobs: list[asyncio.Task[Any]] = []
        self.wake_at: datetime | None = None
        self.started = False

    # --- reading ---------------------------------------------------------------------------------

    def tasks(self) -> list[Task]:
        return list(self._tasks.values())

    def get(self, task_id: str) -> Task | None:
        return self._tasks.get(task_id)

    def log_path(self, task_id: str) -> Path:
        return log_path(task_id, self.logs or logs_dir())

    def tail(self, task_id: str) -> list[str]:
        """The short human tail of a task's output (activity lines), oldest first."""
        task_log = self._logs.get(task_id)
        return list(task_log.tail) if task_log is not None else []

    @property
    def limits(self) -> LimitView:
        return self._limits

    @property
    def slots(self) -> list[Slot]:
        return [s for group in self._slots.values() for s in group]

    def subscribe(self, callback: Callable[[Task], None]) -> Callable[[], None]:
        """``callback(task)`` on the loop for every change (streamed ones coalesced)."""
        return self._book.subscribe(callback)

    # --- configuration ---------------------------------------------------------------------------

    def register_executor(self, prefix: str, executor: Executor, slots: list[Slot] | None = None) -> None:
        """Add an executor for the slots named ``<prefix>:...`` (``docker``), with its slots."""
        self._executors[prefix] = executor
        self.set_slots(prefix, slots or [])

    def set_slots(self, prefix: str, slots: list[Slot]) -> None:
        self._slots[prefix] = list(slots)
        self.reconsider()

    def set_policy(self, policy: QueuePolicy) -> None:
        """New threshold and local cap (settings changed)."""
        self.policy = policy
        self._slots["local"] = [Slot("local", cap=policy.default_cap)]
        self.reconsider()

    def set_limits(self, view: LimitView) -> None:
        """The usage engine's view of the limits; the last rate-limit status of a run is kept
        unless ``view`` carries one."""
        if view.rate_limit_status is None:
            view = replace(
                view,
                rate_limit_status=self._limits.rate_limit_status,
                rate_limit_resets_at=self._limits.rate_limit_resets_at,
            )
        self._limits = view
        self.reconsider()

    # --- life ------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Load the stored tasks, settle what a restart left behind, and decide."""
        now = self.clock.now()
        pruned = await run_blocking(self.repo.prune, now - KEEP_FINISHED)
        if pruned:
            await run_blocking(remove_logs, [self.log_path(i) for i in pruned])
        stored = await run_blocking(self.repo.load)
        if self.prices is None:
            self.prices = await run_blocking(agent_stream.price_table)
        for task in stored:
            settled = agent_stream.recover(task, now)
            self._book.load(settled, changed=settled != task)
            if settled.state in ACTIVE and settled.pid is not None and settled.spec.kind is RunKind.HEADLESS:
                self._keep(asyncio.get_running_loop().create_task(self._watch_reattached(task.id)))
        self.started = True
        self._book.save_soon(urgent=True)
        self.reconsider()

    async def stop_all(self, timeout: float = 15.0) -> None:
        """App shutdown: our headless children are stopped (the same sequence as Stop); background
        sessions are Claude Code's and keep running. Logs and tasks are flushed."""
        self.started = False
        if self._wake is not None:
            self._wake.cancel()
        ours = (t for t in self._tasks.values() if t.ours and t.spec.kind is RunKind.HEADLESS)
        running = [t.id for t in ours if t.state in ACTIVE]
        if running:
            stops = [self.stop(tid) for tid in running]
            try:
                await asyncio.wait_for(asyncio.gather(*stops, return_exceptions=True), timeout)
            except TimeoutError:
                log.warning("agents: some runs did not stop within %g s at shutdown", timeout)
        await self._log_writer.flush()
        for job in self._jobs:
            job.cancel()
        await self._book.flush()

    # --- requests --------------------------------------------------------------------------------

    async def submit(self, spec: TaskSpec, *, restarted_from: Task | None = None) -> Task:
        """Queue a task (it may start at once); returns its latest record."""
        refused = agent_stream.refusal(spec, [s.name for s in self.slots])
        if refused is not None:
            raise AgentError(refused)
        task_id = self._new_id()
        task = Task(id=task_id, spec=spec, created_at=self.clock.now())
        if restarted_from is not None:
            task = replace(task, restarted_from=restarted_from.id, session_id=restarted_from.session_id)
        self._book.set(task, urgent=True)
        self.reconsider()
        return self._tasks[task_id]

    async def stop(self, task_id: str, *, force: bool = False) -> Task:
        """Stop a task: a waiting one leaves the queue; a running one is ended (see the runner).
        A session Claude Watch did not start is stopped only with ``force`` (the user asked)."""
        task = self._need(task_id)
        if not task.ours and not force:
            raise AgentError(f"{task_id} was not started by Claude Watch; stop it explicitly to end it")
        if task.state in FINISHED:
            return task
        if task.state not in ACTIVE or (task.state is TaskState.STARTING and task.ours):
            # Waiting, or still starting: what the start brings up is stopped when it is up.
            self._book.set(self._ended(task, TaskState.STOPPED), urgent=True)
            self.reconsider()
            return self._tasks[task_id]
        self._stopping.add(task_id)
        try:
            await self._executor(task).stop(task)
        except RunError as exc:
            self._stopping.discard(task_id)
            raise AgentError(str(exc)) from None
        latest = self._tasks[task_id]
        if latest.state is not TaskState.STOPPED:
            self._book.set(self._ended(latest, TaskState.STOPPED, keep_result=False), urgent=True)
        self._stopping.discard(task_id)
        self.reconsider()
        return self._tasks[task_id]

    async def restart(self, task_id: str) -> Task:
        """A new task that resumes this one's session (``--resume <session id>``)."""
        task = self._need(task_id)
        if task.state not in FINISHED:
            raise AgentError(f"{task_id} is {task.state.value}; stop it before restarting it")
        if task.session_id is None:
            raise AgentError(f"{task_id} has no Claude Code session to resume")
        spec = task.spec
        if spec.worktree and task.workdir:
            spec = replace(spec, folder=task.workdir, worktree=False)  # back into its worktree
        return await self.submit(spec, restarted_from=task)

    def observe_jobs(self, jobs: list[JobRecord]) -> None:
        """Claude Code's background jobs as the sessions service read them: our background tasks
        follow their job; jobs we did not start appear with ``ours=False``."""
        ours = {t.job_id: t for t in self._tasks.values() if t.job_id is not None}
        for job in jobs:
            task = ours.get(job.job_id)
            if task is None:
                task = agent_stream.foreign_task(job, self.clock.now())
            updated = agent_stream.follow_job(task, job, self.clock.now())
            if updated != self._tasks.get(updated.id):
                self._book.set(updated, urgent=True, save=updated.ours)
        self.reconsider()

    # --- the decision ----------------------------------------------------------------------------

    def reconsider(self) -> None:
        """Apply :func:`decide` now: start, hold, release; arm the wake timer."""
        if not self.started:
            return
        now = self.clock.now()
        decision = decide(list(self._tasks.values()), self.slots, self._limits, self.policy, now)
        held = {tid: (reason, until) for tid, reason, until in decision.hold}
        for task in list(self._tasks.values()):
            if task.id in held:
                reason, until = held[task.id]
                if (task.state, task.held_reason, task.resume_at) != (TaskState.HELD, reason, until):
                    self._book.set(
                        replace(task, state=TaskState.HELD, held_reason=reason, resume_at=until), urgent=True
                    )
            elif task.state is TaskState.HELD:
                self._book.set(
                    replace(task, state=TaskState.QUEUED, held_reason="", resume_at=None), urgent=True
                )
        for task_id, slot in decision.start:
            task = replace(
                self._tasks[task_id], state=TaskState.STARTING, slot=slot, held_reason="", resume_at=None
            )
            self._book.set(task, urgent=True)
            self._keep(
                asyncio.get_running_loop().create_task(self._launch(task), name=f"agent-start-{task_id}")
            )
        self._arm_wake(decision.wake_at, now)

    def _arm_wake(self, wake_at: datetime | None, now: datetime) -> None:
        if self._wake is not None:
            self._wake.cancel()
            self._wake = None
        self.wake_at = wake_at
        if wake_at is not None:
            delay = max(0.0, (wake_at - now).total_seconds()) + 0.5
            self._wake = asyncio.get_running_loop().call_later(delay, self.reconsider)

    async def _launch(self, task: Task) -> None:
        stream = agent_stream.StreamState()
        self._stream[task.id] = stream
        self._logs[task.id] = TaskLog(self.log_path(task.id), writer=self._log_writer)
        try:
            started = await self._executor(task).run(
                task,
                lambda raw: self._on_line(task.id, raw),
                lambda code, err: self._on_exit(task.id, code, err),
            )
        except RunError as exc:
            self._book.set(self._ended(self._tasks[task.id], TaskState.FAILED, error=str(exc)), urgent=True)
            self.reconsider()
            return
        latest = self._tasks[task.id]
        merged = agent_stream.merge_start(latest, started, self.clock.now())
        self._book.set(merged, urgent=True)
        if latest.state is TaskState.STOPPED:  # stopped while it was starting: end what started
            await self._executor(merged).stop(merged)

    # --- the stream ------------------------------------------------------------------------------

    def _on_line(self, task_id: str, raw: bytes) -> None:
        try:
            self._fold(task_id, raw)
        except Exception:  # a bug here must not end the reading of the run (its end would be lost)
            log.exception("agents: a line of %s could not be handled", task_id)

    def _fold(self, task_id: str, raw: bytes) -> None:
        task = self._tasks.get(task_id)
        if task is None:
            return
        task_log = self._logs.get(task_id)
        if task_log is not None:
            task_log.write(raw)
        outcome = agent_stream.fold_line(self._stream[task_id], task, raw, self.prices)
        if outcome.unsettled and not self._unsettled:  # settled once the lines read together are in
            asyncio.get_running_loop().call_soon(self._settle_all)
        if outcome.unsettled:
            self._unsettled.add(task_id)
        self._take(task_id, task, outcome)

    def _settle_all(self) -> None:
        for task_id in self._unsettled.copy():
            self._settle(task_id)

    def _settle(self, task_id: str) -> None:
        self._unsettled.discard(task_id)
        task, stream = self._tasks.get(task_id), self._stream.get(task_id)
        if task is not None and stream is not None and stream.tally is not None:
            self._take(task_id, task, agent_stream.settle(stream, task, self.prices))

    def _take(self, task_id: str, task: Task, outcome: agent_stream.LineOutcome) -> None:
        task_log = self._logs.get(task_id)
        if outcome.rate_limit is not None:
            self._on_rate_limit(outcome.rate_limit)
        if outcome.human and task_log is not None:
            task_log.human(outcome.human)
        if outcome.task is not task:
            self._book.set(outcome.task, urgent=outcome.task.state is not task.state)
        if outcome.over_budget and task_id not in self._budget_stops:
            self._budget_stops.add(task_id)
            self._keep(asyncio.get_running_loop().create_task(self._stop_over_budget(task_id)))

    async def _stop_over_budget(self, task_id: str) -> None:
        task = self._tasks[task_id]
        why = f"stopped: the budget of {format_money(task.spec.budget_usd or 0.0)} was reached"
        self._book.set(replace(task, error=why), urgent=True)
        try:
            await self.stop(task_id)
        except AgentError as exc:
            log.warning("agents: cannot stop %s over its budget: %s", task_id, exc)

    def _on_rate_limit(self, event: RateLimitEvent) -> None:
        before, self._limits = self._limits, agent_stream.limits_after(self._limits, event)
        for callback in list(self.on_rate_limit):
            try:
                callback(event)
            except Exception:
                log.exception("agents: a rate-limit listener failed")
        if self._limits != before:  # most runs repeat the same status: nothing to decide
            self.reconsider()

    def _on_exit(self, task_id: str, code: int | None, stderr: str) -> None:
        self._settle(task_id)
        task = self._tasks.get(task_id)
        if task is None:
            return
        stopped = task_id in self._stopping or task.state is TaskState.STOPPED
        stream = self._stream.pop(task_id, None)
        ended = agent_stream.exit_state(task, code, stderr, stopped, stream.result if stream else None)
        self._book.set(self._ended(ended, ended.state, exit_code=code), urgent=True)
        task_log = self._logs.get(task_id)
        if task_log is not None:
            self._keep(asyncio.get_running_loop().create_task(task_log.close()))
        self.reconsider()

    async def _watch_reattached(self, task_id: str) -> None:
        """A child found alive after a restart: no pipe, so only its end is noticed."""
        while True:
            await asyncio.sleep(2.0)
            task = self._tasks.get(task_id)
            if task is None or task.state not in ACTIVE:
                return
            if not agent_stream.still_ours(task):
                note = "ended after Claude Watch reattached it (outcome unknown: no live output)"
                state = TaskState.STOPPED if task_id in self._stopping else TaskState.LOST
                self._book.set(self._ended(replace(task, note=note), state), urgent=True)
                self.reconsider()
                return

    # --- bookkeeping -----------------------------------------------------------------------------

    def _ended(self, task: Task, state: TaskState, **kw: Any) -> Task:
        return agent_stream.ended(task, state, self.clock.now(), **kw)

    def _keep(self, job: asyncio.Task[Any]) -> None:
        self._jobs.append(job)
        job.add_done_callback(self._forget)

    def _forget(self, job: asyncio.Task[Any]) -> None:
        if job in self._jobs:
            self._jobs.remove(job)
        if not job.cancelled() and job.exception() is not None:
            log.error("agents: a background step failed", exc_info=job.exception())

    def _executor(self, task: Task) -> Executor:
        prefix = (task.slot or "local").split(":", 1)[0]
        executor = self._executors.get(prefix)
        if executor is None:
            raise RunError(f"no executor for the slot {task.slot!r}")
        return executor

    def _need(self, task_id: str) -> Task:
        task = self._tasks.get(task_id)
        if task is None:
            raise AgentError(f"no agent task {task_id!r}")
        return task

    def _new_id(self) -> str:
        while True:
            task_id = f"t-{uuid.uuid4().hex[:6]}"
            if task_id not in self._tasks:
                return task_id
