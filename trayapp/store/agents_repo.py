"""Agents on disk: every task (its spec, state, pids, process group, session and job ids, tokens,
cost, exit code, timestamps, held reason) in ``data/agents.sqlite3``.

One row per task: a few columns to select and order by, and the whole record as JSON, so a field
added to :class:`~trayapp.core.agents.Task` with a default needs no migration. The record is read
strictly (each field checked on its own type); a damaged row is skipped with one log line and the
rest load. The queue service is the only writer; it calls :meth:`AgentsRepo.save` on a worker lane,
one batch at a time, so writes keep their order and never run on the GUI thread. The CLI opens the
same file (WAL: readers and the writer do not block each other).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from dataclasses import fields, replace
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any

from trayapp import paths
from trayapp.core.agents import FINISHED, PermissionMode, RunKind, Task, TaskSpec, TaskState
from trayapp.store.db import open_database, rollback

log = logging.getLogger(__name__)

MAX_RECORD = 256 * 1024  # characters of one row's JSON; a prompt is long, a runaway row is refused
MIGRATIONS = [
    """
    CREATE TABLE tasks (
        id TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        record TEXT NOT NULL
    );
    CREATE INDEX tasks_state ON tasks(state);
    CREATE INDEX tasks_created ON tasks(created_at)
    """,
]

_SPEC_ENUMS: dict[str, type[Enum]] = {"kind": RunKind, "permission_mode": PermissionMode}
_TASK_TIMES = ("created_at", "started_at", "finished_at", "resume_at")


class BadRecord(ValueError):
    """A stored row that does not read as a task (skipped with a note)."""


def agents_db() -> Path:
    return paths.data_dir() / "agents.sqlite3"


def to_json(task: Task) -> str:
    """The task as one JSON object (enums as their values, times as ISO 8601)."""
    out: dict[str, Any] = {}
    for f in fields(Task):
        value = getattr(task, f.name)
        if f.name == "spec":
            value = {g.name: _plain(getattr(task.spec, g.name)) for g in fields(TaskSpec)}
        out[f.name] = _plain(value)
    return json.dumps(out, separators=(",", ":"))


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def from_json(text: str) -> Task:
    """A task from :func:`to_json`'s text; raises :class:`BadRecord` for anything off."""
    if len(text) > MAX_RECORD:
        raise BadRecord("record too long")
    try:
        raw = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise BadRecord(f"not JSON ({exc})") from None
    if type(raw) is not dict:
        raise BadRecord("not an object")
    spec_raw = raw.get("spec")
    if type(spec_raw) is not dict:
        raise BadRecord("spec is not an object")
    spec = TaskSpec(**_checked(TaskSpec, spec_raw, _SPEC_ENUMS, ()))
    values = _checked(Task, raw, {"state": TaskState}, _TASK_TIMES, skip=("spec",))
    return Task(spec=spec, **values)


def _checked(
    cls: type[Any],
    raw: dict[str, Any],
    enums: dict[str, type[Enum]],
    times: tuple[str, ...],
    skip: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Each known field of ``cls`` from ``raw``, checked against the type its default has; missing
    ones keep their default (a field added later); unknown keys are ignored."""
    out: dict[str, Any] = {}
    for f in fields(cls):
        if f.name in skip or f.name not in raw:
            continue
        value = raw[f.name]
        if value is None:
            out[f.name] = None
            continue
        if f.name in enums:
            try:
                out[f.name] = enums[f.name](value)
            except ValueError:
                raise BadRecord(f"{f.name}: unknown value {value!r}") from None
        elif f.name in times:
            out[f.name] = _time(f.name, value)
        else:
            out[f.name] = _typed(f.name, str(f.type), value)
    return out


def _time(name: str, value: Any) -> datetime:
    if type(value) is not str:
        raise BadRecord(f"{name} is not a time")
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise BadRecord(f"{name} is not a time") from None
    if when.utcoffset() is None:
        raise BadRecord(f"{name} has no time zone")
    return when


def _typed(name: str, annotation: str, value: Any) -> Any:
    if annotation.startswith("str"):
        ok = type(value) is str
    elif annotation.startswith("int"):
        ok = type(value) is int
    elif annotation.startswith("float"):
        ok = type(value) in (int, float)
        value = float(value) if ok else value
    elif annotation.startswith("bool"):
        ok = type(value) is bool
    else:
        ok = False
    if not ok:
        raise BadRecord(f"{name}: {type(value).__name__} where {annotation} belongs")
    return value


class AgentsRepo:
    """The tasks table. Thread-safe (one connection behind a lock): the queue writes on a worker
    lane while the CLI or a test reads."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or agents_db()
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = open_database(self.path, MIGRATIONS, check_same_thread=False)
        return self._conn

    def save(self, tasks: list[Task], now: datetime) -> None:
        """Insert or replace ``tasks`` in one transaction."""
        if not tasks:
            return
        with self._lock:
            conn = self._db()
            conn.execute("BEGIN IMMEDIATE")
            try:
                for task in tasks:
                    created = (task.created_at or now).isoformat()
                    conn.execute(
                        "INSERT INTO tasks(id, state, created_at, updated_at, record) VALUES (?,?,?,?,?) "
                        "ON CONFLICT(id) DO UPDATE SET state=excluded.state, "
                        "updated_at=excluded.updated_at, record=excluded.record",
                        (task.id, task.state.value, created, now.isoformat(), to_json(task)),
                    )
                conn.execute("COMMIT")
            except BaseException:
                rollback(conn)
                raise

    def load(self, limit: int = 2000) -> list[Task]:
        """The newest ``limit`` tasks, oldest first; damaged rows skipped with a note."""
        with self._lock:
            rows = (
                self._db()
                .execute("SELECT id, record FROM tasks ORDER BY created_at DESC, id DESC LIMIT ?", (limit,))
                .fetchall()
            )
        tasks: list[Task] = []
        for row in reversed(rows):
            try:
                task = from_json(row["record"])
            except BadRecord as exc:
                log.warning("agents: skipped the damaged task row %r (%s)", row["id"], exc)
                continue
            tasks.append(task if task.id == row["id"] else replace(task, id=row["id"]))
        return tasks

    def get(self, task_id: str) -> Task | None:
        with self._lock:
            row = self._db().execute("SELECT record FROM tasks WHERE id=?", (task_id,)).fetchone()
        if row is None:
            return None
        try:
            return from_json(row["record"])
        except BadRecord as exc:
            log.warning("agents: the task row %r is damaged (%s)", task_id, exc)
            return None

    def prune(self, before: datetime) -> list[str]:
        """Delete finished tasks last changed before ``before``; returns their ids (their logs go
        too, by the caller)."""
        finished = tuple(s.value for s in FINISHED)
        marks = ",".join("?" * len(finished))
        with self._lock:
            conn = self._db()
            rows = conn.execute(
                f"SELECT id FROM tasks WHERE updated_at < ? AND state IN ({marks})",
                (before.isoformat(), *finished),
            ).fetchall()
            ids = [r["id"] for r in rows]
            conn.executemany("DELETE FROM tasks WHERE id=?", [(i,) for i in ids])
        return ids

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
