"""The agents' notices: once per task and event, none for queued/held/released/stopped, none for
sessions we did not start, nothing repeated for what ran before the app started, start and end
both for a task seen only after it ended, and the buttons routed to ``agents``."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from trayapp.channels.desktop import parse_actions
from trayapp.core.agents import Task, TaskSpec, TaskState
from trayapp.core.models import AlertKind, Level
from trayapp.features.agents_notify import OPEN, OPEN_LOG, AgentNotices, alert_for

NOW = datetime(2026, 12, 3, 14, 0, tzinfo=UTC)


def task(tid: str, state: TaskState, **kw) -> Task:
    started = NOW - timedelta(minutes=5) if state not in (TaskState.QUEUED, TaskState.HELD) else None
    values = {"started_at": started, "slot": "local"}
    values.update(kw)
    return Task(tid, TaskSpec(prompt="Fix the build", folder="/work/proj"), state=state, **values)


def kinds(alerts) -> list[tuple[str, AlertKind]]:
    return [(a.extra["task_id"], a.kind) for a in alerts]


def test_a_task_life_gives_started_then_done_once():
    notices = AgentNotices()
    life = [
        TaskState.QUEUED,
        TaskState.HELD,
        TaskState.QUEUED,
        TaskState.STARTING,
        TaskState.RUNNING,
        TaskState.NEEDS_YOU,
        TaskState.RUNNING,
        TaskState.DONE,
        TaskState.DONE,
    ]
    got = []
    for state in life:
        got += notices.changed([task("t-1", state)], NOW)
    assert kinds(got) == [("t-1", AlertKind.AGENT_STARTED), ("t-1", AlertKind.AGENT_DONE)]


def test_failed_and_lost_are_failures_stopped_is_quiet():
    notices = AgentNotices()
    got = notices.changed([task("a", TaskState.RUNNING), task("b", TaskState.RUNNING)], NOW)
    got += notices.changed([task("a", TaskState.FAILED, error="exit 1"), task("b", TaskState.STOPPED)], NOW)
    got += notices.changed([task("c", TaskState.LOST)], NOW)
    assert kinds(got) == [
        ("a", AlertKind.AGENT_STARTED),
        ("b", AlertKind.AGENT_STARTED),
        ("a", AlertKind.AGENT_FAILED),
        ("c", AlertKind.AGENT_STARTED),
        ("c", AlertKind.AGENT_FAILED),
    ]
    failed = got[2]
    assert failed.level is Level.AT_LIMIT
    assert "exit 1" in failed.body
    assert "while Claude Watch was not running" in got[4].body


def test_seeded_tasks_and_foreign_sessions_say_nothing():
    notices = AgentNotices()
    before = [
        task("old-run", TaskState.RUNNING),
        task("old-done", TaskState.DONE),
        task("q", TaskState.QUEUED),
    ]
    notices.seed(before)
    assert notices.changed(before, NOW) == []
    assert kinds(notices.changed([task("old-run", TaskState.DONE)], NOW)) == [
        ("old-run", AlertKind.AGENT_DONE)
    ]
    assert kinds(notices.changed([task("q", TaskState.RUNNING)], NOW)) == [("q", AlertKind.AGENT_STARTED)]
    assert notices.changed([task("j-x", TaskState.RUNNING, ours=False)], NOW) == []


def test_a_restart_is_its_own_task_with_its_own_notices():
    notices = AgentNotices()
    notices.changed([task("t-1", TaskState.RUNNING)], NOW)
    notices.changed([task("t-1", TaskState.STOPPED)], NOW)
    again = task("t-2", TaskState.RUNNING, restarted_from="t-1")
    (note,) = notices.changed([again], NOW)
    assert (note.kind, note.extra["task_id"]) == (AlertKind.AGENT_STARTED, "t-2")
    assert note.title == "Agent restarted · Fix the build"


def test_alert_words_and_buttons():
    done = task("t-1", TaskState.DONE, finished_at=NOW, cost_usd=0.5, last_line="All tests pass.")
    alert = alert_for(done, AlertKind.AGENT_DONE, NOW)
    assert alert.title == "Agent done · Fix the build"
    assert alert.body == "ran 5 min · $0.50\nAll tests pass."
    assert alert.key == "agent:t-1:done"
    assert parse_actions(alert) == [(OPEN, "Open"), (OPEN_LOG, "Open log")]
    assert "session_id" not in alert.extra  # "Open" is ours, not the sessions panel's
    started = alert_for(replace(done, slot="docker:py"), AlertKind.AGENT_STARTED, NOW)
    assert started.body == "in proj on docker:py"
