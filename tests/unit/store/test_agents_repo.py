"""The agents store on a real SQLite file: a task round-trips with every field, a later save
replaces the row, a damaged row is skipped with a note while the rest load, and a database from a
newer version is refused."""

from __future__ import annotations

import json
import logging
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from trayapp.core.agents import PermissionMode, RunKind, Task, TaskSpec, TaskState
from trayapp.store.agents_repo import AgentsRepo, BadRecord, from_json, to_json
from trayapp.store.db import DatabaseTooNew

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def full_task(task_id: str = "t-abc123") -> Task:
    spec = TaskSpec(
        prompt="fix the tests\nand more",
        folder="/home/me/project",
        kind=RunKind.BACKGROUND,
        name="fix",
        worktree=True,
        model="opus",
        permission_mode=PermissionMode.ACCEPT_EDITS,
        max_turns=7,
        budget_usd=1.5,
        priority=2,
        slot="docker:box",
        image="claude-box:1",
    )
    return Task(
        id=task_id,
        spec=spec,
        state=TaskState.HELD,
        created_at=NOW,
        started_at=NOW + timedelta(minutes=1),
        finished_at=None,
        slot="local",
        session_id="8129eebb-0f2f-4067-af9c-d189154b6617",
        job_id="1a2b3c4d",
        pid=4242,
        pgid=4242,
        container_id="c0ffee",
        exit_code=None,
        held_reason="5-hour at 91% (holds above 85%)",
        resume_at=NOW + timedelta(hours=2),
        last_line="Bash: npm test",
        input_tokens=10,
        output_tokens=20,
        cache_read_tokens=30,
        cache_creation_tokens=40,
        cost_usd=0.25,
        turns=3,
        error="",
        ours=True,
        restarted_from="t-000001",
        pid_start=987654,
        note="n",
        model="claude-opus-4-5",
        workdir="/data/agents/worktrees/t-abc123",
    )


def test_round_trip_every_field(tmp_path: Path) -> None:
    task = full_task()
    assert from_json(to_json(task)) == task
    repo = AgentsRepo(tmp_path / "agents.sqlite3")
    repo.save([task], NOW)
    assert repo.get(task.id) == task
    done = Task(task.id, task.spec, TaskState.DONE, created_at=NOW, cost_usd=1.0)
    repo.save([done], NOW)
    assert repo.load() == [done]
    repo.close()


def test_a_damaged_row_is_skipped_with_a_note(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    db = tmp_path / "agents.sqlite3"
    repo = AgentsRepo(db)
    repo.save([full_task("t-good01"), full_task("t-bad001"), full_task("t-bad002")], NOW)
    repo.close()
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE tasks SET record='{not json' WHERE id='t-bad001'")
        conn.execute(
            "UPDATE tasks SET record=replace(record, '\"pid\":4242', '\"pid\":\"4242\"') WHERE id='t-bad002'"
        )
    repo = AgentsRepo(db)
    with caplog.at_level(logging.WARNING):
        loaded = repo.load()
    assert [t.id for t in loaded] == ["t-good01"]
    assert "t-bad001" in caplog.text
    assert "t-bad002" in caplog.text
    assert repo.get("t-bad002") is None
    repo.close()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("state", '"exploded"'),
        ("created_at", '"yesterday"'),
        ("created_at", '"2026-12-03T12:00:00"'),  # no time zone
        ("cost_usd", '"cheap"'),
        ("ours", "1"),
        ("spec", "[]"),
    ],
)
def test_strict_fields(field: str, value: str) -> None:
    text = to_json(full_task())
    raw = json.loads(text)
    raw[field] = json.loads(value)
    with pytest.raises(BadRecord):
        from_json(json.dumps(raw))


def test_unknown_fields_are_ignored_and_missing_ones_default() -> None:
    assert from_json('{"id":"t-1","spec":{"prompt":"p","folder":"/f","later":1},"extra":true}') == Task(
        "t-1", TaskSpec("p", "/f")
    )


def test_a_newer_database_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "agents.sqlite3"
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA user_version=99")
    with pytest.raises(DatabaseTooNew):
        AgentsRepo(db).load()


def test_prune_deletes_only_old_finished_tasks(tmp_path: Path) -> None:
    repo = AgentsRepo(tmp_path / "agents.sqlite3")
    spec = TaskSpec("p", "/p")
    old = NOW - timedelta(days=100)
    repo.save([Task("t-olddone", spec, TaskState.DONE, created_at=old)], old)
    repo.save([Task("t-oldheld", spec, TaskState.HELD, created_at=old)], old)
    repo.save([Task("t-newdone", spec, TaskState.FAILED, created_at=NOW)], NOW)
    assert repo.prune(NOW - timedelta(days=90)) == ["t-olddone"]
    assert [t.id for t in repo.load()] == ["t-oldheld", "t-newdone"]
    repo.close()
