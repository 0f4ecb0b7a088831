"""What the agents feature reads and reshapes for its views, apart from the wiring: the queue's
view of a usage state, a log file's new lines for the tail (blocking: the io lane), Claude Code's
background sessions as the job records the queue follows, and which tasks the views list."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from trayapp.core import agents as ca
from trayapp.core.agent_list import TailChunk
from trayapp.core.sessions import JobRecord, Session

if TYPE_CHECKING:
    from trayapp.core.models import AccountState

FIRST_TAIL = 64 * 1024  # bytes of a log shown when the tail starts (its end)
TAIL_CAP = 256 * 1024  # bytes read at most per look
MAX_FINISHED = 100  # ended tasks listed (newest first); `claude-watch agents list --all` has the rest
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def limit_view(state: AccountState | None) -> ca.LimitView | None:
    """What the queue needs from a usage state: the binding window's utilization and reset
    (None: the state has no reading to go by, e.g. signed out)."""
    if state is None or state.binding is None:
        return None
    window = state.binding.window
    return ca.LimitView(
        binding_utilization=window.utilization, binding_resets_at=window.resets_at, binding_label=window.label
    )


def read_chunk(path: Path, offset: int) -> TailChunk:
    """The complete lines of ``path`` from ``offset`` on (at most :data:`TAIL_CAP` bytes; the
    first look starts :data:`FIRST_TAIL` bytes before the end). A file now shorter than
    ``offset`` was rotated: read again from its start. Blocking: call on the io lane."""
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            reset = size < offset
            start = 0 if reset else offset
            skip_partial = False
            if offset == 0 and size > FIRST_TAIL:
                start, skip_partial = size - FIRST_TAIL, True
            fh.seek(start)
            raw = fh.read(TAIL_CAP)
    except OSError:
        return TailChunk((), offset)
    end = raw.rfind(b"\n")
    if end < 0:
        return TailChunk((), start, reset)
    lines = raw[: end + 1].decode("utf-8", "replace").splitlines()
    if skip_partial and lines:
        lines = lines[1:]
    return TailChunk(tuple(lines), start + end + 1, reset)


_JOB_WORDS = {"working": "working", "needs_you": "blocked", "done": "done", "failed": "failed"}


def job_record(session: Session) -> JobRecord:
    """A background session as the job record the queue follows (an idle one keeps its state)."""
    return JobRecord(
        job_id=session.job_id or "",
        config_dir=session.config_dir or "",
        session_id=session.session_id,
        pid=session.pid,
        name=session.name,
        cwd=session.project_dir,
        state=_JOB_WORDS.get(session.state.value),
        detail=session.needs_you_reason,
        started_at=session.started_at,
        updated_at=session.last_activity,
    )


def listed(tasks: list[ca.Task], max_finished: int = MAX_FINISHED) -> list[ca.Task]:
    """Every unfinished task and the ``max_finished`` that ended last (the store keeps more)."""
    ended = [t for t in tasks if t.state in ca.FINISHED]
    ended.sort(key=lambda t: t.finished_at or t.created_at or _EPOCH, reverse=True)
    return [t for t in tasks if t.state not in ca.FINISHED] + ended[:max_finished]
