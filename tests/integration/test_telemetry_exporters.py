"""The OTLP receiver against real OpenTelemetry exporters, on the app's real loopback server.

- The JavaScript SDK's OTLP HTTP exporters (``tests/otel-js``, the family Claude Code uses; Node
  sends every body chunked), JSON and protobuf, delta and cumulative, with and without gzip: the
  totals equal what the exporter sent, counted once although every request arrives twice (the
  ``api_request`` event and the counters) and cumulative points repeat earlier totals.
- The Python SDK's OTLP/HTTP exporter (protobuf, gzip, ``Content-Length``).
- Malformed, oversized, gzip-bomb, wrong-content-type and unauthenticated posts: 4xx, nothing stored.

``npm ci`` in ``tests/otel-js`` (``make test`` runs it) provides the exporters; without them
these tests skip, and fail under CI=true.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from trayapp import settings as st
from trayapp.services.local_host import LocalHost, app_sources
from trayapp.services.telemetry_receiver import MAX_BODY
from trayapp.store import local_endpoint

OTEL_JS = Path(__file__).resolve().parents[1] / "otel-js"


def otel_js() -> Path:
    if shutil.which("node") and (OTEL_JS / "node_modules" / "@opentelemetry" / "sdk-logs").is_dir():
        return OTEL_JS
    reason = "the OpenTelemetry JS exporters are not installed (cd tests/otel-js && npm ci; make test does)"
    if os.environ.get("CI") == "true":
        pytest.fail("CI=true: " + reason)
    pytest.skip(reason)


@pytest.fixture
async def host(hermetic_env: Path) -> AsyncIterator[LocalHost]:
    settings = st.load()
    settings.update({"api.enabled": False, "hooks.receiver": False})  # the telemetry routes alone
    served = LocalHost(settings, app_sources(settings, None, None))
    await served.start()
    yield served
    await served.stop()


def token() -> str:
    endpoint = local_endpoint.load()
    assert endpoint is not None
    return endpoint.hook_token


async def emit(port: int, **options: Any) -> dict[str, Any]:
    """Run the JS emitter; returns what it says it sent."""
    args = {"url": f"http://127.0.0.1:{port}", "token": token(), **options}
    proc = await asyncio.create_subprocess_exec(
        "node", str(otel_js() / "emit.js"), json.dumps(args),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    sent: dict[str, Any] = json.loads(out)
    assert sent["errors"] == [], sent["errors"]
    return sent


def assert_totals_match(host: LocalHost, sent: dict[str, Any], *, requests: bool = True) -> None:
    totals = host.telemetry.totals()
    assert totals is not None
    tokens = {f"{model}|{kind}": value for (model, kind), value in totals.tokens.items()}
    assert tokens == sent["tokens"]
    assert totals.cost_usd == pytest.approx(sent["cost"])
    for session, figures in sent["perSession"].items():
        assert totals.sessions[session].tokens == figures["tokens"]
        assert totals.sessions[session].cost_usd == pytest.approx(figures["cost"])
        assert totals.sessions[session].requests == (figures["requests"] if requests else 0)
    assert totals.rejected_posts == 0


@pytest.mark.parametrize(
    ("protocol", "temporality", "gzip_on", "numbers"),
    [
        ("json", "delta", False, "string"),
        ("json", "cumulative", True, "number"),
        ("proto", "delta", True, "number"),
        ("proto", "cumulative", False, "string"),
    ],
)
async def test_the_js_exporters_counted_once(
    host: LocalHost, protocol: str, temporality: str, gzip_on: bool, numbers: str
) -> None:
    assert host.port
    sent = await emit(host.port, protocol=protocol, temporality=temporality, gzip=gzip_on, numbers=numbers,
                      sessions=["s-one", "s-two"], requests=3, rounds=2)  # fmt: skip
    assert sent["requests"] == 12
    assert_totals_match(host, sent)
    totals = host.telemetry.totals()
    assert totals is not None
    assert sum(totals.requests.values()) == 12


async def test_counters_alone_and_events_alone_give_the_same_totals(host: LocalHost) -> None:
    assert host.port
    sent = await emit(host.port, protocol="proto", temporality="cumulative", logs=False,
                      sessions=["metrics-only"], requests=4, rounds=3)  # fmt: skip
    assert_totals_match(host, sent, requests=False)


async def test_the_python_sdk_exporter(host: LocalHost) -> None:
    from opentelemetry.exporter.otlp.proto.http import Compression
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader

    base, headers = f"http://127.0.0.1:{host.port}", {"Authorization": f"Bearer {token()}"}

    def send() -> None:
        logs = LoggerProvider()
        logs.add_log_record_processor(
            SimpleLogRecordProcessor(
                OTLPLogExporter(f"{base}/v1/logs", headers=headers, compression=Compression.Gzip)
            )
        )
        attrs = {"event.name": "api_request", "session.id": "py", "model": "claude-haiku-4-5",
                 "input_tokens": 11, "output_tokens": 22, "cost_usd": 0.001}  # fmt: skip
        logs.get_logger("com.anthropic.claude_code.events").emit(
            body="claude_code.api_request", attributes=attrs
        )
        logs.shutdown()
        exporter = OTLPMetricExporter(f"{base}/v1/metrics", headers=headers)
        reader = PeriodicExportingMetricReader(exporter, export_interval_millis=3_600_000)
        meters = MeterProvider(metric_readers=[reader])
        counter = meters.get_meter("com.anthropic.claude_code").create_counter("claude_code.token.usage")
        counter.add(11, {"session.id": "py", "model": "claude-haiku-4-5", "type": "input"})
        counter.add(5, {"session.id": "py", "model": "claude-haiku-4-5", "type": "cacheRead"})
        meters.shutdown()

    await asyncio.to_thread(send)
    totals = host.telemetry.totals()
    assert totals is not None
    assert totals.tokens == {("claude-haiku-4-5", "input"): 11, ("claude-haiku-4-5", "output"): 22,
                             ("claude-haiku-4-5", "cacheRead"): 5}  # fmt: skip
    assert totals.requests == {"claude-haiku-4-5": 1}
    assert totals.sessions["py"].cost_usd == pytest.approx(0.001)


async def test_bad_posts_are_refused_and_store_nothing(host: LocalHost) -> None:
    auth = {"Authorization": f"Bearer {token()}"}
    js, pb = {**auth, "Content-Type": "application/json"}, {**auth, "Content-Type": "application/x-protobuf"}
    bomb = gzip.compress(b"[" + b" " * 40_000_000 + b"]")
    cases = [
        ("/v1/logs", b"{}", {"Content-Type": "application/json"}, 401),
        ("/v1/logs", b"{}", {"Content-Type": "application/json", "Authorization": "Bearer nope"}, 401),
        ("/v1/metrics", b"{}", {**auth, "Content-Type": "text/plain"}, 415),
        ("/v1/metrics", b"{}", auth, 415),
        ("/v1/logs", b"{not json", js, 400),
        ("/v1/logs", b'{"resourceLogs": {"x": 1}}', js, 400),
        ("/v1/metrics", b"\xff\xff\xff", pb, 400),
        ("/v1/logs", gzip.compress(b"{}")[:-4], {**js, "Content-Encoding": "gzip"}, 400),
        ("/v1/logs", bomb, {**js, "Content-Encoding": "gzip"}, 413),
        ("/v1/logs", b"{}", {**js, "Content-Encoding": "br"}, 415),
        ("/v1/logs", b" " * (MAX_BODY + 1), js, 413),
    ]
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{host.port}", timeout=30) as client:
        for path, body, headers, status in cases:
            reply = await client.post(path, content=body, headers=headers)
            assert reply.status_code == status, (path, body[:40], headers, reply.text)
        ok = await client.post("/v1/logs", content=b"{}", headers=js)  # an empty request is valid
        assert (ok.status_code, ok.headers["content-type"], ok.content) == (200, "application/json", b"{}")
    totals = host.telemetry.totals()
    assert totals is not None
    assert (totals.tokens, totals.requests, totals.sessions) == ({}, {}, {})
    assert totals.rejected_posts == len(cases) - 1  # the oversized body is refused by the server first
    assert host.telemetry.repo is not None
    assert set(host.telemetry.repo.counts().values()) == {0}
