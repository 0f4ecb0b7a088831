"""The stream-json line parser: every event type as Claude Code writes it, garbage, wrong types,
a huge line, unknown types."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from trayapp.core.stream_json import (
    MAX_LINE,
    AssistantEvent,
    ParseError,
    RateLimitEvent,
    ResultEvent,
    SystemEvent,
    TextBlock,
    ToolUse,
    Unknown,
    Usage,
    UserEvent,
    parse_line,
    parse_lines,
)

FIXTURE = Path(__file__).parents[2] / "fixtures" / "stream_json" / "haiku_ping.jsonl"
SESSION = "8129eebb-0f2f-4067-af9c-d189154b6617"


def line(**obj: object) -> str:
    return json.dumps(obj)


def test_a_real_ping_stream() -> None:
    events = list(parse_lines(FIXTURE.read_text().splitlines()))
    assert [type(e) for e in events] == [SystemEvent, AssistantEvent, RateLimitEvent, ResultEvent]
    init, assistant, limit, result = events
    assert init == SystemEvent(
        "init", SESSION, "claude-haiku-4-5-20251001", "/tmp/claude-watch-start-x1", ("Bash", "Read", "Edit")
    )
    assert isinstance(assistant, AssistantEvent)
    assert assistant.text == "Hello!"
    assert assistant.usage == Usage(3, 1, 9988, 0)
    assert limit == RateLimitEvent(
        status="allowed",
        rate_limit_type="five_hour",
        resets_at=datetime.fromtimestamp(1788513600, UTC),
        overage_status="rejected",
        overage_resets_at=None,
        is_using_overage=False,
        utilization=75.0,
        session_id=SESSION,
    )
    assert isinstance(limit, RateLimitEvent)
    assert limit.allowed
    assert result == ResultEvent("success", False, SESSION, "Hello!", Usage(3, 5, 9988, 0), 0.0125, 2303, 1)


def test_rate_limit_without_utilization_and_other_statuses() -> None:
    ev = parse_line(
        line(type="rate_limit_event", rate_limit_info={"status": "rejected", "rateLimitType": "seven_day"})
    )
    assert isinstance(ev, RateLimitEvent)
    assert ev.utilization is None
    assert ev.resets_at is None
    assert not ev.allowed
    warn = parse_line(
        line(type="rate_limit_event", rate_limit_info={"status": "allowed_warning", "utilization": 0.9})
    )
    assert isinstance(warn, RateLimitEvent)
    assert warn.allowed
    assert warn.utilization == pytest.approx(90.0)
    flat = parse_line(
        line(type="rate_limit_event", status="allowed", resetsAt=1788513600000, rateLimitType="five_hour")
    )
    assert isinstance(flat, RateLimitEvent)
    assert flat.resets_at == datetime.fromtimestamp(1788513600, UTC)  # milliseconds understood


def test_tool_use_and_tool_result() -> None:
    ev = parse_line(
        line(
            type="assistant",
            session_id="s",
            message={
                "content": [
                    {"type": "thinking", "thinking": "hmm"},
                    {"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"command": "ls"}},
                    {"type": "text", "text": "done"},
                ]
            },
        )
    )
    assert ev == AssistantEvent(
        "s", None, (ToolUse("toolu_1", "Bash", {"command": "ls"}), TextBlock("done")), None
    )
    user = parse_line(
        line(
            type="user",
            message={
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "toolu_1",
                        "content": [{"type": "text", "text": "a\nb"}],
                    },
                    {"type": "tool_result", "tool_use_id": "toolu_2", "content": "boom", "is_error": True},
                ],
            },
        )
    )
    assert isinstance(user, UserEvent)
    assert [(r.tool_use_id, r.content, r.is_error) for r in user.results] == [
        ("toolu_1", "a\nb", False),
        ("toolu_2", "boom", True),
    ]
    assert parse_line(line(type="user", message={"content": "a plain prompt"})) == UserEvent(None, ())


def test_error_result() -> None:
    ev = parse_line(line(type="result", subtype="error_during_execution", is_error=True, num_turns=0))
    assert ev == ResultEvent("error_during_execution", True, num_turns=0)


def test_unknown_types_are_unknown() -> None:
    assert parse_line(line(type="stream_event", event={})) == Unknown("stream_event")
    assert parse_line(line(type="control_request")) == Unknown("control_request")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("not json at all", "not JSON"),
        ('{"type": "result"', "not JSON"),
        ("[1, 2]", "not a JSON object"),
        ('"text"', "not a JSON object"),
        ('{"subtype": "init"}', "no type"),
        ('{"type": 5}', "no type"),
        ('{"type": "result", "is_error": "no"}', "result: is_error is not true/false"),
        ('{"type": "result", "total_cost_usd": "1"}', "result: total_cost_usd is not a number"),
        ('{"type": "result", "num_turns": 1.5}', "result: num_turns is not a whole number"),
        ('{"type": "system", "subtype": "init", "tools": "Bash"}', "system: tools is not a list of names"),
        (
            '{"type": "assistant", "message": {"content": {"a": 1}}}',
            "assistant: message.content is not a list",
        ),
        ('{"type": "assistant", "message": {"content": [1]}}', "assistant: a content block is not an object"),
        ('{"type": "assistant", "message": []}', "assistant: message is not an object"),
        (
            '{"type": "rate_limit_event", "rate_limit_info": {}}',
            "rate_limit_event: rate_limit_event without a status",
        ),
        (
            '{"type": "rate_limit_event", "rate_limit_info": {"status": "allowed", "resetsAt": 1e300}}',
            "rate_limit_event: resetsAt is not a time",
        ),
        (
            '{"type": "rate_limit_event", "rate_limit_info": {"status": "allowed", "resetsAt": -5}}',
            "rate_limit_event: resetsAt is not a believable time",
        ),
        (
            '{"type": "rate_limit_event", "rate_limit_info": {"status": "allowed", "utilization": -3}}',
            "rate_limit_event: utilization out of range",
        ),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        # Not JSON, though Python's json module reads them (a cost of NaN or infinity):
        ('{"type": "result", "total_cost_usd": NaN}', "not JSON"),
        ('{"type": "result", "total_cost_usd": Infinity}', "not JSON"),
        ('{"type": "result", "total_cost_usd": 1e400}', "not JSON"),
    ],
)
def test_garbage_is_a_parse_error(raw: str, reason: str) -> None:
    ev = parse_line(raw)
    assert isinstance(ev, ParseError)
    assert ev.reason == reason
    assert len(ev.snippet) <= 80


def test_huge_line_is_refused_without_parsing() -> None:
    huge = '{"type": "result", "result": "' + "x" * MAX_LINE + '"}'
    ev = parse_line(huge)
    assert isinstance(ev, ParseError)
    assert ev.reason.startswith("line longer than")
    under = huge[: MAX_LINE - 2] + '"}'  # exactly at the cap: read
    assert len(under) == MAX_LINE
    assert isinstance(parse_line(under), ResultEvent)


def test_bytes_blank_and_bad_utf8() -> None:
    assert parse_line(b'{"type": "system", "subtype": "hook"}') == SystemEvent("hook")
    assert parse_line("") is None
    assert parse_line("  \n") is None
    bad = parse_line(b'{"type": "\xff"}')
    assert isinstance(bad, ParseError)
    assert list(parse_lines(["", '{"type": "x"}', "oops"])) == [Unknown("x"), ParseError("not JSON", "oops")]
