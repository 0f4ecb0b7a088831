"""The session notification policy: which hook events deserve a "Claude needs you", "finished",
"failed" or "new session" notification, and how a burst of them becomes one.

Pure: :func:`decide` takes one :class:`~trayapp.core.sessions.HookEvent`, the session's hook track
before and after it (the fold of ``apply_hook``), the :class:`Session` when known (for its project
and name), the :class:`SessionAlertConfig` and the :class:`SessionAlertMemory`, and returns the new
memory; :func:`flush` turns what is due into at most one :class:`~trayapp.core.models.Alert`.

Rules.

- *Needs you*: a Notification or PermissionRequest that moves the session into "needs you". Claude
  Code often sends both for one prompt, so the second (the session already needs you) is quiet; a
  PermissionRequest right after another one is a new prompt and fires. A Notification of type
  ``idle_prompt`` (Claude waiting for the next prompt) does not: the turn's "finished" covers it.
- *Finished*: a Stop whose turn (UserPromptSubmit -> Stop) ran at least ``finished_min_seconds``;
  quick replies do not ping, and a turn whose start was not seen (the app started mid-turn) does
  not either. One per turn.
- *Failed*: every StopFailure. *New session*: SessionStart with source ``startup`` (off by default).
- Each notice has a key unique per session and event occurrence; a key fires once (the memory
  remembers it for a day), so a repeated or replayed event never notifies twice.
- Quiet hours and pause hold session notices, and a held notice is dropped, not delivered later:
  "finished" an hour late is noise, and the popup and the tray badge still show who needs you.
- Coalescing: a notice waits :data:`GATHER` for company (each newcomer extends the wait, at most to
  :data:`MAX_GATHER` after the first); after a notification, notices gather until :data:`COOLDOWN`
  has passed. So ten sessions finishing at once give one notification ("10 sessions finished: a,
  b, ..."), and a lone permission prompt shows within a fraction of a second.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta, tzinfo
from pathlib import PurePath

from trayapp.core.alert_policy import in_quiet_hours
from trayapp.core.humanize import format_duration
from trayapp.core.models import Alert, AlertKind, Level
from trayapp.core.sessions import HookEvent, HookEventName, HookTrack, Session, SessionState

GATHER = timedelta(milliseconds=150)
MAX_GATHER = timedelta(seconds=2)
COOLDOWN = timedelta(seconds=2)
FORGET_AFTER = timedelta(days=1)
WINDOW_ID = "sessions"
MAX_NAMES = 4  # projects named in a coalesced title; the rest are "+N"
MAX_BODY_LINE = 160

# Most urgent first: a coalesced notification takes the kind (and wording) of its most urgent notice.
URGENCY = (
    AlertKind.SESSION_NEEDS_YOU,
    AlertKind.SESSION_FAILED,
    AlertKind.SESSION_FINISHED,
    AlertKind.SESSION_STARTED,
)
_ONE = {
    AlertKind.SESSION_NEEDS_YOU: "Claude needs you",
    AlertKind.SESSION_FAILED: "Claude failed",
    AlertKind.SESSION_FINISHED: "Claude finished",
    AlertKind.SESSION_STARTED: "New Claude session",
}
_MANY = {
    AlertKind.SESSION_NEEDS_YOU: "sessions need you",
    AlertKind.SESSION_FAILED: "sessions failed",
    AlertKind.SESSION_FINISHED: "sessions finished",
    AlertKind.SESSION_STARTED: "new sessions",
}
_VERB = {
    AlertKind.SESSION_NEEDS_YOU: "needs you",
    AlertKind.SESSION_FAILED: "failed",
    AlertKind.SESSION_FINISHED: "finished",
    AlertKind.SESSION_STARTED: "started",
}


@dataclass(frozen=True, slots=True)
class SessionAlertConfig:
    """What the user wants to hear about (the ``sessions.notify_*`` settings, alerts' master
    switch, quiet hours and pause)."""

    enabled: bool = True
    needs_you: bool = True
    finished: bool = True
    finished_min_seconds: float = 60.0
    failed: bool = True
    new_session: bool = False
    quiet_hours: tuple[time, time] | None = None
    paused_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class SessionNotice:
    """One event worth a notification, before coalescing."""

    key: str
    kind: AlertKind
    session_id: str
    project: str
    at: datetime
    message: str | None = None
    project_dir: str | None = None


@dataclass(frozen=True, slots=True)
class SessionAlertMemory:
    """Keys already decided (sent or held), the notices gathering and when they are due."""

    decided: dict[str, datetime] = field(default_factory=dict)
    pending: tuple[SessionNotice, ...] = ()
    due_at: datetime | None = None
    gather_from: datetime | None = None  # when the first pending notice arrived
    cooldown_until: datetime | None = None


def first_line(text: str | None, limit: int = MAX_BODY_LINE) -> str | None:
    """The first non-blank line of ``text``, cut to ``limit`` characters (None when blank)."""
    for line in (text or "").splitlines():
        line = " ".join(line.split())
        if line:
            return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"
    return None


def project_of(session: Session | None, track: HookTrack | None, event: HookEvent) -> tuple[str, str | None]:
    """(short project name, folder) from the best source that knows it."""
    if session is not None and session.project and session.project != "?":
        return session.name or session.project, session.project_dir
    folder = event.cwd or (track.cwd if track is not None else None)
    if folder:
        name = PurePath(folder.replace("\\", "/")).name or folder
        return name, folder
    return f"session {event.session_id[:8]}", None


def notice_for(
    event: HookEvent,
    previous: HookTrack | None,
    track: HookTrack,
    session: Session | None,
    config: SessionAlertConfig,
) -> SessionNotice | None:
    """The notice ``event`` deserves by itself (holds, repeats and coalescing are :func:`decide`'s)."""
    name = event.event
    sid = event.session_id
    at = event.received_at
    kind: AlertKind | None = None
    key = f"session:{sid}:{name.value}:{at.isoformat()}"
    message = first_line(event.message)
    if name in (HookEventName.NOTIFICATION, HookEventName.PERMISSION_REQUEST):
        if not config.needs_you or event.notification_type == "idle_prompt":
            return None
        was_waiting = previous is not None and previous.state is SessionState.NEEDS_YOU
        another_prompt = (
            was_waiting
            and previous is not None
            and name is HookEventName.PERMISSION_REQUEST
            and previous.last_event is HookEventName.PERMISSION_REQUEST
        )
        if was_waiting and not another_prompt:
            return None
        kind = AlertKind.SESSION_NEEDS_YOU
        if message is None and event.tool_name:
            message = f"Permission for {event.tool_name}"
    elif name is HookEventName.STOP:
        started = previous.turn_started_at if previous is not None else None
        if not config.finished or started is None:
            return None
        took = at - started
        if took.total_seconds() < config.finished_min_seconds:
            return None
        kind = AlertKind.SESSION_FINISHED
        key = f"session:{sid}:finished:{started.isoformat()}"
        message = message or f"The turn took {format_duration(took)}."
    elif name is HookEventName.STOP_FAILURE:
        if not config.failed:
            return None
        kind = AlertKind.SESSION_FAILED
    elif name is HookEventName.SESSION_START:
        if not config.new_session or event.source not in (None, "startup"):
            return None
        kind = AlertKind.SESSION_STARTED
    else:
        return None
    project, folder = project_of(session, track, event)
    return SessionNotice(key, kind, sid, project, at, message, folder)


def held(config: SessionAlertConfig, now: datetime, tz: tzinfo | None = None) -> bool:
    """Whether notices are held now (alerts off, paused, or quiet hours)."""
    paused = config.paused_until is not None and now < config.paused_until
    return not config.enabled or paused or in_quiet_hours(now, config.quiet_hours, tz)


def decide(
    event: HookEvent,
    previous: HookTrack | None,
    track: HookTrack,
    session: Session | None,
    config: SessionAlertConfig,
    memory: SessionAlertMemory,
    now: datetime,
    tz: tzinfo | None = None,
    *,
    announced_elsewhere: bool = False,
) -> SessionAlertMemory:
    """Fold ``event`` into the memory: a new notice joins the gathering ones (see :func:`flush`).

    ``announced_elsewhere``: the session is an agent Claude Watch runs, whose start, end and failure
    the agents' own notices announce; only its "needs you" is said here (they have none)."""
    decided = {k: v for k, v in memory.decided.items() if now - v < FORGET_AFTER}
    notice = notice_for(event, previous, track, session, config)
    if notice is None or notice.key in decided:
        return replace(memory, decided=decided)
    decided[notice.key] = now
    if held(config, now, tz) or (announced_elsewhere and notice.kind is not AlertKind.SESSION_NEEDS_YOU):
        return replace(memory, decided=decided)
    if not memory.pending or memory.due_at is None or memory.gather_from is None:
        start, due = now, now + GATHER
        if memory.cooldown_until is not None and memory.cooldown_until > due:
            due = memory.cooldown_until
    else:
        start = memory.gather_from
        due = max(memory.due_at, min(now + GATHER, start + MAX_GATHER))
    return replace(memory, decided=decided, pending=(*memory.pending, notice), due_at=due, gather_from=start)


def flush(memory: SessionAlertMemory, now: datetime) -> tuple[Alert | None, SessionAlertMemory]:
    """The one alert for the notices due by ``now`` (None when nothing is due yet)."""
    if not memory.pending or memory.due_at is None or now < memory.due_at:
        return None, memory
    alert = batch_alert(memory.pending, now)
    return alert, replace(memory, pending=(), due_at=None, gather_from=None, cooldown_until=now + COOLDOWN)


def _names(notices: list[SessionNotice]) -> str:
    names = list(dict.fromkeys(n.project for n in notices))
    shown = ", ".join(names[:MAX_NAMES])
    return shown + (f" +{len(names) - MAX_NAMES}" if len(names) > MAX_NAMES else "")


def batch_alert(notices: tuple[SessionNotice, ...], now: datetime) -> Alert:
    """One alert for a gathered batch: the single notice's words, or a summary of them all."""
    kind = min((n.kind for n in notices), key=URGENCY.index)
    first = notices[0]
    extra = {"session_id": first.session_id}
    if first.project_dir:
        extra["project_dir"] = first.project_dir
    if len(notices) == 1:
        title = f"{_ONE[kind]} · {first.project}"
        body = first.message or ""
        key = first.key
    else:
        same = [n for n in notices if n.kind is kind]
        if len(same) == len(notices):
            title = f"{len(notices)} {_MANY[kind]}: {_names(same)}"
        else:
            counts = [(k, sum(1 for n in notices if n.kind is k)) for k in URGENCY]
            title = "Claude: " + ", ".join(f"{c} {_VERB[k]}" for k, c in counts if c)
        lines = [f"{n.project} {_VERB[n.kind]}" + (f": {n.message}" if n.message else "") for n in notices]
        body = "\n".join(lines[:8]) + (f"\n… and {len(lines) - 8} more" if len(lines) > 8 else "")
        key = f"{first.key}+{len(notices) - 1}"
        extra["sessions"] = str(len(notices))
    return Alert(
        key=key,
        kind=kind,
        window_id=WINDOW_ID,
        window_label=first.project if len(notices) == 1 else "Claude Code sessions",
        utilization=0.0,
        level=Level.OK,
        created_at=now,
        title=title,
        body=body,
        extra=extra,
    )
