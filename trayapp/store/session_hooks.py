"""``state/session-hooks.json``: what the running app's hook receiver has seen, for the CLI and doctor.

The tray app keeps every session's hook track in memory (``services/sessions_service``) and writes
this small file a moment after they change: the latest tracks (at most :data:`MAX_TRACKS`), how many
events arrived since the app started and the last one. ``claude-watch sessions`` merges the tracks
(so it shows "needs you" like the popup does) and ``doctor`` shows the last event. The file is
untrusted on the way back in: size-capped, every field parsed on its own, a bad track skipped, an
unreadable file the same as none.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from trayapp import paths
from trayapp.core.sessions import HookEventName, HookTrack, SessionState
from trayapp.store.files import atomic_write

FILE_NAME = "session-hooks.json"
SCHEMA = 1
MAX_TRACKS = 200
MAX_BYTES = 512 * 1024
MAX_TEXT = 4096


@dataclass(frozen=True, slots=True)
class LastEvent:
    """The newest hook event the app received (no message text: it may hold a prompt)."""

    event: str
    session_id: str
    received_at: datetime
    cwd: str | None = None


@dataclass(frozen=True, slots=True)
class HookState:
    """The file's contents."""

    written_at: datetime
    pid: int | None
    events_seen: int
    last_event: LastEvent | None
    tracks: tuple[HookTrack, ...]


def default_path() -> Path:
    return paths.state_dir() / FILE_NAME


def iso_or_none(value: datetime | None) -> str | None:
    """ISO 8601 text of an optional time (also the CLI's JSON spelling)."""
    return value.isoformat() if value is not None else None


def track_to_json(t: HookTrack) -> dict[str, Any]:
    return {
        "session_id": t.session_id,
        "state": t.state.value,
        "state_since": t.state_since.isoformat(),
        "last_event": t.last_event.value,
        "last_event_at": t.last_event_at.isoformat(),
        "cwd": t.cwd,
        "turn_started_at": iso_or_none(t.turn_started_at),
        "needs_you_reason": t.needs_you_reason,
        "subagents": t.subagents,
    }


def dumps(state: HookState) -> str:
    newest = sorted(state.tracks, key=lambda t: t.last_event_at, reverse=True)[:MAX_TRACKS]
    last = state.last_event
    doc = {
        "schema": SCHEMA,
        "written_at": state.written_at.isoformat(),
        "pid": state.pid,
        "events_seen": state.events_seen,
        "last_event": None
        if last is None
        else {
            "event": last.event,
            "session_id": last.session_id,
            "received_at": last.received_at.isoformat(),
            "cwd": last.cwd,
        },
        "tracks": [track_to_json(t) for t in newest],
    }
    return json.dumps(doc, indent=1)


def save(state: HookState, path: Path | None = None) -> None:
    atomic_write(path or default_path(), dumps(state) + "\n")


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= MAX_TEXT else None


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return when if when.tzinfo is not None else None


def track_from_json(raw: Any) -> HookTrack | None:
    """One track, or None when a required field is missing or malformed."""
    if not isinstance(raw, dict):
        return None
    sid, since, last_at = (
        _text(raw.get("session_id")),
        _when(raw.get("state_since")),
        _when(raw.get("last_event_at")),
    )
    try:
        state = SessionState(str(raw.get("state")))
        last = HookEventName(str(raw.get("last_event")))
    except ValueError:
        return None
    if sid is None or since is None or last_at is None:
        return None
    subagents = raw.get("subagents")
    return HookTrack(
        session_id=sid,
        state=state,
        state_since=since,
        last_event=last,
        last_event_at=last_at,
        cwd=_text(raw.get("cwd")),
        turn_started_at=_when(raw.get("turn_started_at")),
        needs_you_reason=_text(raw.get("needs_you_reason")),
        subagents=subagents
        if isinstance(subagents, int) and not isinstance(subagents, bool) and 0 <= subagents < 10_000
        else 0,
    )


def parse(raw: bytes) -> HookState | None:
    """The file's contents, or None when it is not a document of ours."""
    if len(raw) > MAX_BYTES:
        return None
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        return None
    written = _when(doc.get("written_at"))
    if written is None:
        return None
    pid, seen = doc.get("pid"), doc.get("events_seen")
    last: LastEvent | None = None
    raw_last = doc.get("last_event")
    if isinstance(raw_last, dict):
        event, sid, at = (
            _text(raw_last.get("event")),
            _text(raw_last.get("session_id")),
            _when(raw_last.get("received_at")),
        )
        if event is not None and sid is not None and at is not None:
            last = LastEvent(event[:64], sid[:128], at, _text(raw_last.get("cwd")))
    raw_tracks = doc.get("tracks")
    items: Iterable[Any] = raw_tracks[:MAX_TRACKS] if isinstance(raw_tracks, list) else ()
    tracks = tuple(t for t in (track_from_json(r) for r in items) if t is not None)
    return HookState(
        written_at=written,
        pid=pid if isinstance(pid, int) and not isinstance(pid, bool) and pid > 0 else None,
        events_seen=seen if isinstance(seen, int) and not isinstance(seen, bool) and seen >= 0 else 0,
        last_event=last,
        tracks=tracks,
    )


def load(path: Path | None = None) -> HookState | None:
    """The file written by the app, or None when absent or unreadable (never raises)."""
    try:
        with open(path or default_path(), "rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except OSError:
        return None
    return parse(raw)
