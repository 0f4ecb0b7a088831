"""OTLP/HTTP request bodies (``/v1/logs``, ``/v1/metrics``) as plain records: JSON or protobuf.

Claude Code exports its telemetry through the OpenTelemetry JavaScript SDK's OTLP exporters,
``http/json`` or ``http/protobuf``. Protobuf bodies are parsed by the maintained
``opentelemetry-proto`` package's generated messages (upb underneath), never by hand; JSON bodies
follow the OTLP/JSON mapping (lowerCamelCase keys, 64-bit integers as decimal strings or numbers,
enums as integers, ids as hex) and are walked strictly: a level of the wrong JSON type is a
:class:`OtlpError` (the receiver answers 400 and stores nothing), unknown fields are ignored.
Only scalar attribute values are kept (arrays, maps and bytes become None). Bodies may come
gzip-compressed: :func:`decompress` inflates them under a cap, so a gzip bomb is refused early.

Pure functions over bytes: no I/O, no clock. ``core/otlp_claude`` turns the records into
Claude Code's requests and counters.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from typing import Any

import msgspec

Value = str | int | float | bool | None
Attrs = dict[str, Value]

JSON = "application/json"
PROTOBUF = "application/x-protobuf"
DELTA, CUMULATIVE = 1, 2  # AggregationTemporality
_TEMPORALITY_NAMES = {
    "AGGREGATION_TEMPORALITY_DELTA": DELTA,
    "AGGREGATION_TEMPORALITY_CUMULATIVE": CUMULATIVE,
}
_MAX_KEY = 256
_JSON_DECODER = msgspec.json.Decoder()


class OtlpError(Exception):
    """The body is not an OTLP request of this kind (400); ``status`` 413 for a bomb."""

    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


@dataclass(frozen=True, slots=True)
class LogRecord:
    """One log record: its own attributes over its resource's (the record's ``event_name`` field,
    when set, as the ``event.name`` attribute)."""

    time_ns: int  # timeUnixNano, else observedTimeUnixNano, else 0
    body: str | None
    attrs: Attrs


@dataclass(frozen=True, slots=True)
class SumPoint:
    """One data point of a Sum metric."""

    metric: str
    attrs: Attrs
    start_ns: int
    time_ns: int
    value: float | None  # None: not a finite number
    temporality: int  # DELTA, CUMULATIVE, 0 unspecified
    monotonic: bool


def content_type(header: str | None) -> str | None:
    """``application/json`` or ``application/x-protobuf`` from a Content-Type header, else None."""
    media = (header or "").split(";", 1)[0].strip().lower()
    return media if media in (JSON, PROTOBUF) else None


def decompress(body: bytes, encoding: str | None, cap: int) -> bytes:
    """The body without its ``Content-Encoding`` (``gzip`` or none), at most ``cap`` bytes.

    Raises:
        OtlpError: 413 when the inflated body would pass ``cap``; 400 when it is not gzip or is
            truncated; 415 for another encoding.
    """
    coding = (encoding or "identity").strip().lower()
    if coding == "identity":
        return body
    if coding not in ("gzip", "x-gzip"):
        raise OtlpError(f"unsupported Content-Encoding {coding[:40]!r}", 415)
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(body, cap + 1)
    except zlib.error:
        raise OtlpError("not valid gzip") from None
    if len(out) > cap or inflater.unconsumed_tail:
        raise OtlpError(f"inflated body too large (over {cap} bytes)", 413)
    if not inflater.eof or inflater.unused_data:
        raise OtlpError("truncated gzip body or data after it")
    return out


# ----- protobuf


def _pb_value(value: Any) -> Value:
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return str(value.string_value)
    if kind == "int_value":
        return int(value.int_value)
    if kind == "double_value":
        return float(value.double_value)
    if kind == "bool_value":
        return bool(value.bool_value)
    return None


def _pb_attrs(pairs: Any, into: Attrs) -> Attrs:
    for kv in pairs:
        if len(kv.key) <= _MAX_KEY:
            into[kv.key] = _pb_value(kv.value)
    return into


def _parse_protobuf(message: Any, body: bytes) -> Any:
    from google.protobuf.message import DecodeError  # type: ignore[import-untyped]

    try:
        return message.FromString(body)
    except (DecodeError, RecursionError, ValueError):
        raise OtlpError(f"not an {message.__name__}") from None


def logs_from_protobuf(body: bytes) -> list[LogRecord]:
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

    request = _parse_protobuf(ExportLogsServiceRequest, body)
    records: list[LogRecord] = []
    for resource_logs in request.resource_logs:
        base = _pb_attrs(resource_logs.resource.attributes, {})
        for scope_logs in resource_logs.scope_logs:
            for rec in scope_logs.log_records:
                body_value = _pb_value(rec.body) if rec.HasField("body") else None
                attrs = _pb_attrs(rec.attributes, dict(base))
                if rec.event_name and len(rec.event_name) <= _MAX_KEY:
                    attrs.setdefault("event.name", rec.event_name)
                records.append(
                    LogRecord(
                        rec.time_unix_nano or rec.observed_time_unix_nano,
                        body_value if isinstance(body_value, str) else None,
                        attrs,
                    )
                )
    return records


def sums_from_protobuf(body: bytes, wanted: frozenset[str] | None = None) -> list[SumPoint]:
    from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest

    request = _parse_protobuf(ExportMetricsServiceRequest, body)
    points: list[SumPoint] = []
    for resource_metrics in request.resource_metrics:
        base = _pb_attrs(resource_metrics.resource.attributes, {})
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                if metric.WhichOneof("data") != "sum" or (wanted is not None and metric.name not in wanted):
                    continue
                total = metric.sum
                for dp in total.data_points:
                    kind = dp.WhichOneof("value")
                    raw = float(dp.as_double) if kind == "as_double" else float(dp.as_int) if kind else None
                    points.append(
                        SumPoint(
                            metric.name,
                            _pb_attrs(dp.attributes, dict(base)),
                            dp.start_time_unix_nano,
                            dp.time_unix_nano,
                            raw if raw is not None and math.isfinite(raw) else None,
                            int(total.aggregation_temporality),
                            bool(total.is_monotonic),
                        )
                    )
    return points


# ----- JSON (the OTLP/JSON mapping)


def _obj(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise OtlpError(f"{where} is not a JSON object")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise OtlpError(f"{where} is not a JSON array")
    return value


def _uint64(value: Any, where: str) -> int:
    """A fixed64/int64 field: a decimal string or a number (0 when absent)."""
    if value is None:
        return 0
    if isinstance(value, bool):
        raise OtlpError(f"{where} is not an integer")
    if isinstance(value, str) and value.isdigit() and len(value) <= 20:
        return int(value)
    if isinstance(value, int) and value >= 0:
        return value
    raise OtlpError(f"{where} is not an integer")


def _json_value(value: Any) -> Value:
    if not isinstance(value, dict):
        return None
    if "stringValue" in value:
        text = value["stringValue"]
        return text if isinstance(text, str) else None
    if "intValue" in value:
        raw = value["intValue"]
        if isinstance(raw, int) and not isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.lstrip("-").isdigit() and len(raw) <= 20:
            return int(raw)
        return None
    if "doubleValue" in value:
        raw = value["doubleValue"]
        if isinstance(raw, int | float) and not isinstance(raw, bool) and math.isfinite(raw):
            return float(raw)
        return None
    if "boolValue" in value:
        raw = value["boolValue"]
        return raw if isinstance(raw, bool) else None
    return None


def _json_attrs(pairs: Any, into: Attrs, where: str) -> Attrs:
    for kv in _list(pairs, where):
        if not isinstance(kv, dict) or not isinstance(kv.get("key"), str):
            raise OtlpError(f"{where} holds something that is not a key/value")
        if len(kv["key"]) <= _MAX_KEY:
            into[kv["key"]] = _json_value(kv.get("value"))
    return into


def _json_document(body: bytes, top: str) -> list[Any]:
    try:
        document = _JSON_DECODER.decode(body)
    except (msgspec.DecodeError, ValueError, RecursionError):
        raise OtlpError("not valid JSON") from None
    return _list(_obj(document, "the body").get(top), top)


def logs_from_json(body: bytes) -> list[LogRecord]:
    records: list[LogRecord] = []
    for resource_logs in _json_document(body, "resourceLogs"):
        resource_logs = _obj(resource_logs, "resourceLogs[]")
        resource = _obj(resource_logs.get("resource"), "resource")
        base = _json_attrs(resource.get("attributes"), {}, "resource.attributes")
        for scope_logs in _list(resource_logs.get("scopeLogs"), "scopeLogs"):
            for rec in _list(_obj(scope_logs, "scopeLogs[]").get("logRecords"), "logRecords"):
                rec = _obj(rec, "logRecords[]")
                time_ns = _uint64(rec.get("timeUnixNano"), "timeUnixNano")
                time_ns = time_ns or _uint64(rec.get("observedTimeUnixNano"), "observedTimeUnixNano")
                body_value = _json_value(rec.get("body"))
                attrs = _json_attrs(rec.get("attributes"), dict(base), "attributes")
                event_name = rec.get("eventName")
                if isinstance(event_name, str) and event_name and len(event_name) <= _MAX_KEY:
                    attrs.setdefault("event.name", event_name)
                records.append(LogRecord(time_ns, body_value if isinstance(body_value, str) else None, attrs))
    return records


def _temporality(value: Any) -> int:
    if isinstance(value, str):
        return _TEMPORALITY_NAMES.get(value, 0)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise OtlpError("aggregationTemporality is not an enum value")


def _json_number(point: dict[str, Any]) -> float | None:
    if "asDouble" in point:
        raw = point["asDouble"]
        ok = isinstance(raw, int | float) and not isinstance(raw, bool) and math.isfinite(raw)
        return float(raw) if ok else None
    raw = point.get("asInt")
    if isinstance(raw, str) and raw.lstrip("-").isdigit() and len(raw) <= 20:
        return float(int(raw))
    if isinstance(raw, int) and not isinstance(raw, bool):
        return float(raw)
    return None


def sums_from_json(body: bytes, wanted: frozenset[str] | None = None) -> list[SumPoint]:
    points: list[SumPoint] = []
    for resource_metrics in _json_document(body, "resourceMetrics"):
        resource_metrics = _obj(resource_metrics, "resourceMetrics[]")
        resource = _obj(resource_metrics.get("resource"), "resource")
        base = _json_attrs(resource.get("attributes"), {}, "resource.attributes")
        for scope_metrics in _list(resource_metrics.get("scopeMetrics"), "scopeMetrics"):
            for metric in _list(_obj(scope_metrics, "scopeMetrics[]").get("metrics"), "metrics"):
                metric = _obj(metric, "metrics[]")
                name = metric.get("name")
                if not isinstance(name, str):
                    raise OtlpError("a metric without a name")
                if "sum" not in metric or (wanted is not None and name not in wanted):
                    continue
                total = _obj(metric["sum"], "sum")
                temporality = _temporality(total.get("aggregationTemporality", 0))
                monotonic = total.get("isMonotonic") is True
                for dp in _list(total.get("dataPoints"), "dataPoints"):
                    dp = _obj(dp, "dataPoints[]")
                    points.append(
                        SumPoint(
                            name,
                            _json_attrs(dp.get("attributes"), dict(base), "attributes"),
                            _uint64(dp.get("startTimeUnixNano"), "startTimeUnixNano"),
                            _uint64(dp.get("timeUnixNano"), "timeUnixNano"),
                            _json_number(dp),
                            temporality,
                            monotonic,
                        )
                    )
    return points


def decode_logs(body: bytes, media: str) -> list[LogRecord]:
    """The records of an ``ExportLogsServiceRequest`` in ``media`` (JSON or PROTOBUF)."""
    return logs_from_protobuf(body) if media == PROTOBUF else logs_from_json(body)


def decode_sums(body: bytes, media: str, wanted: frozenset[str] | None = None) -> list[SumPoint]:
    """The Sum data points of an ``ExportMetricsServiceRequest`` (only ``wanted`` metric names)."""
    return sums_from_protobuf(body, wanted) if media == PROTOBUF else sums_from_json(body, wanted)


def empty_reply(signal: str, media: str, rejected: int = 0, message: str = "") -> bytes:
    """The ``Export{Logs,Metrics}ServiceResponse`` in the request's encoding (``partialSuccess``
    when some records were refused)."""
    field = "rejectedLogRecords" if signal == "logs" else "rejectedDataPoints"
    if media == JSON:
        reply: dict[str, Any] = {}
        if rejected:
            reply["partialSuccess"] = {field: str(rejected), "errorMessage": message}
        return msgspec.json.encode(reply)
    if signal == "logs":
        from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse

        logs_reply = ExportLogsServiceResponse()
        if rejected:
            logs_reply.partial_success.rejected_log_records = rejected
            logs_reply.partial_success.error_message = message
        return bytes(logs_reply.SerializeToString())
    from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceResponse

    metrics_reply = ExportMetricsServiceResponse()
    if rejected:
        metrics_reply.partial_success.rejected_data_points = rejected
        metrics_reply.partial_success.error_message = message
    return bytes(metrics_reply.SerializeToString())
