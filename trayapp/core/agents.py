"""Agents: Claude Code runs started, queued, watched, stopped and resumed by Claude Watch, as plain
typed records and the queue's pure decision (no I/O, no Qt, clock injected).

Two kinds of run (wave2-research §(b)):

- ``BACKGROUND``: a Claude Code background session (``claude --bg -n NAME [-w NAME] ...``). Claude Code
  owns the process; it survives our restart; ``claude attach ID`` works; stopped with ``claude stop ID``.
- ``HEADLESS``: ``claude -p --output-format stream-json --verbose --session-id UUID ...`` as our own
  child in its own process group (a Job Object on Windows), parsed line by line
  (:mod:`trayapp.core.stream_json`); stopped by stdin EOF, then SIGTERM to the group, then SIGKILL.

A task runs on a *slot* of the pool: the local machine (``local``) or a container slot
(``docker:<name>``), each with its own cap. The queue holds a task while the binding limit is above
the threshold or the last ``rate_limit_event`` status is not ``allowed``, and releases it after the
reset.

CONTRACT shared by the queue service, the runner, the store, the CLI and the views: names and
fields below are fixed; add fields only with defaults.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from trayapp.core.stream_json import AssistantEvent, Event, ResultEvent, SystemEvent, ToolUse


class RunKind(StrEnum):
    BACKGROUND = "background"
    HEADLESS = "headless"


class TaskState(StrEnum):
    """What the agents list shows (its words: "Queued", "Held: near limit", "Running", ...)."""

    QUEUED = "queued"
    HELD = "held"  # near the limit, or the last rate-limit status not allowed; resumes after reset
    STARTING = "starting"
    RUNNING = "running"
    NEEDS_YOU = "needs_you"  # a background session waiting for permission or input
    DONE = "done"
    FAILED = "failed"
    STOPPED = "stopped"  # stopped by the user
    LOST = "lost"  # our child vanished while Claude Watch was not running (found at restart)


FINISHED = frozenset({TaskState.DONE, TaskState.FAILED, TaskState.STOPPED, TaskState.LOST})
ACTIVE = frozenset({TaskState.STARTING, TaskState.RUNNING, TaskState.NEEDS_YOU})


class PermissionMode(StrEnum):
    """Claude Code's ``--permission-mode`` values; bypass only when the user ticks it, with a warning."""

    DEFAULT = "default"
    ACCEPT_EDITS = "acceptEdits"
    PLAN = "plan"
    BYPASS = "bypassPermissions"  # = --dangerously-skip-permissions: never a default


@dataclass(frozen=True, slots=True)
class TaskSpec:
    """What the user asked for (the "New agent" dialog, ``agents run``)."""

    prompt: str
    folder: str  # the project folder (absolute)
    kind: RunKind = RunKind.HEADLESS
    name: str = ""  # shown in lists; for BACKGROUND also ``-n NAME``
    worktree: bool = False  # ``-w NAME`` (BACKGROUND) / a git worktree made for the task (HEADLESS)
    model: str | None = None
    permission_mode: PermissionMode = PermissionMode.DEFAULT
    max_turns: int | None = None
    budget_usd: float | None = None
    priority: int = 0  # larger runs first; FIFO within a priority
    slot: str | None = None  # None: any slot with room; "local"; "docker:<name>"
    image: str | None = None  # container image for a docker slot (else the slot's default)


@dataclass(frozen=True, slots=True)
class Task:
    """One task and everything known about its run (persisted in SQLite)."""

    id: str  # short, unique, stable ("t-7f3a9c")
    spec: TaskSpec
    state: TaskState = TaskState.QUEUED
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    slot: str | None = None  # where it runs or ran
    session_id: str | None = None  # Claude Code's session id (chosen by us for HEADLESS)
    job_id: str | None = None  # Claude Code's background job id (BACKGROUND)
    pid: int | None = None
    pgid: int | None = None  # recorded so `agents stop ID` from another terminal can stop it
    container_id: str | None = None
    exit_code: int | None = None
    held_reason: str = ""  # "5-hour at 91% (holds above 85%) until 14:03"
    resume_at: datetime | None = None  # when a held task may go again
    last_line: str = ""  # the last activity line (assistant text or tool use), one line
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_creation_tokens: int = 0
    cost_usd: float | None = None  # from the result event (or telemetry)
    turns: int | None = None
    error: str = ""  # one line for people when FAILED
    ours: bool = True  # False: a session we observe but did not start (never stopped unless asked)
    restarted_from: str | None = None  # the task this one resumes (--resume <session id>)
    pid_start: int | None = None  # the child's start time (clock ticks), to tell a reused pid
    note: str = ""  # one line about the run itself ("reattached after a restart: no live output")
    model: str | None = None  # the model the run reported (init event)
    workdir: str | None = None  # where it ran (the worktree made for it, else the folder)


