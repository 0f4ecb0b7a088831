"""Hook event bodies: strict parsing of what Claude Code POSTs (and of what a stranger might)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from trayapp.core.hook_events import MAX_BODY, HookEventError, clean, parse_hook
from trayapp.core.sessions import HookEventName

AT = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
SID = "0f8e2c1a-7b3d-4c5e-9a61-2d4b8e6f1a01"


def body(**fields: Any) -> bytes:
    base: dict[str, Any] = {
        "session_id": SID,
        "transcript_path": "/home/u/.claude/projects/-home-u-my  proj/x.jsonl",
        "cwd": "/home/u/my  proj",
        "permission_mode": "default",
    }
    base.update(fields)
    return json.dumps(base).encode()


def reason(raw: bytes) -> str:
    with pytest.raises(HookEventError) as caught:
        parse_hook(raw, AT)
    return caught.value.reason


def test_notification_keeps_the_common_fields_and_its_message() -> None:
    event = parse_hook(
        body(
            hook_event_name="Notification",
            message="Claude needs your permission to use Bash",
            notification_type="permission_prompt",
        ),
        AT,
    )
    assert event.event is HookEventName.NOTIFICATION
    assert event.session_id == SID
    assert event.received_at == AT
    assert event.cwd == "/home/u/my  proj"  # paths are kept exactly
    assert event.transcript_path is not None
    assert event.message == "Claude needs your permission to use Bash"
    assert event.notification_type == "permission_prompt"
    assert event.permission_mode == "default"


@pytest.mark.parametrize(
    ("tool", "tool_input", "expected"),
    [
        ("Bash", {"command": "git push --force\nrm -rf x", "description": "push"}, "Bash: git push --force"),
        ("Edit", {"file_path": "/src/app.py", "old_string": "a"}, "Edit: /src/app.py"),
        ("mcp__x__y", {"other": 1}, "mcp__x__y"),
        ("Bash", "not an object", "Bash"),
    ],
)
def test_permission_request_message_is_the_tool_and_its_telling_argument(
    tool: str, tool_input: object, expected: str
) -> None:
    event = parse_hook(body(hook_event_name="PermissionRequest", tool_name=tool, tool_input=tool_input), AT)
    assert event.tool_name == tool
    assert event.message == expected


def test_prompt_first_non_blank_line_only_and_trimmed() -> None:
    prompt = "\n\n  Fix the   login bug\x1b[31m please \nsecond line"
    event = parse_hook(body(hook_event_name="UserPromptSubmit", prompt=prompt), AT)
    assert event.message == "Fix the login bug [31m please"
    long = parse_hook(body(hook_event_name="UserPromptSubmit", prompt="x" * 5000), AT)
    assert long.message is not None
    assert len(long.message) == 300
    assert long.message.endswith("…")


def test_stop_failure_message_is_the_error() -> None:
    event = parse_hook(
        body(hook_event_name="StopFailure", error="rate_limit", error_details="429 Too Many Requests"), AT
    )
    assert event.message == "rate_limit: 429 Too Many Requests"
    nested = parse_hook(body(hook_event_name="StopFailure", error={"message": "overloaded"}), AT)
    assert nested.message == "overloaded"


def test_session_start_and_end_source_and_subagents() -> None:
    assert parse_hook(body(hook_event_name="SessionStart", source="resume"), AT).source == "resume"
    assert parse_hook(body(hook_event_name="SessionEnd", reason="logout"), AT).source == "logout"
    sub = parse_hook(body(hook_event_name="SubagentStop", agent_id="a1", agent_type="Explore"), AT)
    assert sub.agent_id == "a1"
    assert sub.message is None
    assert parse_hook(body(hook_event_name="Stop", message="not for Stop"), AT).message is None


def test_each_field_on_its_own_wrong_types_become_none() -> None:
    event = parse_hook(
        body(
            hook_event_name="Notification",
            message=["a"],
            cwd=42,
            transcript_path="/a\x00b",
            notification_type={"x": 1},
            permission_mode=None,
            unknown_field={"deep": [1, 2, 3]},
        ),
        AT,
    )
    assert event.message is None
    assert event.cwd is None
    assert event.transcript_path is None
    assert event.notification_type is None
    assert event.permission_mode is None


def test_every_subscribed_event_name_parses() -> None:
    for name in HookEventName:
        assert parse_hook(body(hook_event_name=name.value), AT).event is name


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"x" * (MAX_BODY + 1), "too_large"),
        (b"\xff\xfe{}", "not_utf8"),
        (b"{not json", "not_json"),
        (b'{"hook_event_name": "Stop", "session_id": "s", "n": NaN}', "not_json"),
        (b"[" * 150_000 + b"]" * 150_000, "too_large"),
        (b"[" * 50_000 + b"]" * 50_000, "not_json"),  # nesting too deep for the parser
        (b'["Stop"]', "not_object"),
        (body(hook_event_name="PreToolUse"), "unknown_event"),
        (body(hook_event_name=None), "unknown_event"),
        (body(hook_event_name="Stop", session_id=""), "bad_session_id"),
        (body(hook_event_name="Stop", session_id="x" * 129), "bad_session_id"),
        (body(hook_event_name="Stop", session_id="a\nb"), "bad_session_id"),
        (body(hook_event_name="Stop", session_id=123), "bad_session_id"),
    ],
)
def test_bad_bodies_are_refused_with_a_reason(raw: bytes, expected: str) -> None:
    assert reason(raw) == expected


def test_clean_drops_bidi_overrides_and_folds_space() -> None:
    assert clean("safe\u202eexe.txt\u2028next", 50) == "safe exe.txt next"
    assert clean("   ", 10) is None
    assert clean(5, 10) is None
