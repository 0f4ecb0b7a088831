"""OTLP protobuf requests shaped like Claude Code's, built with opentelemetry-proto's messages (unit
tests of the decoder and the service; the receiver's tests use the real exporters)."""

from __future__ import annotations

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest

T_NS = 1_796_310_422_935_000_000  # 2026-12-03 15:07:02 UTC


def logs_message(time_ns: int = T_NS, **attrs: object) -> ExportLogsServiceRequest:
    request = ExportLogsServiceRequest()
    rl = request.resource_logs.add()
    kv = rl.resource.attributes.add()
    kv.key, kv.value.string_value = "session.id", "resource-session"
    record = rl.scope_logs.add().log_records.add()
    record.time_unix_nano = time_ns
    record.body.string_value = "claude_code.api_request"
    for key, value in {"event.name": "api_request", "session.id": "s1", "model": "opus", **attrs}.items():
        kv = record.attributes.add()
        kv.key = key
        if isinstance(value, bool):
            kv.value.bool_value = value
        elif isinstance(value, int):
            kv.value.int_value = value
        elif isinstance(value, float):
            kv.value.double_value = value
        elif isinstance(value, list):
            kv.value.array_value.values.add().string_value = "x"
        else:
            kv.value.string_value = str(value)
    return request


def metrics_message(
    value: float, cumulative: bool = True, *, start_ns: int = T_NS, time_ns: int = T_NS + 10**9
) -> ExportMetricsServiceRequest:
    request = ExportMetricsServiceRequest()
    metric = request.resource_metrics.add().scope_metrics.add().metrics.add()
    metric.name = "claude_code.token.usage"
    metric.sum.aggregation_temporality = 2 if cumulative else 1
    metric.sum.is_monotonic = True
    dp = metric.sum.data_points.add()
    dp.start_time_unix_nano, dp.time_unix_nano, dp.as_double = start_ns, time_ns, value
    for key, text in (("session.id", "s1"), ("model", "opus"), ("type", "cacheRead")):
        kv = dp.attributes.add()
        kv.key, kv.value.string_value = key, text
    return request
