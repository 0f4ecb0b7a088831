"""OTLP bodies to records: protobuf and OTLP/JSON agree, malformed bodies are errors, gzip is capped,
and Claude Code's requests and counters come out with every field checked."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime

import pytest
from google.protobuf import json_format

from tests.helpers.otlp_bodies import T_NS, logs_message, metrics_message
from trayapp.sources import otlp_claude
from trayapp.sources.otlp_decode import (
    CUMULATIVE,
    JSON,
    PROTOBUF,
    OtlpError,
    content_type,
    decode_logs,
    decode_sums,
    decompress,
    empty_reply,
)

NOW = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)


def as_json(message: object) -> bytes:
    return json_format.MessageToJson(message).encode()  # type: ignore[arg-type]  # camelCase, int64 as strings


def test_protobuf_and_json_give_the_same_records() -> None:
    message = logs_message(input_tokens="120", output_tokens=30, cost_usd=0.25, flag=True, tags=["x"])
    from_pb = decode_logs(message.SerializeToString(), PROTOBUF)
    from_json = decode_logs(as_json(message), JSON)
    assert from_pb == from_json
    (record,) = from_pb
    assert record.time_ns == T_NS
    assert record.body == "claude_code.api_request"
    assert record.attrs["session.id"] == "s1"  # the record's own over the resource's
    assert record.attrs["output_tokens"] == 30
    assert record.attrs["cost_usd"] == 0.25
    assert record.attrs["flag"] is True
    assert record.attrs["tags"] is None  # arrays are not kept
    points_pb = decode_sums(metrics_message(5.0).SerializeToString(), PROTOBUF)
    assert points_pb == decode_sums(as_json(metrics_message(5.0)), JSON)
    assert points_pb[0].temporality == CUMULATIVE
    assert decode_sums(metrics_message(5.0).SerializeToString(), PROTOBUF, frozenset({"other"})) == []


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"resourceLogs": {}}',
        b'{"resourceLogs": [{"scopeLogs": [{"logRecords": [{"attributes": {"a": 1}}]}]}]}',
        b'{"resourceLogs": [{"scopeLogs": [{"logRecords": [{"timeUnixNano": "soon"}]}]}]}',
        b'{"resourceLogs": [{"scopeLogs": [{"logRecords": [{"attributes": [{"value": {}}]}]}]}]}',
        b"[" * 100_000,
    ],
)
def test_malformed_json_logs_are_errors(body: bytes) -> None:
    with pytest.raises(OtlpError):
        decode_logs(body, JSON)


def test_malformed_metrics_and_protobuf_are_errors() -> None:
    bad_enum = {
        "resourceMetrics": [
            {"scopeMetrics": [{"metrics": [{"name": "m", "sum": {"aggregationTemporality": {}}}]}]}
        ]
    }
    for body in (
        json.dumps(bad_enum).encode(),
        b'{"resourceMetrics": [{"scopeMetrics": [{"metrics": [{}]}]}]}',
    ):
        with pytest.raises(OtlpError):
            decode_sums(body, JSON)
    for body in (b"\xff\xff\xff\xff", b"\x0a\x05ab"):
        with pytest.raises(OtlpError):
            decode_logs(body, PROTOBUF)
    assert decode_logs(b"", PROTOBUF) == []  # empty requests are valid
    assert decode_logs(b"{}", JSON) == []


def test_gzip_is_inflated_under_a_cap() -> None:
    assert decompress(gzip.compress(b"hello"), "gzip", 100) == b"hello"
    assert decompress(b"plain", None, 3) == b"plain"  # the wire cap is the server's
    bomb = gzip.compress(b"\0" * 5_000_000)
    with pytest.raises(OtlpError) as too_big:
        decompress(bomb, "gzip", 1_000_000)
    assert too_big.value.status == 413
    for body in (gzip.compress(b"hello")[:-6], b"not gzip", gzip.compress(b"a") + b"trailing"):
        with pytest.raises(OtlpError) as bad:
            decompress(body, "gzip", 100)
        assert bad.value.status == 400
    with pytest.raises(OtlpError) as unsupported:
        decompress(b"x", "br", 100)
    assert unsupported.value.status == 415


def test_content_types_and_replies() -> None:
    assert content_type("application/json; charset=utf-8") == JSON
    assert content_type("Application/X-Protobuf") == PROTOBUF
    assert content_type("text/plain") is None
    assert content_type(None) is None
    assert empty_reply("logs", JSON) == b"{}"
    assert empty_reply("metrics", PROTOBUF) == b""
    partial = json.loads(empty_reply("logs", JSON, 2, "absurd"))
    assert partial == {"partialSuccess": {"rejectedLogRecords": "2", "errorMessage": "absurd"}}


def test_api_requests_take_claude_codes_strings_and_refuse_absurd_values() -> None:
    good = logs_message(input_tokens="120", output_tokens="30", cache_read_tokens=7,
                        cost_usd="0.0123", duration_ms="1500", **{"prompt.id": "p1"})  # fmt: skip
    (request,), refused = otlp_claude.api_requests(decode_logs(good.SerializeToString(), PROTOBUF), NOW)
    assert refused == 0
    assert (request.session_id, request.model, request.input_tokens, request.output_tokens) == (
        "s1",
        "opus",
        120,
        30,
    )
    assert (request.cache_read_tokens, request.cache_creation_tokens) == (7, 0)
    assert (request.cost_usd, request.duration_ms, request.prompt_id) == (0.0123, 1500.0, "p1")
    assert request.at == datetime.fromtimestamp(T_NS / 1e9, UTC)
    for absurd in ({"input_tokens": "-5"}, {"input_tokens": str(10**13)}, {"cost_usd": "nan"},
                   {"cost_usd": "-1"}, {"output_tokens": 1.5}, {"model": ""}):  # fmt: skip
        records = decode_logs(logs_message(**absurd).SerializeToString(), PROTOBUF)
        assert otlp_claude.api_requests(records, NOW) == ([], 1), absurd
    other = logs_message(**{"event.name": "user_prompt"})
    assert otlp_claude.api_requests(decode_logs(other.SerializeToString(), PROTOBUF), NOW) == ([], 0)


def test_counter_points_keep_temporality_and_refuse_absurd_values() -> None:
    (cumulative,), refused = otlp_claude.counter_points(
        decode_sums(metrics_message(5.0).SerializeToString(), PROTOBUF)
    )
    assert (refused, cumulative.cumulative, cumulative.kind, cumulative.value) == (0, True, "cacheRead", 5.0)
    (delta,), _ = otlp_claude.counter_points(
        decode_sums(metrics_message(5.0, False).SerializeToString(), PROTOBUF)
    )
    assert not delta.cumulative
    for value in (-1.0, 2.5, float("inf")):
        points = decode_sums(metrics_message(value).SerializeToString(), PROTOBUF)
        assert otlp_claude.counter_points(points) == ([], 1), value


def test_json_non_finite_numbers_refuse_the_point_not_the_body() -> None:
    (point,) = decode_sums(as_json(metrics_message(float("nan"))), JSON)  # protobuf's JSON: "NaN"
    assert point.value is None
    assert otlp_claude.counter_points([point]) == ([], 1)
