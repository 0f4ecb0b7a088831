"""Claude Code's telemetry out of decoded OTLP records (``sources/otlp_decode``).

- Log records whose ``event.name`` is ``api_request`` (or whose body is
  ``claude_code.api_request``) become :class:`~trayapp.core.telemetry.ApiRequest` values: model,
  the four token counts, ``cost_usd``, ``duration_ms``, ``prompt.id``, ``session.id``. Claude Code
  sends the numbers as strings; numbers are accepted too.
- Data points of ``claude_code.token.usage`` (attribute ``type``) and ``claude_code.cost.usage``
  become :class:`CounterPoint` values, keeping their start time and temporality: the fold
  (``core/telemetry_fold``) turns cumulative series into increments.

Every field is checked on its own: a record with an absurd value (negative or huge token counts,
a cost that is not a finite number, a missing model) is refused and counted, never guessed; other
events (``user_prompt``, ``tool_result``...) and other metrics are skipped. Pure: no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import UTC, datetime

from trayapp.core.telemetry import TOKEN_TYPES, ApiRequest
from trayapp.core.telemetry_fold import COST, CounterPoint
from trayapp.sources.otlp_decode import CUMULATIVE, DELTA, Attrs, LogRecord, SumPoint, Value

TOKEN_METRIC = "claude_code.token.usage"
COST_METRIC = "claude_code.cost.usage"
METRICS = frozenset({TOKEN_METRIC, COST_METRIC})
MAX_TOKENS = 10**10  # per request or per point: more is a broken exporter
MAX_COST = 100_000.0
MAX_ID = 200
_TOKEN_FIELDS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_creation_tokens")


def _text(value: Value, limit: int = MAX_ID) -> str | None:
    if isinstance(value, str) and 0 < len(value) <= limit and value.isprintable():
        return value
    return None


def _count(value: Value) -> int | None:
    """A token count: a non-negative integer (also as a string or an integral float)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text.isdigit() or len(text) > 12:
            return None
        number = int(text)
    elif isinstance(value, float):
        if not value.is_integer():
            return None
        number = int(value)
    else:
        number = value
    return number if 0 <= number <= MAX_TOKENS else None


def _money(value: Value, limit: float = MAX_COST) -> float | None:
    """A non-negative finite number up to ``limit`` (also as a string)."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) and 0.0 <= number <= limit else None


def _at(record: LogRecord, now: datetime) -> datetime:
    if record.time_ns > 0:
        return datetime.fromtimestamp(record.time_ns / 1e9, UTC)
    stamp = record.attrs.get("event.timestamp")
    if isinstance(stamp, str) and len(stamp) <= 40:
        try:
            parsed = datetime.fromisoformat(stamp)
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return parsed.astimezone(UTC)
    return now


def is_api_request(record: LogRecord) -> bool:
    name = record.attrs.get("event.name")
    return name in ("api_request", "claude_code.api_request") or (
        name is None and record.body == "claude_code.api_request"
    )


def api_request(record: LogRecord, now: datetime) -> ApiRequest | None:
    """The request of one ``api_request`` record, None when a field is absent or absurd."""
    attrs: Attrs = record.attrs
    model = _text(attrs.get("model"))
    counts = [_count(attrs.get(name, 0)) for name in _TOKEN_FIELDS]
    cost = _money(attrs.get("cost_usd", 0.0))
    if model is None or cost is None or any(c is None for c in counts):
        return None
    duration = _money(attrs.get("duration_ms"), 1e9)
    session = _text(attrs.get("session.id")) or ""
    return ApiRequest(
        at=_at(record, now),
        session_id=session,
        model=model,
        input_tokens=counts[0] or 0,
        output_tokens=counts[1] or 0,
        cache_read_tokens=counts[2] or 0,
        cache_creation_tokens=counts[3] or 0,
        cost_usd=cost,
        duration_ms=duration,
        prompt_id=_text(attrs.get("prompt.id")),
    )


def api_requests(records: Iterable[LogRecord], now: datetime) -> tuple[list[ApiRequest], int]:
    """(the api_request events, how many api_request records were refused)."""
    found: list[ApiRequest] = []
    refused = 0
    for record in records:
        if not is_api_request(record):
            continue
        request = api_request(record, now)
        if request is None:
            refused += 1
        else:
            found.append(request)
    return found, refused


def counter_point(point: SumPoint) -> CounterPoint | None:
    """The point of a Claude Code counter, None when it cannot be counted."""
    attrs = point.attrs
    model = _text(attrs.get("model"))
    if point.metric == TOKEN_METRIC:
        kind = attrs.get("type")
        if kind not in TOKEN_TYPES or point.value is None or _count(point.value) is None:
            return None
    else:
        kind = COST
        if point.value is None or _money(point.value) is None:
            return None
    if model is None or point.temporality not in (DELTA, CUMULATIVE) or not point.monotonic:
        return None
    if point.time_ns <= 0 or (point.start_ns and point.start_ns > point.time_ns):
        return None
    return CounterPoint(
        _text(attrs.get("session.id")) or "",
        model,
        str(kind),
        point.start_ns,
        point.time_ns,
        float(point.value),
        point.temporality == CUMULATIVE,
    )


def counter_points(points: Iterable[SumPoint]) -> tuple[list[CounterPoint], int]:
    """(the Claude Code counter points, how many of theirs were refused)."""
    found: list[CounterPoint] = []
    refused = 0
    for point in points:
        if point.metric not in METRICS:
            continue
        counted = counter_point(point)
        if counted is None:
            refused += 1
        else:
            found.append(counted)
    return found, refused
