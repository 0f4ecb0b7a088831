"""A strict, fast line parser for ``claude -p --output-format stream-json --verbose``.

Each output line is one JSON object with a ``type``. The window scheduler reads ``rate_limit_event``
(did the run open a 5-hour window?) and ``result``; the agents issue reads every event. The child's
output is untrusted: a line over :data:`MAX_LINE` characters, one that is not a JSON object, or one
whose known fields have the wrong types comes back as a :class:`ParseError` value (the caller logs
it and goes on); a ``type`` this module does not know comes back as :class:`Unknown` (callers ignore
it). Nothing here raises on bad input.

Field names as Claude Code writes them (observed 2.1.x; the research note's §(b)): ``system``
(subtype ``init``: ``session_id``, ``model``, ``cwd``, ``tools``), ``assistant`` and ``user``
(``message.content`` blocks: ``text``, ``tool_use``, ``tool_result``; ``message.usage``),
``result`` (``subtype``, ``is_error``, ``result``, ``usage``, ``total_cost_usd``, ``duration_ms``,
``num_turns``, ``session_id``) and ``rate_limit_event`` (``rate_limit_info``: ``status`` of
``allowed``/``allowed_warning``/``rejected``, ``resetsAt`` in epoch seconds, ``rateLimitType``
such as ``five_hour``/``seven_day``, ``overageStatus``, ``overageResetsAt``, ``isUsingOverage``;
``utilization`` only sometimes, as a fraction, also under ``unifiedWindows.<type>``).

Speed matters (an agent run can print tens of thousands of lines, and 20 agents stream at once):
one untyped msgspec decode (about twice as fast as ``json.loads``; stricter too: ``NaN`` and
numbers beyond a double are refused) and plain dict lookups per line. msgspec is imported with the
first line, not with this module (an idle app never loads it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from trayapp.core.models import reset_is_plausible

MAX_LINE = 4 * 1024 * 1024  # characters; a tool result can be large, a runaway line is refused
_SNIPPET = 80


@dataclass(frozen=True, slots=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0


@dataclass(frozen=True, slots=True)
class SystemEvent:
    """``system``; ``subtype == "init"`` carries the session, the model, the folder and the tools."""

    subtype: str
    session_id: str | None = None
    model: str | None = None
    cwd: str | None = None
    tools: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TextBlock:
    text: str


@dataclass(frozen=True, slots=True)
class ToolUse:
    id: str
    name: str
    input: dict[str, Any]


@dataclass(frozen=True, slots=True)
class AssistantEvent:
    session_id: str | None
    model: str | None
    blocks: tuple[TextBlock | ToolUse, ...]
    usage: Usage | None

    @property
    def text(self) -> str:
        return "".join(b.text for b in self.blocks if isinstance(b, TextBlock))


@dataclass(frozen=True, slots=True)
class ToolResult:
    tool_use_id: str
    content: str  # text parts joined; other parts left out
    is_error: bool = False


@dataclass(frozen=True, slots=True)
class UserEvent:
    session_id: str | None
    results: tuple[ToolResult, ...]


@dataclass(frozen=True, slots=True)
class ResultEvent:
    subtype: str  # success | error_max_turns | error_during_execution | ...
    is_error: bool
    session_id: str | None = None
    result: str | None = None
    usage: Usage | None = None
    total_cost_usd: float | None = None
    duration_ms: int | None = None
    num_turns: int | None = None


@dataclass(frozen=True, slots=True)
class RateLimitEvent:
    status: str  # allowed | allowed_warning | rejected | ... (kept as written)
    rate_limit_type: str | None  # five_hour | seven_day | ...
    resets_at: datetime | None  # aware UTC
    overage_status: str | None = None
    overage_resets_at: datetime | None = None
    is_using_overage: bool | None = None
    utilization: float | None = None  # percent 0-100, only when the event carries it
    session_id: str | None = None

    @property
    def allowed(self) -> bool:
        return self.status in ("allowed", "allowed_warning")


@dataclass(frozen=True, slots=True)
class Unknown:
    """A ``type`` this parser does not know (``stream_event``, ``control_request``, ...)."""

    type: str


@dataclass(frozen=True, slots=True)
class ParseError:
    """A line that could not be read; ``snippet`` is its start, for one log line."""

    reason: str
    snippet: str = ""


Event = SystemEvent | AssistantEvent | UserEvent | ResultEvent | RateLimitEvent | Unknown | ParseError


class _Bad(Exception):
    """A known field with the wrong type (turned into a ParseError)."""


def _str(obj: dict[str, Any], key: str) -> str | None:
    value = obj.get(key)
    if value is None or type(value) is str:
        return value
    raise _Bad(f"{key} is not a string")


def _int(obj: dict[str, Any], key: str) -> int | None:
    value = obj.get(key)
    if value is None:
        return None
    if type(value) is int:
        return value
    if type(value) is float and value.is_integer():
        return int(value)
    raise _Bad(f"{key} is not a whole number")


def _num(obj: dict[str, Any], key: str) -> float | None:
    value = obj.get(key)
    if value is None:
        return None
    if type(value) in (int, float):
        return float(value)
    raise _Bad(f"{key} is not a number")


def _bool(obj: dict[str, Any], key: str) -> bool | None:
    value = obj.get(key)
    if value is None or type(value) is bool:
        return value
    raise _Bad(f"{key} is not true/false")


def _dict(obj: dict[str, Any], key: str) -> dict[str, Any] | None:
    value = obj.get(key)
    if value is None or type(value) is dict:
        return value
    raise _Bad(f"{key} is not an object")


def _epoch(obj: dict[str, Any], key: str) -> datetime | None:
    value = _num(obj, key)
    if value is None:
        return None
    if value > 1e11:  # milliseconds
        value /= 1000
    try:
        when = datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        raise _Bad(f"{key} is not a time") from None
    if not reset_is_plausible(when):
        raise _Bad(f"{key} is not a believable time")
    return when


def _usage(obj: dict[str, Any]) -> Usage | None:
    raw = _dict(obj, "usage")
    if raw is None:
        return None
    return Usage(
        _int(raw, "input_tokens") or 0,
        _int(raw, "output_tokens") or 0,
        _int(raw, "cache_creation_input_tokens") or 0,
        _int(raw, "cache_read_input_tokens") or 0,
    )


def _content(message: dict[str, Any]) -> list[Any]:
    content = message.get("content")
    if content is None or type(content) is str:
        return []  # a plain-text user prompt: nothing for us
    if type(content) is not list:
        raise _Bad("message.content is not a list")
    return content


def _system(obj: dict[str, Any]) -> SystemEvent:
    tools = obj.get("tools")
    if tools is not None and (type(tools) is not list or any(type(t) is not str for t in tools)):
        raise _Bad("tools is not a list of names")
    return SystemEvent(
        _str(obj, "subtype") or "",
        _str(obj, "session_id"),
        _str(obj, "model"),
        _str(obj, "cwd"),
        tuple(tools or ()),
    )


def _assistant(obj: dict[str, Any]) -> AssistantEvent:
    message = _dict(obj, "message") or {}
    blocks: list[TextBlock | ToolUse] = []
    for block in _content(message):
        if type(block) is not dict:
            raise _Bad("a content block is not an object")
        kind = block.get("type")
        if kind == "text":
            blocks.append(TextBlock(_str(block, "text") or ""))
        elif kind == "tool_use":
            blocks.append(
                ToolUse(_str(block, "id") or "", _str(block, "name") or "", _dict(block, "input") or {})
            )
        # thinking and other blocks: not ours
    return AssistantEvent(_str(obj, "session_id"), _str(message, "model"), tuple(blocks), _usage(message))


def _result_text(content: Any) -> str:
    if type(content) is str:
        return content
    if type(content) is list:
        return "".join(p["text"] for p in content if type(p) is dict and type(p.get("text")) is str)
    return ""


def _user(obj: dict[str, Any]) -> UserEvent:
    message = _dict(obj, "message") or {}
    results = []
    for block in _content(message):
        if type(block) is dict and block.get("type") == "tool_result":
            results.append(
                ToolResult(
                    _str(block, "tool_use_id") or "",
                    _result_text(block.get("content")),
                    bool(_bool(block, "is_error")),
                )
            )
    return UserEvent(_str(obj, "session_id"), tuple(results))


def _result(obj: dict[str, Any]) -> ResultEvent:
    return ResultEvent(
        _str(obj, "subtype") or "",
        bool(_bool(obj, "is_error")),
        _str(obj, "session_id"),
        _str(obj, "result"),
        _usage(obj),
        _num(obj, "total_cost_usd"),
        _int(obj, "duration_ms"),
        _int(obj, "num_turns"),
    )


def _rate_limit(obj: dict[str, Any]) -> RateLimitEvent:
    info = _dict(obj, "rate_limit_info")
    if info is None:
        info = obj  # older or flattened shape: the fields at the top level
    status = _str(info, "status")
    if not status:
        raise _Bad("rate_limit_event without a status")
    kind = _str(info, "rateLimitType")
    utilization = _num(info, "utilization")
    windows = _dict(info, "unifiedWindows")
    if utilization is None and windows is not None and kind is not None:
        entry = windows.get(kind)
        if type(entry) is dict:
            utilization = _num(entry, "utilization")
    if utilization is not None:
        # A fraction (0.22) as observed; a percent above 1.0 is taken as it is.
        utilization = utilization * 100 if utilization <= 1.0 else utilization
        if not 0 <= utilization <= 1000:
            raise _Bad("utilization out of range")
    return RateLimitEvent(
        status,
        kind,
        _epoch(info, "resetsAt"),
        _str(info, "overageStatus"),
        _epoch(info, "overageResetsAt"),
        _bool(info, "isUsingOverage"),
        utilization,
        _str(obj, "session_id"),
    )


_PARSERS: dict[str, Callable[[dict[str, Any]], Event]] = {
    "system": _system,
    "assistant": _assistant,
    "user": _user,
    "result": _result,
    "rate_limit_event": _rate_limit,
}


def parse_line(line: str | bytes) -> Event | None:
    """One output line -> one event; a blank line -> None. Never raises."""
    if len(line) > MAX_LINE:
        return ParseError(f"line longer than {MAX_LINE} characters", _snip(line))
    decode, malformed = _decoder()
    try:
        obj = decode(line)
    except malformed:  # msgspec's DecodeError (ValidationError: a number out of range), bad UTF-8
        if not line.strip():
            return None
        return ParseError("not JSON", _snip(line))
    except RecursionError:
        return ParseError("nested too deeply", _snip(line))
    if type(obj) is not dict:
        return ParseError("not a JSON object", _snip(line))
    kind = obj.get("type")
    if type(kind) is not str:
        return ParseError("no type", _snip(line))
    parser = _PARSERS.get(kind)
    if parser is None:
        return Unknown(kind)
    try:
        return parser(obj)
    except _Bad as exc:
        return ParseError(f"{kind}: {exc}", _snip(line))


_DECODER: tuple[Callable[[str | bytes], Any], tuple[type[Exception], ...]] | None = None


def _decoder() -> tuple[Callable[[str | bytes], Any], tuple[type[Exception], ...]]:
    """msgspec's JSON decoder and what it raises on bad input; imported at the first line."""
    global _DECODER
    if _DECODER is None:
        import msgspec

        _DECODER = (msgspec.json.Decoder().decode, (msgspec.DecodeError, ValueError))
    return _DECODER


def parse_lines(lines: Iterable[str | bytes]) -> Iterator[Event]:
    """:func:`parse_line` over many lines, blank ones dropped."""
    for line in lines:
        event = parse_line(line)
        if event is not None:
            yield event


def _snip(line: str | bytes) -> str:
    head = line[:_SNIPPET]
    text = head.decode("utf-8", "replace") if isinstance(head, bytes) else head
    return text.replace("\n", " ").strip()
