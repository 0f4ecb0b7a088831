"""Claude Code sessions: the values every session source produces and the one merged list.

Pure and typed (no I/O, no Qt). Four sources describe the sessions on this machine, each keyed by
Claude Code's ``sessionId`` where it has one:

- the registry, ``<config dir>/sessions/<pid>.json`` (:class:`RegistryRecord`, read by
  ``sources/session_registry.py``, which keeps only records whose process is alive);
- background jobs, ``claude agents --json`` or ``<config dir>/jobs/*/state.json``
  (:class:`JobRecord`, ``sources/claude_jobs.py``);
- hook events POSTed by Claude Code (:class:`HookEvent`, parsed by ``core/hook_events.py``),
  folded per session into a :class:`HookTrack` by :func:`apply_hook`;
- status line captures (``sources.statusline_capture.LiveSession``): model, context fill, cost.

:func:`trayapp.core.session_merge.merge_sessions` joins them into the :class:`Session` list the
popup, the tray badge, ``claude-watch sessions`` and the notification policy read.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum


class SessionState(StrEnum):
    """What a session is doing, as the popup shows it."""

    WORKING = "working"  # a turn is running (prompt submitted, tools in use, subagents)
    NEEDS_YOU = "needs_you"  # waiting for a permission answer or for the user (Notification)
    IDLE = "idle"  # alive, the last turn ended; waiting for the next prompt
    DONE = "done"  # ended (SessionEnd, a finished background job)
    FAILED = "failed"  # the turn ended in an error (StopFailure, a failed job)


@dataclass(frozen=True, slots=True)
class RegistryRecord:
    """One ``<config dir>/sessions/<pid>.json``. Undocumented format: every field is parsed on
    its own and is None when absent or of the wrong type; unknown fields are ignored."""

    pid: int
    config_dir: str
    path: str
    session_id: str | None = None
    cwd: str | None = None
    started_at: datetime | None = None  # ``startedAt``: epoch milliseconds
    version: str | None = None
    kind: str | None = None  # "interactive", "bg", ...
    entrypoint: str | None = None  # "cli", "claude-desktop", ...
    name: str | None = None
    parked_job_id: str | None = None  # moved to the background: the job's own record counts
    proc_start: str | None = None  # the process start stamp, compared as text
    status: str | None = None  # newer versions: "busy" / "idle"
    updated_at: datetime | None = None  # ``updatedAt``: epoch milliseconds


@dataclass(frozen=True, slots=True)
class JobRecord:
    """One Claude Code background job (``claude agents --json`` row or ``jobs/<id>/state.json``)."""

    job_id: str
    config_dir: str
    session_id: str | None = None
    pid: int | None = None
    name: str | None = None
    cwd: str | None = None
    state: str | None = None  # raw: working / blocked / done / stopped / failed
    status: str | None = None  # raw: busy / waiting / idle
    detail: str | None = None
    started_at: datetime | None = None
    updated_at: datetime | None = None
    kind: str | None = None  # ``claude agents --json`` also lists interactive sessions


class HookEventName(StrEnum):
    """The hook events Claude Watch subscribes to (Claude Code's ``hook_event_name``)."""

    SESSION_START = "SessionStart"
    SESSION_END = "SessionEnd"
    USER_PROMPT_SUBMIT = "UserPromptSubmit"
    STOP = "Stop"
    STOP_FAILURE = "StopFailure"
    NOTIFICATION = "Notification"
    PERMISSION_REQUEST = "PermissionRequest"
    POST_TOOL_USE = "PostToolUse"  # an answered permission prompt: back to Working
    SUBAGENT_START = "SubagentStart"
    SUBAGENT_STOP = "SubagentStop"
    TASK_CREATED = "TaskCreated"
    TASK_COMPLETED = "TaskCompleted"
    PRE_COMPACT = "PreCompact"


@dataclass(frozen=True, slots=True)
class HookEvent:
    """One hook event as received (untrusted input, strictly parsed: see ``core/hook_events``).

    ``message`` is the one line worth showing: the Notification's message, the permission
    request's tool and its first argument line, the prompt's first line, the failure's error.
    Every text is already trimmed to a sane length and stripped of control characters.
    """

    event: HookEventName
    session_id: str
    received_at: datetime
    cwd: str | None = None
    transcript_path: str | None = None
    message: str | None = None
    notification_type: str | None = None  # Notification: permission_prompt, idle_prompt, ...
    tool_name: str | None = None  # PermissionRequest, PostToolUse
    source: str | None = None  # SessionStart: startup/resume/clear/compact; SessionEnd: reason
    agent_id: str | None = None  # SubagentStart/Stop
    permission_mode: str | None = None


@dataclass(frozen=True, slots=True)
class HookTrack:
    """What the hook events so far say about one session (the fold of :func:`apply_hook`)."""

    session_id: str
    state: SessionState
    state_since: datetime
    last_event: HookEventName
    last_event_at: datetime
    cwd: str | None = None
    turn_started_at: datetime | None = None  # the UserPromptSubmit that opened the running turn
    needs_you_reason: str | None = None
    subagents: int = 0  # subagents started and not yet stopped


@dataclass(frozen=True, slots=True)
class Session:
    """One Claude Code session as the popup, the tray badge and ``sessions --json`` show it."""

    session_id: str
    state: SessionState
    project: str  # the last component of ``project_dir`` ("?" when unknown)
    project_dir: str | None = None
    pid: int | None = None
    name: str | None = None
    model: str | None = None
    started_at: datetime | None = None
    last_activity: datetime | None = None
    state_since: datetime | None = None
    context_percent: float | None = None
    cost_usd: float | None = None
    config_dir: str | None = None
    kind: str | None = None
    entrypoint: str | None = None
    job_id: str | None = None
    needs_you_reason: str | None = None
    sources: tuple[str, ...] = ()  # "registry", "job", "hooks", "statusline", in that order


# -- the hook fold -------------------------------------------------------------------------------

# Events that only say "Claude is busy": a prompt that was answered goes back to Working.
_ACTIVITY = frozenset(
    {
        HookEventName.POST_TOOL_USE,
        HookEventName.SUBAGENT_START,
        HookEventName.SUBAGENT_STOP,
        HookEventName.TASK_CREATED,
        HookEventName.TASK_COMPLETED,
        HookEventName.PRE_COMPACT,
    }
)
# Notification types that tell the user something without waiting for them.
_INFO_NOTIFICATIONS = frozenset({"auth_success"})


def apply_hook(track: HookTrack | None, event: HookEvent) -> HookTrack:
    """Fold one hook event into what is known about its session (pure; returns a new track).

    Transitions: SessionStart -> Idle (``source`` "compact" keeps a running turn running);
    UserPromptSubmit -> Working, opening a turn (``turn_started_at``); Notification and
    PermissionRequest -> Needs you with the message as ``needs_you_reason`` (an ``idle_prompt``
    Notification too: Claude waits for input); tool, subagent, task and compaction events ->
    Working (an answered prompt resumes the turn), ``subagents`` counted and never negative;
    Stop -> Idle; StopFailure -> Failed; SessionEnd -> Done. An ended session stays Done until a
    SessionStart or a new prompt.

    Turn length: Stop keeps ``turn_started_at`` on the returned track, so whoever handles the
    Stop computes ``event.received_at - track.turn_started_at`` from the track it got back (the
    next UserPromptSubmit replaces it, a SessionStart clears it).

    Ordering: an event older than ``track.last_event_at`` (requests handled out of order) never
    moves the state; it only fills a ``cwd`` still unknown. ``state_since`` changes only when
    the state does; ``cwd`` is the latest one given.
    """
    at = event.received_at
    if track is None:
        track = HookTrack(
            session_id=event.session_id,
            state=SessionState.IDLE,
            state_since=at,
            last_event=event.event,
            last_event_at=at,
        )
    elif at < track.last_event_at:
        return track if track.cwd or not event.cwd else replace(track, cwd=event.cwd)
    state = track.state
    turn = track.turn_started_at
    reason = track.needs_you_reason
    subagents = track.subagents
    name = event.event
    if name is HookEventName.SESSION_START:
        if event.source == "compact" and state in (SessionState.WORKING, SessionState.NEEDS_YOU):
            pass  # an automatic compaction inside a running turn: the turn goes on
        else:
            state, turn, reason, subagents = SessionState.IDLE, None, None, 0
    elif name is HookEventName.USER_PROMPT_SUBMIT:
        state, turn, reason = SessionState.WORKING, at, None
    elif name in (HookEventName.NOTIFICATION, HookEventName.PERMISSION_REQUEST):
        if event.notification_type not in _INFO_NOTIFICATIONS and state is not SessionState.DONE:
            state, reason = SessionState.NEEDS_YOU, event.message
    elif name in _ACTIVITY:
        if name is HookEventName.SUBAGENT_START:
            subagents += 1
        elif name is HookEventName.SUBAGENT_STOP:
            subagents = max(0, subagents - 1)
        if state is not SessionState.DONE:
            state, reason = SessionState.WORKING, None
    elif name is HookEventName.STOP:
        state, reason = SessionState.IDLE, None
    elif name is HookEventName.STOP_FAILURE:
        state, reason = SessionState.FAILED, None
    elif name is HookEventName.SESSION_END:
        state, reason, subagents = SessionState.DONE, None, 0
    return HookTrack(
        session_id=track.session_id,
        state=state,
        state_since=track.state_since if state is track.state else at,
        last_event=name,
        last_event_at=at,
        cwd=event.cwd or track.cwd,
        turn_started_at=turn,
        needs_you_reason=reason,
        subagents=subagents,
    )