@dataclass(frozen=True, slots=True)
class Slot:
    """A place tasks run: ``local`` or ``docker:<name>``, each with its own cap."""

    name: str
    cap: int = 2
    image: str | None = None  # docker slots: the default image


@dataclass(frozen=True, slots=True)
class LimitView:
    """What the queue needs to know about the plan's limits (from the usage engine's state and
    the last rate_limit_event of any run)."""

    binding_utilization: float | None = None  # percent, the highest window; None unknown
    binding_resets_at: datetime | None = None
    binding_label: str = ""  # "5-hour", "Weekly"
    rate_limit_status: str | None = None  # last rate_limit_event status: allowed, allowed_warning, rejected
    rate_limit_resets_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class QueuePolicy:
    threshold: float = 85.0  # hold while the binding limit is above this (percent)
    default_cap: int = 2


@dataclass(frozen=True, slots=True)
class Decision:
    """The queue's answer for one moment: which queued/held tasks start on which slot, which are
    (still) held and why, and when to look again."""

    start: tuple[tuple[str, str], ...] = ()  # (task id, slot name)
    hold: tuple[tuple[str, str, datetime | None], ...] = ()  # (task id, reason, resume at)
    wake_at: datetime | None = None  # the earliest resume time, for the service's timer
    notes: tuple[str, ...] = field(default_factory=tuple)


def _hold_cause(limits: LimitView, policy: QueuePolicy, now: datetime) -> tuple[str, datetime | None] | None:
    """Why everything waiting holds now, and until when; None when nothing holds. A reading whose
    reset has passed no longer holds (the window it measured is over, even before a fresh reading)."""
    util = limits.binding_utilization
    if util is not None and util > policy.threshold:
        resets = limits.binding_resets_at
        if resets is None or now < resets:
            label = limits.binding_label or "Limit"
            return f"{label} at {util:.0f}% (holds above {policy.threshold:.0f}%)", resets
    status = limits.rate_limit_status
    if status is not None and status != "allowed":
        resets = limits.rate_limit_resets_at
        if resets is None or now < resets:
            return f"Claude Code reports rate limit {status}", resets
    return None


def _order_key(task: Task) -> tuple[int, float, str]:
    created = task.created_at.timestamp() if task.created_at is not None else 0.0
    return (-task.spec.priority, created, task.id)


def decide(
    tasks: list[Task], slots: list[Slot], limits: LimitView, policy: QueuePolicy, now: datetime
) -> Decision:
    """The queue's pure decision: highest priority first, FIFO (created_at) within one; a task
    pinned to a slot waits for that slot; no slot over its cap (counting ACTIVE tasks on it);
    everything waiting is held (with the reason and the reset as resume time) while the binding
    utilization is above ``policy.threshold`` or the rate-limit status is not ``allowed``; a held
    task whose resume time has passed is released (it queues again with its old place)."""
    waiting = sorted((t for t in tasks if t.state in (TaskState.QUEUED, TaskState.HELD)), key=_order_key)
    if not waiting:
        return Decision()
    cause = _hold_cause(limits, policy, now)
    if cause is not None:
        reason, resume = cause
        return Decision(hold=tuple((t.id, reason, resume) for t in waiting), wake_at=resume)
    used = {s.name: 0 for s in slots}
    for t in tasks:
        if t.state in ACTIVE and t.slot in used:
            used[t.slot] += 1
    caps = {s.name: max(0, s.cap) for s in slots}
    start: list[tuple[str, str]] = []
    notes: list[str] = []
    for t in waiting:
        pinned = t.spec.slot
        if pinned is not None and pinned not in caps:
            notes.append(f"{t.id}: no slot named {pinned!r}; it waits")
            continue
        names = [pinned] if pinned is not None else [s.name for s in slots]
        chosen = next((n for n in names if used[n] < caps[n]), None)
        if chosen is None:
            continue
        used[chosen] += 1
        start.append((t.id, chosen))
    return Decision(start=tuple(start), notes=tuple(notes))


