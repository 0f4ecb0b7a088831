"""The queue's per-task bookkeeping, kept out of :mod:`trayapp.services.agent_queue`: one output
line folded into a task, the limits after a ``rate_limit_event``, how a run's exit reads, what a
restart of Claude Watch finds, and Claude Code's background jobs mapped onto tasks.

Plain functions over values (the process checks read ``/proc``), so the queue stays the one place
that holds state and talks to the loop.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import PurePath
from typing import Any

from trayapp.core.agents import (
    ACTIVE,
    AssistantTally,
    LimitView,
    RunKind,
    Task,
    TaskSpec,
    TaskState,
    apply_event,
    one_line,
)
from trayapp.core.models import AccountState
from trayapp.core.sessions import JobRecord
from trayapp.core.stream_json import AssistantEvent, ParseError, RateLimitEvent, Unknown, parse_line
from trayapp.platform.process_group import pid_alive, start_ticks

log = logging.getLogger(__name__)

LOGGED_BAD_LINES = 3  # malformed lines logged per task; the rest are counted


@dataclass(slots=True)
class StreamState:
    """What the queue counts while one run streams."""

    lines: int = 0
    bad_lines: int = 0
    unknown: int = 0
    result: TaskState | None = None  # DONE/FAILED from the result event, applied at the exit
    tally: AssistantTally | None = None  # assistant events not applied yet: :func:`settle` does


@dataclass(frozen=True, slots=True)
class LineOutcome:
    task: Task  # the same object when the line changed nothing
    human: str = ""  # a new activity line for the human tail
    rate_limit: RateLimitEvent | None = None
    over_budget: bool = False
    unsettled: bool = False  # the line went to the state's tally: :func:`settle` applies it


def fold_line(state: StreamState, task: Task, raw: bytes, prices: Any = None) -> LineOutcome:
    """One raw output line of ``task``'s run; never raises. An ``assistant`` line (most of a
    stream) only adds to ``state.tally``; the caller settles it once a batch of lines is read."""
    state.lines += 1
    event = parse_line(raw)
    if event is None:
        return LineOutcome(task)
    if isinstance(event, ParseError):
        state.bad_lines += 1
        if state.bad_lines <= LOGGED_BAD_LINES:
            log.info(
                "agents: %s skipped a bad stream-json line (%s): %s", task.id, event.reason, event.snippet
            )
        return LineOutcome(task)
    if isinstance(event, Unknown):
        state.unknown += 1
        return LineOutcome(task)
    if isinstance(event, RateLimitEvent):
        return LineOutcome(task, rate_limit=event)
    if isinstance(event, AssistantEvent):
        tally = state.tally or AssistantTally(task.last_line, task.model)
        before, state.tally = tally.last_line, tally
        tally.add(event)
        return LineOutcome(task, tally.last_line if tally.last_line != before else "", unsettled=True)
    original, task = task, settle(state, task).task
    updated = apply_event(task, event)
    if updated.state is not task.state and task.state in ACTIVE:
        state.result = updated.state  # the run is over once its child has exited
        updated = replace(updated, state=task.state)
    if updated is original:
        return LineOutcome(original)
    human = updated.last_line if updated.last_line != task.last_line else ""
    return LineOutcome(updated, human, over_budget=over_budget(updated, prices))


def settle(state: StreamState, task: Task, prices: Any = None) -> LineOutcome:
    """``task`` with the assistant events tallied since the last settle (itself when none), and
    whether that took it over its budget."""
    tally, state.tally = state.tally, None
    if tally is None:
        return LineOutcome(task)
    updated = tally.applied_to(task)
    return LineOutcome(updated, over_budget=over_budget(updated, prices))


def over_budget(task: Task, prices: Any) -> bool:
    """Whether a run with a budget has passed it: the result's cost, else its tokens priced by
    ``prices`` (a :class:`~trayapp.core.pricing.PriceTable`; None: only a reported cost counts)."""
    budget = task.spec.budget_usd
    if budget is None or task.state not in ACTIVE:
        return False
    cost = task.cost_usd
    if cost is None and prices is not None and task.model:
        cost = prices.cost(
            task.model,
            task.input_tokens,
            task.output_tokens,
            task.cache_creation_tokens,
            0,
            task.cache_read_tokens,
            fast=False,
            long_context=False,
        )
    return cost is not None and cost > budget


def limits_after(limits: LimitView, event: RateLimitEvent) -> LimitView:
    """The queue's limits after a run reported ``event``: its status and reset; its utilization
    (when it carries one) raises the binding figure until the usage engine's next reading."""
    out = replace(limits, rate_limit_status=event.status, rate_limit_resets_at=event.resets_at)
    util = event.utilization
    if util is not None and (limits.binding_utilization is None or util > limits.binding_utilization):
        label = {"five_hour": "5-hour", "seven_day": "Weekly"}.get(event.rate_limit_type or "", "Limit")
        out = replace(out, binding_utilization=util, binding_resets_at=event.resets_at, binding_label=label)
    return out


def exit_state(task: Task, code: int | None, stderr: str, stopped: bool, result: TaskState | None) -> Task:
    """How a headless run reads once its child has ended (``result``: what its result event said)."""
    if stopped:
        return replace(task, state=TaskState.STOPPED)
    if result is not None:
        return replace(task, state=result)
    tail = one_line("\n".join(stderr.strip().splitlines()[-1:]))
    if code == 0:
        return replace(
            task,
            state=TaskState.FAILED,
            error="claude ended without a result" + (f": {tail}" if tail else ""),
        )
    why = f"claude exited with status {code}" + (f": {tail}" if tail else "")
    return replace(task, state=TaskState.FAILED, error=why)


