"""Agents' tasks as JSON, both ways: what ``claude-watch agents ... --json`` prints and what the
single-instance socket carries (:mod:`trayapp.services.agent_ipc`).

A task travels in the store's record format (:func:`trayapp.store.agents_repo.to_json`), read
back as strictly as a stored row. A spec from a request is untrusted (another program may write
to the socket): every field is checked on its own, a wrong type or an absurd value is refused with
a :class:`ProtocolError` (``bad_request``) naming the field, unknown fields are ignored. No Qt and
no asyncio: the command line imports this.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta
from typing import Any

from trayapp.core.agents import FINISHED, PermissionMode, RunKind, Task, TaskSpec
from trayapp.platform.ipc_protocol import ProtocolError
from trayapp.store import agents_repo

SCHEMA_VERSION = 1
MAX_PROMPT = 100_000  # characters
MAX_TEXT = 4096  # any other string field
RECENT = timedelta(hours=24)  # `agents list` without --all: finished tasks this recent


def task_to_json(task: Task) -> dict[str, Any]:
    """The task as a JSON object: the store's record format (one format on disk and on the wire)."""
    body: dict[str, Any] = json.loads(agents_repo.to_json(task))
    return body


def spec_to_json(spec: TaskSpec) -> dict[str, Any]:
    spec_json: dict[str, Any] = task_to_json(Task(id="", spec=spec))["spec"]
    return spec_json


def spec_from_json(body: Any) -> TaskSpec:
    """A :class:`TaskSpec` from a request's ``spec`` object; raises ProtocolError(``bad_request``)."""
    if not isinstance(body, dict):
        raise _bad("spec", "must be an object")
    prompt = _str(body, "prompt", MAX_PROMPT)
    if not prompt.strip():
        raise _bad("prompt", "is empty")
    folder = _str(body, "folder", MAX_TEXT)
    if not os.path.isabs(folder):
        raise _bad("folder", "must be an absolute path")
    return TaskSpec(
        prompt=prompt,
        folder=folder,
        kind=_enum(body, "kind", RunKind, RunKind.HEADLESS),
        name=_str(body, "name", 200, default=""),
        worktree=_bool(body, "worktree"),
        model=_str(body, "model", 200, default=None),
        permission_mode=_enum(body, "permission_mode", PermissionMode, PermissionMode.DEFAULT),
        max_turns=_number(body, "max_turns", int, 1, 10_000),
        budget_usd=_number(body, "budget_usd", float, 0.0001, 100_000.0),
        priority=_number(body, "priority", int, -1000, 1000) or 0,
        slot=_str(body, "slot", 200, default=None),
        image=_str(body, "image", MAX_TEXT, default=None),
    )


def task_from_json(body: Any) -> Task:
    """A :class:`Task` read back from JSON (the app's answer); raises ProtocolError(``bad_request``)."""
    if not isinstance(body, dict):
        raise _bad("task", "must be an object")
    try:
        task = agents_repo.from_json(json.dumps(body))
    except agents_repo.BadRecord as exc:
        raise ProtocolError("bad_request", f"the task does not read: {exc}") from None
    if not task.id:
        raise _bad("id", "is missing")
    return task


def visible(tasks: list[Task], now: datetime, *, include_all: bool = False) -> list[Task]:
    """``agents list``: everything not finished, and tasks finished in the last 24 hours (all with
    ``include_all``), oldest first."""
    shown = [
        t for t in tasks if include_all or t.state not in FINISHED or (t.finished_at or now) >= now - RECENT
    ]
    return sorted(shown, key=lambda t: (t.created_at or now, t.id))


def _bad(name: str, why: str) -> ProtocolError:
    return ProtocolError("bad_request", f"{name} {why}")


def _str(body: dict[str, Any], name: str, cap: int, **kw: Any) -> Any:
    value = body.get(name)
    if value is None and "default" in kw:
        return kw["default"]
    if not isinstance(value, str):
        raise _bad(name, "must be a string")
    if len(value) > cap or "\x00" in value:
        raise _bad(name, f"must be at most {cap} characters, without NUL")
    return value


def _bool(body: dict[str, Any], name: str) -> bool:
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise _bad(name, "must be true or false")
    return value


def _enum(body: dict[str, Any], name: str, kind: Any, default: Any) -> Any:
    value = body.get(name)
    if value is None:
        return default
    try:
        return kind(value)
    except ValueError:
        raise _bad(name, f"must be one of {', '.join(v.value for v in kind)}") from None


def _number(body: dict[str, Any], name: str, kind: type, low: float, high: float) -> Any:
    value = body.get(name)
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or (kind is int and isinstance(value, float))
    ):
        raise _bad(name, f"must be {'an integer' if kind is int else 'a number'}")
    if not low <= value <= high:
        raise _bad(name, f"must be between {low:g} and {high:g}")
    return kind(value)
