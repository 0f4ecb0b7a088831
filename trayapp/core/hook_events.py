"""Parse one Claude Code hook event body (untrusted input) into a :class:`HookEvent`.

Claude Code POSTs each hook event's JSON to the app's receiver (``services/hook_receiver``). The
body comes from any process that knows the token, so it is parsed strictly and never evaluated:
a size cap, a JSON object with no ``NaN``, a known ``hook_event_name`` and a sane ``session_id``
are required (else :class:`HookEventError` with a short reason); every other field is read on its
own and is None when absent or of the wrong type. Texts lose control characters and are trimmed:
they end up in notifications and the popup. Pure: no I/O, no clock (``received_at`` is given).
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from trayapp.core.sessions import HookEvent, HookEventName

MAX_BODY = 256 * 1024
MAX_SESSION_ID = 128
MAX_MESSAGE = 300
MAX_FIELD = 256  # short identifiers
MAX_PATH = 4096

_EVENTS = {e.value: e for e in HookEventName}
# C0/C1 controls, DEL, and the Unicode line/paragraph separators and bidi overrides that can
# disguise a line in a notification.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_SPACES = re.compile(r"\s+")
# The argument that tells most about a tool call, in order of preference.
_TOOL_KEYS = ("command", "file_path", "notebook_path", "path", "url", "pattern", "query", "description")


class HookEventError(ValueError):
    """A hook body that is not a usable event. ``reason`` is a short code, counted by the receiver."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def clean(value: object, limit: int, *, first_line: bool = False) -> str | None:
    """A display-safe text: str only, control characters dropped, spaces folded, trimmed."""
    if not isinstance(value, str):
        return None
    if first_line:
        for line in value.splitlines():
            if line.strip():
                value = line
                break
    text = _SPACES.sub(" ", _CONTROL.sub(" ", value)).strip()
    if not text:
        return None
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _text(data: dict[str, Any], key: str, limit: int = MAX_FIELD) -> str | None:
    return clean(data.get(key), limit)


def _path(data: dict[str, Any], key: str) -> str | None:
    """A path kept exactly (spaces matter), or None when it is not a plain, sane text."""
    value = data.get(key)
    if not isinstance(value, str) or not 0 < len(value) <= MAX_PATH or _CONTROL.search(value):
        return None
    return value


def _tool_summary(tool_name: str | None, tool_input: object) -> str | None:
    """``Bash: git push`` / ``Edit: src/app.py``: the tool and its most telling argument."""
    detail: str | None = None
    if isinstance(tool_input, dict):
        for key in (
            "command",
            "file_path",
            "notebook_path",
            "path",
            "url",
            "pattern",
            "query",
            "description",
        ):
            detail = clean(tool_input.get(key), MAX_MESSAGE, first_line=True)
            if detail:
                break
    if tool_name and detail:
        return clean(f"{tool_name}: {detail}", MAX_MESSAGE)
    return tool_name or detail


def _failure_text(data: dict[str, Any]) -> str | None:
    """StopFailure: ``error`` (a code or an object with a message) and ``error_details``."""
    error = data.get("error")
    if isinstance(error, dict):
        error = error.get("message") or error.get("type")
    parts = [
        clean(error, MAX_MESSAGE, first_line=True) or clean(data.get("error_type"), MAX_MESSAGE),
        clean(data.get("error_details"), MAX_MESSAGE, first_line=True),
    ]
    joined = ": ".join(p for p in parts if p)
    return clean(joined, MAX_MESSAGE) if joined else None


def _message(event: HookEventName, data: dict[str, Any], tool_name: str | None) -> str | None:
    if event is HookEventName.NOTIFICATION:
        return clean(data.get("message"), MAX_MESSAGE, first_line=True)
    if event is HookEventName.PERMISSION_REQUEST:
        return _tool_summary(tool_name, data.get("tool_input"))
    if event is HookEventName.USER_PROMPT_SUBMIT:
        return clean(data.get("prompt"), MAX_MESSAGE, first_line=True)
    if event is HookEventName.STOP_FAILURE:
        return _failure_text(data)
    return None


def parse_hook(body: bytes, received_at: datetime) -> HookEvent:
    """One hook POST body -> :class:`HookEvent`.

    Raises:
        HookEventError: ``too_large``, ``not_utf8``, ``not_json``, ``not_object``,
            ``unknown_event`` or ``bad_session_id``.
    """
    if len(body) > MAX_BODY:
        raise HookEventError("too_large", f"{len(body)} bytes")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise HookEventError("not_utf8") from None
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise HookEventError("not_json", str(exc)[:80]) from None
    if not isinstance(data, dict):
        raise HookEventError("not_object")
    name = data.get("hook_event_name")
    event = _EVENTS.get(name) if isinstance(name, str) else None
    if event is None:
        shown = clean(name, 40) if isinstance(name, str) else type(name).__name__
        raise HookEventError("unknown_event", shown or "")
    session_id = data.get("session_id")
    if (
        not isinstance(session_id, str)
        or not 0 < len(session_id) <= MAX_SESSION_ID
        or not session_id.isprintable()
        or session_id.strip() != session_id
    ):
        raise HookEventError("bad_session_id")
    tool_name = _text(data, "tool_name", 128)
    if event is HookEventName.SESSION_START:
        source = _text(data, "source", 64)
    elif event is HookEventName.SESSION_END:
        source = _text(data, "reason", 64)
    else:
        source = None
    return HookEvent(
        event=event,
        session_id=session_id,
        received_at=received_at,
        cwd=_path(data, "cwd"),
        transcript_path=_path(data, "transcript_path"),
        message=_message(event, data, tool_name),
        notification_type=_text(data, "notification_type", 64),
        tool_name=tool_name,
        source=source,
        agent_id=_text(data, "agent_id", 128),
        permission_mode=_text(data, "permission_mode", 64),
    )
