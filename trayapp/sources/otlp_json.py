"""OTLP/JSON request bodies (``/v1/logs``, ``/v1/metrics``) decoded into typed structs.

The OTLP/JSON mapping: lowerCamelCase keys, 64-bit integers as decimal strings (numbers
accepted), enums as integers, unknown fields ignored. msgspec decodes the body straight into the
structs below, checking every level's JSON type on the way (a mismatch is an ``OtlpError``, so a
400 with nothing stored), and the structs are not tracked by the garbage collector: a 500-record
batch as plain dicts and lists made the collector pause the GUI thread for tens of
milliseconds. Array and map attribute values are kept unparsed and dropped, as in protobuf.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import msgspec

from trayapp.sources.otlp_decode import (
    MAX_KEY,
    TEMPORALITY_NAMES,
    Attrs,
    LogRecord,
    OtlpError,
    SumPoint,
    Value,
)

Int64 = str | int  # a decimal string, as the mapping says, or a number


class AnyValue(msgspec.Struct, gc=False):
    stringValue: str | None = None
    intValue: Int64 | None = None
    doubleValue: float | str | None = None  # "NaN"/"Infinity" as strings: not finite, dropped
    boolValue: bool | None = None
    arrayValue: msgspec.Raw = msgspec.field(default_factory=msgspec.Raw)  # kept unparsed, dropped
    kvlistValue: msgspec.Raw = msgspec.field(default_factory=msgspec.Raw)
    bytesValue: str | None = None


class KeyValue(msgspec.Struct, gc=False):
    key: str
    value: AnyValue | None = None


class Resource(msgspec.Struct, gc=False):
    attributes: list[KeyValue] = []


class JsonLogRecord(msgspec.Struct, gc=False):
    timeUnixNano: Int64 = 0
    observedTimeUnixNano: Int64 = 0
    body: AnyValue | None = None
    attributes: list[KeyValue] = []
    eventName: str | None = None


class ScopeLogs(msgspec.Struct, gc=False):
    logRecords: list[JsonLogRecord] = []


class ResourceLogs(msgspec.Struct, gc=False):
    resource: Resource | None = None
    scopeLogs: list[ScopeLogs] = []


class LogsRequest(msgspec.Struct, gc=False):
    resourceLogs: list[ResourceLogs] = []


class NumberDataPoint(msgspec.Struct, gc=False):
    attributes: list[KeyValue] = []
    startTimeUnixNano: Int64 = 0
    timeUnixNano: Int64 = 0
    asDouble: float | str | None = None
    asInt: Int64 | None = None


class Sum(msgspec.Struct, gc=False):
    aggregationTemporality: int | str = 0
    isMonotonic: bool = False
    dataPoints: list[NumberDataPoint] = []


class Metric(msgspec.Struct, gc=False):
    name: str
    sum: Sum | None = None


class ScopeMetrics(msgspec.Struct, gc=False):
    metrics: list[Metric] = []


class ResourceMetrics(msgspec.Struct, gc=False):
    resource: Resource | None = None
    scopeMetrics: list[ScopeMetrics] = []


class MetricsRequest(msgspec.Struct, gc=False):
    resourceMetrics: list[ResourceMetrics] = []


_LOGS = msgspec.json.Decoder(LogsRequest)
_METRICS = msgspec.json.Decoder(MetricsRequest)


def _decode(
    decoder: msgspec.json.Decoder[LogsRequest] | msgspec.json.Decoder[MetricsRequest], body: bytes
) -> object:
    try:
        return decoder.decode(body)
    except msgspec.ValidationError as exc:
        raise OtlpError(f"not an OTLP request: {exc}"[:200]) from None
    except (msgspec.DecodeError, ValueError, RecursionError):
        raise OtlpError("not valid JSON") from None


def _int64(value: Int64 | None, where: str, *, signed: bool = False) -> int | None:
    if value is None or isinstance(value, int):
        return value
    digits = value[1:] if signed and value.startswith("-") else value
    if digits.isdigit() and len(value) <= 20:
        return int(value)
    raise OtlpError(f"{where} is not an integer")


def _uint64(value: Int64, where: str) -> int:
    number = _int64(value, where) or 0
    if number < 0:
        raise OtlpError(f"{where} is not an integer")
    return number


def _double(value: float | str | None) -> float | None:
    return value if isinstance(value, float) and math.isfinite(value) else None


def _value(value: AnyValue | None) -> Value:
    if value is None:
        return None
    if value.stringValue is not None:
        return value.stringValue
    if value.intValue is not None:
        try:
            return _int64(value.intValue, "intValue", signed=True)
        except OtlpError:
            return None
    if value.doubleValue is not None:
        return _double(value.doubleValue)
    return value.boolValue


def _attrs(pairs: list[KeyValue], into: Attrs) -> Attrs:
    for kv in pairs:
        if len(kv.key) <= MAX_KEY:
            into[kv.key] = _value(kv.value)
    return into


def logs_from_json(body: bytes) -> Iterator[LogRecord]:
    request = _decode(_LOGS, body)
    assert isinstance(request, LogsRequest)
    for resource_logs in request.resourceLogs:
        base = _attrs(resource_logs.resource.attributes, {}) if resource_logs.resource else {}
        for scope_logs in resource_logs.scopeLogs:
            for rec in scope_logs.logRecords:
                time_ns = _uint64(rec.timeUnixNano, "timeUnixNano")
                time_ns = time_ns or _uint64(rec.observedTimeUnixNano, "observedTimeUnixNano")
                attrs = _attrs(rec.attributes, dict(base))
                if rec.eventName and len(rec.eventName) <= MAX_KEY:
                    attrs.setdefault("event.name", rec.eventName)
                body_value = _value(rec.body)
                yield LogRecord(time_ns, body_value if isinstance(body_value, str) else None, attrs)


def _temporality(value: int | str) -> int:
    return TEMPORALITY_NAMES.get(value, 0) if isinstance(value, str) else value


def _number(point: NumberDataPoint) -> float | None:
    if point.asDouble is not None:
        return _double(point.asDouble)
    try:
        number = _int64(point.asInt, "asInt", signed=True)
    except OtlpError:
        return None
    return None if number is None else float(number)


def sums_from_json(body: bytes, wanted: frozenset[str] | None = None) -> Iterator[SumPoint]:
    request = _decode(_METRICS, body)
    assert isinstance(request, MetricsRequest)
    for resource_metrics in request.resourceMetrics:
        base = _attrs(resource_metrics.resource.attributes, {}) if resource_metrics.resource else {}
        for scope_metrics in resource_metrics.scopeMetrics:
            for metric in scope_metrics.metrics:
                if metric.sum is None or (wanted is not None and metric.name not in wanted):
                    continue
                temporality = _temporality(metric.sum.aggregationTemporality)
                for dp in metric.sum.dataPoints:
                    yield SumPoint(
                        metric.name,
                        _attrs(dp.attributes, dict(base)),
                        _uint64(dp.startTimeUnixNano, "startTimeUnixNano"),
                        _uint64(dp.timeUnixNano, "timeUnixNano"),
                        _number(dp),
                        temporality,
                        metric.sum.isMonotonic,
                    )