def merge_start(latest: Task, started: Task, now: datetime) -> Task:
    """The task after its executor started it: what the start recorded, on top of whatever the
    stream or a stop changed meanwhile."""
    state = TaskState.RUNNING if latest.state is TaskState.STARTING else latest.state
    return replace(
        latest,
        state=state,
        started_at=latest.started_at or now,
        slot=started.slot or latest.slot,
        session_id=latest.session_id
        if latest.restarted_from is None and latest.session_id
        else started.session_id,
        job_id=started.job_id,
        pid=started.pid,
        pgid=started.pgid,
        pid_start=started.pid_start,
        container_id=started.container_id,
        workdir=started.workdir,
    )


def still_ours(task: Task) -> bool:
    """Whether ``task``'s recorded child is still the process we started (same pid, same start
    time where the system tells it)."""
    if task.pid is None or not pid_alive(task.pid):
        return False
    return task.pid_start is None or start_ticks(task.pid) == task.pid_start


def recover(task: Task, now: datetime) -> Task:
    """A stored task after a restart of Claude Watch (see the queue's docstring)."""
    if task.state not in ACTIVE or task.spec.kind is RunKind.BACKGROUND or not task.ours:
        return task
    if task.container_id is not None:  # it ran in a container, which the start-up clean-up removes
        return replace(
            task,
            state=TaskState.LOST,
            finished_at=now,
            note="its container was removed when Claude Watch started again (Restart resumes it)",
        )
    if task.pid is None:  # it had not started: try again
        return replace(task, state=TaskState.QUEUED, slot=None)
    if still_ours(task):
        return replace(task, note="reattached after a restart of Claude Watch: Stop works; no live output")
    return replace(
        task,
        state=TaskState.LOST,
        finished_at=now,
        note="its process was gone when Claude Watch started again",
    )


_JOB_STATES = {
    "working": TaskState.RUNNING,
    "blocked": TaskState.NEEDS_YOU,
    "done": TaskState.DONE,
    "stopped": TaskState.STOPPED,
    "failed": TaskState.FAILED,
    "error": TaskState.FAILED,
}


def foreign_task(job: JobRecord, now: datetime) -> Task:
    """A background job Claude Watch did not start, as a task (never stopped unless forced)."""
    spec = TaskSpec(prompt="", folder=job.cwd or "", kind=RunKind.BACKGROUND, name=job.name or job.job_id)
    return Task(
        id=f"j-{job.job_id}",
        spec=spec,
        state=TaskState.RUNNING,
        created_at=job.started_at or now,
        started_at=job.started_at,
        job_id=job.job_id,
        session_id=job.session_id,
        pid=job.pid,
        ours=False,
    )


def follow_job(task: Task, job: JobRecord, now: datetime) -> Task:
    """``task`` after an observation of its background job."""
    state = _JOB_STATES.get(job.state or "", task.state)
    if task.state in (TaskState.STOPPED, TaskState.LOST) and state is not task.state:
        state = task.state  # stopped by us: a late "working" from the job folder is older
    detail = one_line(job.detail or "") or task.last_line
    finished = task.finished_at or (now if state not in ACTIVE else None)
    return replace(
        task,
        state=state,
        session_id=task.session_id or job.session_id,
        pid=task.pid or job.pid,
        last_line=detail,
        finished_at=finished,
    )


def limits_from_state(state: AccountState | None) -> LimitView:
    """The queue's limits from the usage engine's state: its binding (highest) window."""
    binding = state.binding if state is not None else None
    if binding is None:
        return LimitView()
    window = binding.window
    return LimitView(window.utilization, window.resets_at, window.label)


def price_table() -> Any:
    """The price table that checks budgets of runs without ``--max-budget-usd`` (None: unreadable).
    Blocking (reads the table): on a worker lane."""
    from trayapp.services.ledger_service import default_price_table

    try:
        return default_price_table()
    except (OSError, ValueError, KeyError) as exc:
        log.warning("agents: no price table, budgets count only reported costs (%s)", exc)
        return None


def ended(
    task: Task,
    state: TaskState,
    now: datetime,
    *,
    error: str | None = None,
    exit_code: int | None = None,
    keep_result: bool = True,
) -> Task:
    """``task`` finished in ``state`` (a result already read wins unless the user stopped it)."""
    if keep_result and task.state in (TaskState.DONE, TaskState.FAILED) and state is not TaskState.STOPPED:
        state = task.state
    return replace(
        task,
        state=state,
        finished_at=task.finished_at or now,
        error=task.error if error is None else error,
        exit_code=task.exit_code if exit_code is None else exit_code,
    )


def refusal(spec: TaskSpec, slots: list[str]) -> str | None:
    """Why ``spec`` cannot be queued (for people), or None. A slot that does not exist is refused:
    its task would wait forever."""
    if not spec.prompt.strip():
        return "the prompt is empty"
    if not PurePath(spec.folder).is_absolute():
        return f"the folder must be an absolute path: {spec.folder}"
    if spec.slot is not None and spec.slot not in slots:
        return f"there is no slot {spec.slot!r} (the slots are: {', '.join(slots)})"
    return None
