"""OTLP/HTTP request bodies (``/v1/logs``, ``/v1/metrics``) as plain records: JSON or protobuf.

Claude Code exports its telemetry through the OpenTelemetry JavaScript SDK's OTLP exporters,
``http/json`` or ``http/protobuf``. Protobuf bodies are parsed by the maintained
``opentelemetry-proto`` package's generated messages (upb underneath), never by hand; JSON bodies
follow the OTLP/JSON mapping (``sources/otlp_json``: typed structs, strictly checked): a level of
the wrong JSON type is a :class:`OtlpError` (the receiver answers 400 and stores nothing),
unknown fields are ignored.
Only scalar attribute values are kept (arrays, maps and bytes become None). Bodies may come
gzip-compressed: :func:`decompress` inflates them under a cap, so a gzip bomb is refused early.

Pure functions over bytes: no I/O, no clock. ``sources/otlp_claude`` turns the records into
Claude Code's requests and counters.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

Value = str | int | float | bool | None
Attrs = dict[str, Value]

JSON = "application/json"
PROTOBUF = "application/x-protobuf"
DELTA, CUMULATIVE = 1, 2  # AggregationTemporality
TEMPORALITY_NAMES = {
    "AGGREGATION_TEMPORALITY_DELTA": DELTA,
    "AGGREGATION_TEMPORALITY_CUMULATIVE": CUMULATIVE,
}
MAX_KEY = 256


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


def preload() -> None:
    """Import the generated protobuf modules now (about 50 ms and 4 MB, once): on a worker lane
    when the first protobuf post arrives, rather than inside the loop's decoding slices, where it
    would stall the GUI thread. Never at start: an app that receives no protobuf never loads them."""
    from opentelemetry.proto.collector.logs.v1 import logs_service_pb2  # noqa: F401
    from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2  # noqa: F401


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
        if len(kv.key) <= MAX_KEY:
            into[kv.key] = _pb_value(kv.value)
    return into


def _parse_protobuf(message: Any, body: bytes) -> Any:
    from google.protobuf.message import DecodeError  # type: ignore[import-untyped]

    try:
        return message.FromString(body)
    except (DecodeError, RecursionError, ValueError):
        raise OtlpError(f"not an {message.__name__}") from None


def logs_from_protobuf(body: bytes) -> Iterator[LogRecord]:
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

    request = _parse_protobuf(ExportLogsServiceRequest, body)
    for resource_logs in request.resource_logs:
        base = _pb_attrs(resource_logs.resource.attributes, {})
        for scope_logs in resource_logs.scope_logs:
            for rec in scope_logs.log_records:
                body_value = _pb_value(rec.body) if rec.HasField("body") else None
                attrs = _pb_attrs(rec.attributes, dict(base))
                if rec.event_name and len(rec.event_name) <= MAX_KEY:
                    attrs.setdefault("event.name", rec.event_name)
                yield (
                    LogRecord(
                        rec.time_unix_nano or rec.observed_time_unix_nano,
                        body_value if isinstance(body_value, str) else None,
                        attrs,
                    )
                )


def sums_from_protobuf(body: bytes, wanted: frozenset[str] | None = None) -> Iterator[SumPoint]:
    from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest

    request = _parse_protobuf(ExportMetricsServiceRequest, body)
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
                    yield (
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


def iter_logs(body: bytes, media: str) -> Iterator[LogRecord]:
    """The records of an ``ExportLogsServiceRequest`` in ``media`` (JSON or PROTOBUF), one at a
    time, so a caller on the GUI loop can pause between them; a malformed body raises on the way."""
    if media == PROTOBUF:
        return logs_from_protobuf(body)
    from trayapp.sources.otlp_json import logs_from_json

    return logs_from_json(body)


def iter_sums(body: bytes, media: str, wanted: frozenset[str] | None = None) -> Iterator[SumPoint]:
    """The Sum data points of an ``ExportMetricsServiceRequest`` (only ``wanted`` metric names)."""
    if media == PROTOBUF:
        return sums_from_protobuf(body, wanted)
    from trayapp.sources.otlp_json import sums_from_json

    return sums_from_json(body, wanted)


def decode_logs(body: bytes, media: str) -> list[LogRecord]:
    """:func:`iter_logs`, all at once."""
    return list(iter_logs(body, media))


def decode_sums(body: bytes, media: str, wanted: frozenset[str] | None = None) -> list[SumPoint]:
    """:func:`iter_sums`, all at once."""
    return list(iter_sums(body, media, wanted))


def empty_reply(signal: str, media: str, rejected: int = 0, message: str = "") -> bytes:
    """The ``Export{Logs,Metrics}ServiceResponse`` in the request's encoding (``partialSuccess``
    when some records were refused)."""
    field = "rejectedLogRecords" if signal == "logs" else "rejectedDataPoints"
    if media == JSON:
        import msgspec  # with the first post: not loaded at start (some 2 MB resident)

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
