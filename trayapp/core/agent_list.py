"""The agents list as plain values: one item per agent, its word and title, the views' order, and
one read of a task's log. Pure (no Qt, no I/O).

An :class:`AgentItem` is one agent as the views show it: one of ours (a :class:`Task` from the
agent queue) or a Claude Code session we did not start (from the sessions service; ``ours`` is
False, so it is shown, and stopped only after a confirmation that names it). :func:`agent_items`
merges both lists (a background session we started is also a Claude Code session: it is listed
once, as ours) and sorts them: what needs you, what runs, what waits, then what ended (newest
first).

Here rather than in ``ui/agents_rows`` so the agents feature keeps its list, its notices' titles
and its log reads without importing the views' widgets: the Agents window and its rows load when
first shown, not at start (idle memory, issue 20).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from trayapp.core.agents import RunKind, Task, TaskSpec, TaskState
from trayapp.core.sessions import Session, SessionState

FOREIGN_PREFIX = "session:"  # ids of sessions we did not start: "session:<session id>"

STATE_WORDS = {
    TaskState.QUEUED: "Queued",
    TaskState.HELD: "Held: near limit",
    TaskState.STARTING: "Starting",
    TaskState.RUNNING: "Running",
    TaskState.NEEDS_YOU: "Needs you",
    TaskState.DONE: "Done",
    TaskState.FAILED: "Failed",
    TaskState.STOPPED: "Stopped",
    TaskState.LOST: "Lost",
}
_SESSION_STATES = {
    SessionState.WORKING: TaskState.RUNNING,
    SessionState.NEEDS_YOU: TaskState.NEEDS_YOU,
    SessionState.IDLE: TaskState.RUNNING,  # alive, between prompts: shown as "Idle"
    SessionState.DONE: TaskState.DONE,
    SessionState.FAILED: TaskState.FAILED,
}
_ORDER = {
    TaskState.NEEDS_YOU: 0,
    TaskState.RUNNING: 1,
    TaskState.STARTING: 1,
    TaskState.HELD: 2,
    TaskState.QUEUED: 3,
}


@dataclass(frozen=True, slots=True)
class AgentItem:
    """One row: the task, its word, and for a queued one the estimated cost (``est. $X``)."""

    task: Task
    word: str
    estimate: float | None = None

    @property
    def id(self) -> str:
        return self.task.id

    @property
    def ours(self) -> bool:
        return self.task.ours


@dataclass(frozen=True, slots=True)
class TailChunk:
    """What one read of a log file gave: complete lines from ``offset`` on, and where to go on.
    ``reset`` says the file was replaced or shrank (rotated): the view starts over."""

    lines: tuple[str, ...]
    offset: int
    reset: bool = False


def item_for(task: Task, estimate: float | None = None) -> AgentItem:
    waiting = task.state in (TaskState.QUEUED, TaskState.HELD)
    return AgentItem(task, STATE_WORDS[task.state], estimate if waiting else None)


def foreign_task(session: Session) -> Task:
    """A Claude Code session we did not start, as a task record (``ours=False``)."""
    kind = RunKind.BACKGROUND if session.job_id else RunKind.HEADLESS
    spec = TaskSpec(
        prompt="", folder=session.project_dir or "", kind=kind, name=session.name or session.project
    )
    finished = session.state in (SessionState.DONE, SessionState.FAILED)
    return Task(
        id=FOREIGN_PREFIX + session.session_id,
        spec=spec,
        state=_SESSION_STATES[session.state],
        started_at=session.started_at,
        finished_at=session.state_since if finished else None,
        session_id=session.session_id,
        job_id=session.job_id,
        pid=session.pid,
        last_line=session.needs_you_reason or "",
        cost_usd=session.cost_usd,
        ours=False,
    )


def _sort_key(item: AgentItem) -> tuple[int, int, float]:
    task = item.task
    rank = _ORDER.get(task.state, 4)
    when = task.finished_at or task.started_at or task.created_at
    stamp = when.timestamp() if when is not None else 0.0
    # Waiting: oldest first (the queue's order); running and ended: newest first.
    return (rank, 0 if task.ours else 1, stamp if rank in (2, 3) else -stamp)


def agent_items(
    tasks: Iterable[Task],
    sessions: Iterable[Session] = (),
    estimate: Callable[[Task], float | None] | None = None,
) -> list[AgentItem]:
    """Ours and the sessions we did not start, one row each, in the views' order."""
    ours = list(tasks)
    known = {t.session_id for t in ours if t.session_id} | {t.job_id for t in ours if t.job_id}
    waiting = (TaskState.QUEUED, TaskState.HELD)
    items = [item_for(t, estimate(t) if estimate is not None and t.state in waiting else None) for t in ours]
    for s in sessions:
        if s.session_id in known or (s.job_id and s.job_id in known):
            continue
        item = item_for(foreign_task(s))
        items.append(replace(item, word="Idle") if s.state is SessionState.IDLE else item)
    return sorted(items, key=_sort_key)


def title_text(task: Task) -> str:
    """The row's title: the task's name, else its prompt's first line, else its folder."""
    first = next((line.strip() for line in task.spec.prompt.splitlines() if line.strip()), "")
    return task.spec.name or first or task.spec.folder.rstrip("/").rsplit("/", 1)[-1] or task.id
