"""The agents' notifications: started, done and failed, once per task, through the dispatcher.

:class:`AgentNotices` watches the queue's task records go by and decides: a task seen entering
Starting or Running gets "Agent started", Done gets "Agent done", Failed (and Lost: the child
vanished) "Agent failed". Held -> released, queued, and stopped by the user are quiet. The key of
each alert names the task and what happened (``agent:<id>:done``), and every key sent is
remembered, so a task that flaps, or a list that arrives again, never repeats one; a task that
started and ended between two looks gets both. Tasks already
started or ended when the app starts are taken as seen: a restart of the app repeats nothing (a
restarted task has its own id, and its own notices).

Each alert carries the buttons "Open" (the agents window at that task) and "Open log", routed
through the desktop channel's ``action_routes["agents"]`` (:data:`OPEN`, :data:`OPEN_LOG`), and
the task id in ``extra["task_id"]``. No quip (``NO_QUIP_KINDS``): they come often.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from trayapp.channels.desktop import actions_extra
from trayapp.core.agent_list import title_text
from trayapp.core.agents import ACTIVE, Task, TaskState
from trayapp.core.humanize import format_duration, format_money
from trayapp.core.models import Alert, AlertKind, Level

WINDOW_ID = "agents"
ROUTE = "agents"
OPEN = "agents.open"
OPEN_LOG = "agents.open_log"
MAX_KEYS = 5000

_KINDS = {
    TaskState.STARTING: AlertKind.AGENT_STARTED,
    TaskState.RUNNING: AlertKind.AGENT_STARTED,
    TaskState.NEEDS_YOU: AlertKind.AGENT_STARTED,  # a background session may ask at once
    TaskState.DONE: AlertKind.AGENT_DONE,
    TaskState.FAILED: AlertKind.AGENT_FAILED,
    TaskState.LOST: AlertKind.AGENT_FAILED,
}
_WHAT = {AlertKind.AGENT_STARTED: "started", AlertKind.AGENT_DONE: "done", AlertKind.AGENT_FAILED: "failed"}


def alert_for(task: Task, kind: AlertKind, now: datetime) -> Alert:
    """The notice for ``task`` (its title, where it runs, how it ended)."""
    name = title_text(task)
    where = task.spec.folder.rstrip("/").rsplit("/", 1)[-1] or task.spec.folder
    parts: list[str] = []
    if kind is AlertKind.AGENT_STARTED:
        title = f"Agent {'restarted' if task.restarted_from else 'started'} · {name}"
        parts.append(f"in {where}" + (f" on {task.slot}" if task.slot and task.slot != "local" else ""))
    else:
        title = f"Agent {'done' if kind is AlertKind.AGENT_DONE else 'failed'} · {name}"
        if task.started_at is not None and task.finished_at is not None:
            parts.append(f"ran {format_duration(task.finished_at - task.started_at)}")
        if task.cost_usd is not None:
            parts.append(format_money(task.cost_usd))
    body = " · ".join(parts)
    line = task.error if kind is AlertKind.AGENT_FAILED and task.error else task.last_line
    if task.state is TaskState.LOST and not task.error:
        line = "Its process ended while Claude Watch was not running."
    if line and kind is not AlertKind.AGENT_STARTED:
        body = f"{body}\n{line[:200]}" if body else line[:200]
    return Alert(
        key=f"agent:{task.id}:{_WHAT[kind]}",
        kind=kind,
        window_id=WINDOW_ID,
        window_label="Agents",
        utilization=0.0,
        level=Level.AT_LIMIT if kind is AlertKind.AGENT_FAILED else Level.OK,
        created_at=now,
        title=title,
        body=body,
        extra={"task_id": task.id, "actions": actions_extra([(OPEN, "Open"), (OPEN_LOG, "Open log")])},
    )


class AgentNotices:
    """Decides the agents' notices from the task records it is shown (see the module docstring)."""

    def __init__(self) -> None:
        self.sent: dict[str, None] = {}  # keys sent, oldest first

    def seed(self, tasks: Iterable[Task]) -> None:
        """What is already started or ended at the app's start counts as notified."""
        for task in tasks:
            for kind in self._due(task):
                self.sent[f"agent:{task.id}:{_WHAT[kind]}"] = None

    @staticmethod
    def _due(task: Task) -> list[AlertKind]:
        """Every notice ``task``'s state implies (an ended task also started, unless it never ran)."""
        kind = _KINDS.get(task.state)
        if kind is None:
            return []
        if kind is AlertKind.AGENT_STARTED or task.started_at is None:
            return [kind]
        return [AlertKind.AGENT_STARTED, kind]

    def changed(self, tasks: Iterable[Task], now: datetime) -> list[Alert]:
        """The notices these task records call for that were not sent yet (ours only). A task
        seen only after it ended (it ran between two looks) gets its start and its end."""
        alerts = []
        for task in tasks:
            if not task.ours:
                continue
            kind = _KINDS.get(task.state)
            if kind is None:
                continue
            for due in self._due(task):
                key = f"agent:{task.id}:{_WHAT[due]}"
                if key not in self.sent:
                    self.sent[key] = None
                    alerts.append(alert_for(task, due, now))
        if len(self.sent) > MAX_KEYS:  # the oldest keys go; tasks that old do not come back
            self.sent = dict.fromkeys(list(self.sent)[-MAX_KEYS // 2 :])
        return alerts


__all__ = ["ACTIVE", "OPEN", "OPEN_LOG", "ROUTE", "AgentNotices", "alert_for"]