def _median(values: list[float]) -> float:
    """The median (statistics.median, without loading statistics: decimal and fractions come with
    it, some 0.7 MB resident in every process that imports this module)."""
    ordered, mid = sorted(values), len(values) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def estimate_cost(history: list[Task], folder: str) -> float | None:
    """The estimated cost of a new task in ``folder``: the median cost of finished tasks of the
    same project (at least 2), else of all finished tasks (at least 3), else None."""
    costs = [t for t in history if t.state in FINISHED and t.cost_usd is not None]
    same = [t.cost_usd for t in costs if t.spec.folder == folder and t.cost_usd is not None]
    if len(same) >= 2:
        return _median(same)
    every = [t.cost_usd for t in costs if t.cost_usd is not None]
    if len(every) >= 3:
        return _median(every)
    return None


LINE_MAX = 200  # characters of an activity line
_TOOL_KEYS = ("command", "file_path", "path", "pattern", "url", "query", "description")


def one_line(text: str, limit: int = LINE_MAX) -> str:
    """The first non-blank line of ``text``, cut to ``limit`` characters."""
    for line in text.splitlines():
        line = line.strip()
        if line:
            return line if len(line) <= limit else line[: limit - 1] + "…"
    return ""


def tool_line(tool: ToolUse) -> str:
    """``Bash: npm test``, ``Edit: src/app.py``; the tool's name alone when no input says more."""
    for key in _TOOL_KEYS:
        value = tool.input.get(key)
        if type(value) is str and value.strip():
            return one_line(f"{tool.name}: {value}")
    return one_line(tool.name)


@dataclass(slots=True)
class AssistantTally:
    """``assistant`` events of a run not yet applied to its task, so that a burst of them costs
    one copy of the task instead of one per event; :func:`apply_event` folds through it too.
    Start it from the task's ``last_line`` and ``model``."""

    last_line: str
    model: str | None
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_creation_tokens: int = 0

    def add(self, event: AssistantEvent) -> None:
        for block in event.blocks:
            text = tool_line(block) if isinstance(block, ToolUse) else one_line(block.text)
            self.last_line = text or self.last_line
        self.model = self.model or event.model
        usage = event.usage
        if usage is not None:
            self.input_tokens += usage.input_tokens
            self.output_tokens += usage.output_tokens
            self.cache_read_tokens += usage.cache_read_input_tokens
            self.cache_creation_tokens += usage.cache_creation_input_tokens

    def applied_to(self, task: Task) -> Task:
        """``task`` with the tally: its line and model, the tokens added to the task's."""
        return replace(
            task,
            last_line=self.last_line,
            model=task.model or self.model,
            input_tokens=task.input_tokens + self.input_tokens,
            output_tokens=task.output_tokens + self.output_tokens,
            cache_read_tokens=task.cache_read_tokens + self.cache_read_tokens,
            cache_creation_tokens=task.cache_creation_tokens + self.cache_creation_tokens,
        )


def apply_event(task: Task, event: Event) -> Task:
    """The task after one stream-json event of its run: ``init`` -> session id and model,
    ``assistant`` -> the activity line and tokens (summed; the result's totals replace them),
    ``result`` -> cost, turns, totals and DONE/FAILED. Other events leave the task as it is
    (``rate_limit_event`` goes to the queue's limits, not to one task)."""
    if isinstance(event, SystemEvent):
        if event.subtype != "init":
            return task
        return replace(task, session_id=event.session_id or task.session_id, model=event.model or task.model)
    if isinstance(event, AssistantEvent):
        tally = AssistantTally(task.last_line, task.model)
        tally.add(event)
        return tally.applied_to(task)
    if isinstance(event, ResultEvent):
        out = replace(
            task,
            state=TaskState.FAILED if event.is_error else TaskState.DONE,
            session_id=task.session_id or event.session_id,
            cost_usd=event.total_cost_usd if event.total_cost_usd is not None else task.cost_usd,
            turns=event.num_turns if event.num_turns is not None else task.turns,
            error=one_line(event.result or event.subtype or "failed") if event.is_error else "",
        )
        if event.usage is not None:
            u = event.usage
            out = replace(
                out,
                input_tokens=u.input_tokens,
                output_tokens=u.output_tokens,
                cache_read_tokens=u.cache_read_input_tokens,
                cache_creation_tokens=u.cache_creation_input_tokens,
            )
        return out
    return task


def policy_from_settings(get: Callable[[str], Any]) -> QueuePolicy:
    """``agents.max_concurrent`` and ``agents.hold_above`` as the queue's policy."""
    return QueuePolicy(
        threshold=float(get("agents.hold_above")), default_cap=int(get("agents.max_concurrent"))
    )
