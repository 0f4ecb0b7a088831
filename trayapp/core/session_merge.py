"""One session list from four partial views: registry, background jobs, hook tracks, captures.

Pure (no I/O, no Qt): :func:`merge_sessions` takes what the sources read and the hook tracks
folded so far, and returns the :class:`~trayapp.core.sessions.Session` list the popup, the tray
badge, ``claude-watch sessions`` and the notification policy show. Each source knows a different
part of a session: the registry which processes are alive (the backbone: it already holds live
records only), jobs what background sessions are doing, hooks the freshest state (Needs you,
Working, ...), status line captures the model, context fill and cost. Sessions are joined on
Claude Code's ``sessionId``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from trayapp.core.sessions import HookTrack, JobRecord, RegistryRecord, Session, SessionState

# Today's live-sessions panel: a capture names a session for five minutes, and a render in the
# last minute means Claude is busy (the status line redraws while a turn runs).
CAPTURE_TTL = timedelta(minutes=5)
CAPTURE_BUSY = timedelta(seconds=60)

_ORDER = {
    SessionState.NEEDS_YOU: 0,
    SessionState.WORKING: 1,
    SessionState.IDLE: 2,
    SessionState.FAILED: 3,
    SessionState.DONE: 4,
}
_JOB_STATE = {
    "working": SessionState.WORKING,
    "blocked": SessionState.NEEDS_YOU,
    "done": SessionState.DONE,
    "stopped": SessionState.DONE,
    "failed": SessionState.FAILED,
    "error": SessionState.FAILED,
}
# ``status`` of an agents row (and of newer registry records): the fallback when ``state`` is absent.
_STATUS = {"busy": SessionState.WORKING, "waiting": SessionState.NEEDS_YOU, "idle": SessionState.IDLE}
_SEP = re.compile(r"[\\/]+")


class CaptureLike(Protocol):
    """What the merge reads of a status line capture (``sources.statusline_capture.LiveSession``;
    core does not import sources)."""

    @property
    def session_id(self) -> str: ...
    @property
    def captured_at(self) -> datetime: ...
    @property
    def project_dir(self) -> str | None: ...
    @property
    def model(self) -> str | None: ...
    @property
    def context_percent(self) -> float | None: ...
    @property
    def cost_usd(self) -> float | None: ...
    @property
    def session_name(self) -> str | None: ...


@dataclass(slots=True)
class _Draft:
    """A session being assembled (mutable, private to one merge)."""

    session_id: str
    state: SessionState = SessionState.IDLE
    # Whether a source said what the state is (else Idle is a guess a capture may refine), and
    # when (None: a registry status, which carries no time and yields to any hook event).
    state_known: bool = False
    state_at: datetime | None = None
    state_since: datetime | None = None
    project_dir: str | None = None
    pid: int | None = None
    name: str | None = None
    model: str | None = None
    started_at: datetime | None = None
    last_activity: datetime | None = None
    context_percent: float | None = None
    cost_usd: float | None = None
    config_dir: str | None = None
    kind: str | None = None
    entrypoint: str | None = None
    job_id: str | None = None
    needs_you_reason: str | None = None
    sources: list[str] = field(default_factory=list)

    def touch(self, at: datetime | None) -> None:
        if at is not None and (self.last_activity is None or at > self.last_activity):
            self.last_activity = at

    def set_state(self, state: SessionState, at: datetime | None, since: datetime | None = None) -> None:
        if state is not self.state or self.state_since is None:
            self.state_since = since or at
        self.state, self.state_at, self.state_known = state, at, True

    def freeze(self) -> Session:
        return Session(
            session_id=self.session_id,
            state=self.state,
            project=project_name(self.project_dir),
            project_dir=self.project_dir,
            pid=self.pid,
            name=self.name,
            model=self.model,
            started_at=self.started_at,
            last_activity=self.last_activity,
            state_since=self.state_since,
            context_percent=self.context_percent,
            cost_usd=self.cost_usd,
            config_dir=self.config_dir,
            kind=self.kind,
            entrypoint=self.entrypoint,
            job_id=self.job_id,
            needs_you_reason=self.needs_you_reason if self.state is SessionState.NEEDS_YOU else None,
            sources=tuple(self.sources),
        )


def project_name(project_dir: str | None) -> str:
    """The last component of a project folder (POSIX or Windows spelling), "?" when unknown."""
    parts = [p for p in _SEP.split(project_dir or "") if p]
    return parts[-1] if parts else "?"


def job_state(job: JobRecord) -> SessionState | None:
    """A job's state in popup terms: ``state`` first, ``status`` when ``state`` says nothing."""
    state = _JOB_STATE.get((job.state or "").lower())
    return state or _STATUS.get((job.status or "").lower())


