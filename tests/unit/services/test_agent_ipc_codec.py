"""Tasks as JSON for the socket and ``--json``: a spec from a request is checked field by field
(another program may write to the socket), a task reads back as it was written, and ``agents
list`` shows unfinished tasks and the last day's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from trayapp.core.agents import PermissionMode, RunKind, Task, TaskSpec, TaskState
from trayapp.platform.ipc_protocol import ProtocolError
from trayapp.services.agent_ipc_codec import (
    MAX_PROMPT,
    spec_from_json,
    spec_to_json,
    task_from_json,
    task_to_json,
    visible,
)

NOW = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)


def test_a_full_spec_round_trips() -> None:
    spec = TaskSpec(
        prompt="fix the tests",
        folder="/src/app",
        kind=RunKind.BACKGROUND,
        name="fixer",
        worktree=True,
        model="sonnet",
        permission_mode=PermissionMode.ACCEPT_EDITS,
        max_turns=12,
        budget_usd=2.5,
        priority=3,
        slot="docker:box",
        image="claude-box:1",
    )
    assert spec_from_json(spec_to_json(spec)) == spec


def test_a_task_round_trips() -> None:
    task = Task(
        id="t-1a2b3c",
        spec=TaskSpec(prompt="p", folder="/src"),
        state=TaskState.HELD,
        created_at=NOW,
        resume_at=NOW + timedelta(hours=1),
        held_reason="5-hour at 91% (holds above 85%)",
        pid=42,
        pgid=42,
        cost_usd=0.25,
    )
    assert task_from_json(task_to_json(task)) == task


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"prompt": ""}, "prompt"),
        ({"prompt": "x" * (MAX_PROMPT + 1)}, "prompt"),
        ({"prompt": 5}, "prompt"),
        ({"folder": "relative"}, "folder"),
        ({"folder": "/a\x00b"}, "folder"),
        ({"kind": "daemon"}, "kind"),
        ({"permission_mode": "yolo"}, "permission_mode"),
        ({"worktree": "yes"}, "worktree"),
        ({"max_turns": 2.5}, "max_turns"),
        ({"max_turns": 0}, "max_turns"),
        ({"max_turns": True}, "max_turns"),
        ({"budget_usd": float("nan")}, "budget_usd"),
        ({"budget_usd": float("inf")}, "budget_usd"),
        ({"budget_usd": -1}, "budget_usd"),
        ({"priority": 10**9}, "priority"),
        ({"slot": ["local"]}, "slot"),
    ],
)
def test_a_bad_spec_field_is_refused_by_name(change: dict[str, Any], field: str) -> None:
    body = {"prompt": "do it", "folder": "/src", **change}
    with pytest.raises(ProtocolError) as caught:
        spec_from_json(body)
    assert caught.value.code == "bad_request"
    assert caught.value.message.startswith(field)


def test_unknown_spec_fields_are_ignored() -> None:
    assert spec_from_json({"prompt": "p", "folder": "/src", "colour": "blue"}) == TaskSpec("p", "/src")


def test_a_bad_task_is_refused() -> None:
    with pytest.raises(ProtocolError):
        task_from_json({"id": "t-1", "spec": {"prompt": "p", "folder": "/s"}, "state": "exploded"})
    with pytest.raises(ProtocolError):
        task_from_json([1, 2])


def test_list_shows_unfinished_and_the_last_day() -> None:
    def task(tid: str, state: TaskState, finished_hours_ago: float | None) -> Task:
        finished = NOW - timedelta(hours=finished_hours_ago) if finished_hours_ago is not None else None
        return Task(
            id=tid,
            spec=TaskSpec("p", "/s"),
            state=state,
            created_at=NOW - timedelta(hours=30),
            finished_at=finished,
        )

    tasks = [
        task("old", TaskState.DONE, 25),
        task("recent", TaskState.FAILED, 2),
        task("waiting", TaskState.QUEUED, None),
    ]
    assert [t.id for t in visible(tasks, NOW)] == ["recent", "waiting"]
    assert [t.id for t in visible(tasks, NOW, include_all=True)] == ["old", "recent", "waiting"]
