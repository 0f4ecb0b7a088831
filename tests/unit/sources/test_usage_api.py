"""The usage client against a real loopback HTTP server (the demo simulator, scripted)."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from tests.helpers.fixtures_usage import TOKEN
from trayapp.core.models import ErrorKind
from trayapp.demo import DemoHandle
from trayapp.sources.usage_api import (
    DEFAULT_RETRY_AFTER,
    FetchResult,
    UsageClient,
    api_base,
    parse_retry_after,
)

NOW = datetime(2026, 8, 10, 12, 0, tzinfo=UTC)


async def fetch(server: DemoHandle, total_timeout: float = 10.0) -> FetchResult:
    client = UsageClient(server.base_url, version="2.1.220", total_timeout=total_timeout)
    try:
        return await client.fetch(TOKEN, NOW)
    finally:
        await client.aclose()


async def test_200_parses_and_sends_claude_code_headers(usage_server: DemoHandle, oauth_dir: Path) -> None:
    usage_server.simulator.script.append((200, (oauth_dir / "usage-response-2026-08.json").read_bytes(), {}))
    result = await fetch(usage_server)
    assert result.error is None
    assert result.http_status == 200
    assert result.snapshot.window("five_hour").utilization == 37.0
    req = usage_server.simulator.requests[-1]
    headers = {k.lower(): v for k, v in req["headers"].items()}
    assert req["path"] == "/api/oauth/usage"
    assert headers["authorization"] == f"Bearer {TOKEN}"
    assert headers["anthropic-beta"] == "oauth-2025-04-20"
    assert headers["user-agent"] == "claude-code/2.1.220"
    assert headers["accept"] == "application/json"
    assert headers["content-type"] == "application/json"


async def test_live_simulator_reading(usage_server: DemoHandle) -> None:
    result = await fetch(usage_server)
    snap = result.snapshot
    assert snap is not None
    assert snap is not None
    assert "weekly_scoped:Fable 5" in [w.id for w in snap.windows]


async def test_429_retry_after_seconds(usage_server: DemoHandle) -> None:
    usage_server.simulator.script.append((429, {"error": "rate"}, {"Retry-After": "1800"}))
    result = await fetch(usage_server)
    err = result.error
    assert err is not None
    assert err.kind is ErrorKind.RATE_LIMITED
    assert err.retry_at == NOW + timedelta(seconds=1800)
    assert result.http_status == 429


async def test_429_retry_after_http_date(usage_server: DemoHandle) -> None:
    when = NOW + timedelta(minutes=42)
    usage_server.simulator.script.append(
        (429, {"error": "rate"}, {"Retry-After": format_datetime(when, usegmt=True)})
    )
    result = await fetch(usage_server)
    assert result.error.retry_at == when


@pytest.mark.parametrize("value", ["0", "", "soon", "-3"])
def test_retry_after_zero_missing_or_garbage_means_five_minutes(value: str) -> None:
    assert parse_retry_after(value, NOW) == NOW + DEFAULT_RETRY_AFTER
    assert parse_retry_after(None, NOW) == NOW + DEFAULT_RETRY_AFTER


@pytest.mark.parametrize(
    ("status", "kind", "words"),
    [
        (401, ErrorKind.AUTH, "Open Claude Code once"),
        (403, ErrorKind.AUTH, "user:profile"),
        (500, ErrorKind.SERVER, "server error (500)"),
        (503, ErrorKind.SERVER, "server error (503)"),
        (404, ErrorKind.BAD_RESPONSE, "unexpected status 404"),
    ],
)
async def test_error_statuses(usage_server: DemoHandle, status: int, kind: ErrorKind, words: str) -> None:
    usage_server.simulator.script.append((status, {"type": "error"}, {}))
    result = await fetch(usage_server)
    err = result.error
    assert err is not None
    assert err.kind is kind
    assert words in err.message
    assert TOKEN not in err.message


async def test_html_body_is_bad_response(usage_server: DemoHandle) -> None:
    usage_server.simulator.script.append((200, b"<html><body>Just a moment...</body></html>", {}))
    result = await fetch(usage_server)
    assert result.error.kind is ErrorKind.BAD_RESPONSE
    assert "web page" in result.error.message


async def test_slower_than_timeout_is_network(usage_server: DemoHandle) -> None:
    usage_server.simulator.delay = 1.5
    result = await fetch(usage_server, total_timeout=0.5)
    err = result.error
    assert err is not None
    assert err.kind is ErrorKind.NETWORK
    assert "did not answer within 0.5 s" in err.message


async def test_connection_refused_is_network() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = UsageClient(f"http://127.0.0.1:{port}")
    try:
        result = await client.fetch(TOKEN, NOW)
    finally:
        await client.aclose()
    assert result.error is not None
    assert result.error.kind is ErrorKind.NETWORK
    assert "Cannot reach" in result.error.message


def test_base_url_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLAUDE_WATCH_API_BASE", "http://127.0.0.1:5555/")
    assert api_base() == "http://127.0.0.1:5555"
    monkeypatch.delenv("CLAUDE_WATCH_API_BASE")
    assert api_base() == "https://api.anthropic.com"


async def test_credentials_file_byte_identical_after_fetches(
    usage_server: DemoHandle, claude_dir: Path
) -> None:
    from trayapp.services.usage_engine import create_engine

    path = claude_dir / ".credentials.json"
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    engine = create_engine(probe_version=False)
    engine.client.base_url = usage_server.base_url
    try:
        state = await engine.poll(manual=True)
    finally:
        await engine.aclose()
    assert state.error is None
    assert state.snapshot is not None
    usage_server.simulator.script.append((401, {"type": "error"}, {}))
    engine = create_engine(probe_version=False)
    engine.client.base_url = usage_server.base_url
    engine.policy.last_attempt = None
    try:
        state = await engine.poll(manual=True)
    finally:
        await engine.aclose()
    assert state.error is not None
    assert state.error.kind is ErrorKind.AUTH
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before