def merge_sessions(
    *,
    registry: Sequence[RegistryRecord],
    jobs: Sequence[JobRecord],
    tracks: Mapping[str, HookTrack],
    captures: Sequence[CaptureLike],
    now: datetime,
    include_done: bool = False,
    hook_ttl: timedelta = timedelta(minutes=30),
    done_ttl: timedelta = timedelta(minutes=10),
) -> list[Session]:
    """Join the sources into one list, needs-you first (see :func:`sort_key`).

    Rules:
        - Registry records (live ones only) are the backbone, keyed by ``session_id`` (a record
          without one is keyed ``pid:<pid>``). A record with ``parked_job_id`` whose job is
          listed is left out: the job stands for that conversation.
        - Jobs join the session with their ``session_id`` or become one of their own (keyed by
          ``session_id``, else ``job:<id>``; ``kind`` "bg"); their state comes from
          :func:`job_state`.
        - A hook track sets the state when it is at least as fresh as a job's update; a registry
          record's coarse ``status`` (busy/idle, newer Claude Code) yields to any hook track.
          Sessions known only from hooks are listed while their last event is younger than
          ``hook_ttl``; ended (Done) and failed ones for ``done_ttl`` only.
        - Captures add model, context fill, cost and name. A capture-only session is listed
          while its capture is younger than five minutes: Working when captured in the last
          minute, else Idle (and that also sets the state of a session nothing else describes).
        - Done sessions are left out unless ``include_done``.
    """
    drafts: dict[str, _Draft] = {}
    job_ids = {job.job_id for job in jobs}
    for record in registry:
        if record.parked_job_id is not None and record.parked_job_id in job_ids:
            continue
        key = record.session_id or f"pid:{record.pid}"
        draft = drafts.setdefault(key, _Draft(key))
        _add_record(draft, record)
    for job in jobs:
        key = job.session_id or f"job:{job.job_id}"
        draft = drafts.setdefault(key, _Draft(key, kind=job.kind or "bg"))
        _add_job(draft, job)
    for session_id, track in tracks.items():
        draft_or_none = drafts.get(session_id)
        if draft_or_none is None:
            if not _hook_only_visible(track, now, hook_ttl, done_ttl):
                continue
            draft_or_none = drafts[session_id] = _Draft(session_id)
        _add_track(draft_or_none, track)
    for capture in _latest(captures):
        draft_or_none = drafts.get(capture.session_id)
        if draft_or_none is None:
            if now - capture.captured_at >= CAPTURE_TTL:
                continue
            draft_or_none = drafts[capture.session_id] = _Draft(capture.session_id)
        _add_capture(draft_or_none, capture, now)
    sessions = [d.freeze() for d in drafts.values()]
    if not include_done:
        sessions = [s for s in sessions if s.state is not SessionState.DONE]
    return sorted(sessions, key=sort_key)


def sort_key(session: Session) -> tuple[int, float, str]:
    """Needs you, Working, Idle, Failed, Done; most recent activity first within each group."""
    recent = -session.last_activity.timestamp() if session.last_activity else float("inf")
    return _ORDER[session.state], recent, session.session_id


def needs_you_count(sessions: Iterable[Session]) -> int:
    """How many sessions wait for the user (the tray badge)."""
    return sum(1 for s in sessions if s.state is SessionState.NEEDS_YOU)


def _add_record(draft: _Draft, record: RegistryRecord) -> None:
    draft.sources.append("registry")
    draft.pid = record.pid
    draft.project_dir = record.cwd
    draft.name = record.name
    draft.started_at = record.started_at
    draft.config_dir = record.config_dir
    draft.kind = record.kind
    draft.entrypoint = record.entrypoint
    draft.touch(record.started_at)
    draft.touch(record.updated_at)
    status = _STATUS.get((record.status or "").lower())
    if status is not None:
        draft.set_state(status, None, record.updated_at)
    draft.state_since = draft.state_since or record.started_at


def _add_job(draft: _Draft, job: JobRecord) -> None:
    if "job" not in draft.sources:
        draft.sources.append("job")
    draft.job_id = job.job_id
    draft.pid = draft.pid or job.pid
    draft.project_dir = draft.project_dir or job.cwd
    draft.name = draft.name or job.name
    draft.started_at = draft.started_at or job.started_at
    draft.config_dir = draft.config_dir or job.config_dir
    draft.touch(job.started_at)
    draft.touch(job.updated_at)
    state = job_state(job)
    if state is not None:
        draft.set_state(state, job.updated_at or job.started_at)
        if state is SessionState.NEEDS_YOU:
            draft.needs_you_reason = job.detail


def _hook_only_visible(track: HookTrack, now: datetime, hook_ttl: timedelta, done_ttl: timedelta) -> bool:
    ended = track.state in (SessionState.DONE, SessionState.FAILED)
    return now - track.last_event_at < (done_ttl if ended else hook_ttl)


def _add_track(draft: _Draft, track: HookTrack) -> None:
    draft.sources.append("hooks")
    draft.touch(track.last_event_at)
    draft.project_dir = draft.project_dir or track.cwd
    if draft.state_at is None or track.last_event_at >= draft.state_at:
        draft.state, draft.state_since, draft.state_at = track.state, track.state_since, track.last_event_at
        draft.state_known = True
        draft.needs_you_reason = track.needs_you_reason


def _latest(captures: Sequence[CaptureLike]) -> list[CaptureLike]:
    newest: dict[str, CaptureLike] = {}
    for capture in captures:
        prev = newest.get(capture.session_id)
        if prev is None or capture.captured_at > prev.captured_at:
            newest[capture.session_id] = capture
    return list(newest.values())


def _add_capture(draft: _Draft, capture: CaptureLike, now: datetime) -> None:
    draft.sources.append("statusline")
    draft.touch(capture.captured_at)
    draft.project_dir = draft.project_dir or capture.project_dir
    draft.name = draft.name or capture.session_name
    draft.model = capture.model or draft.model
    draft.context_percent = capture.context_percent
    draft.cost_usd = capture.cost_usd
    if not draft.state_known:
        busy = now - capture.captured_at < CAPTURE_BUSY
        draft.state = SessionState.WORKING if busy else SessionState.IDLE
