"""Hook events POSTed to the real receiver: delivered once when good, counted and dropped when not."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from trayapp import runtime
from trayapp.core.sessions import HookEvent, HookEventName
from trayapp.services import hook_receiver
from trayapp.services.hook_receiver import HOOK_PATH, RunningReceiver, start_receiver
from trayapp.services.local_server import Request
from trayapp.store import local_endpoint
from trayapp.store.local_endpoint import LocalEndpoint

SID = "9d2c1a4e-0000-4c5e-9a61-2d4b8e6f1a01"


def event_body(name: str = "PermissionRequest", **extra: object) -> bytes:
    data: dict[str, object] = {
        "session_id": SID,
        "hook_event_name": name,
        "cwd": "/home/u/proj",
        "tool_name": "Bash",
        "tool_input": {"command": "git push"},
    }
    data.update(extra)
    return json.dumps(data).encode()


async def send(port: int, body: bytes, token: str | None) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    writer.write(
        f"POST {HOOK_PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"{auth}Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    status = int(head.split(b" ")[1])
    length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
    payload = await reader.readexactly(length)
    writer.close()
    return status, payload


@pytest.fixture
async def running(state_dir: Path) -> AsyncIterator[tuple[RunningReceiver, list[HookEvent]]]:
    got: list[HookEvent] = []
    started = await start_receiver(got.append)
    yield started, got
    await started.stop()


def token() -> str:
    endpoint = local_endpoint.load()
    assert endpoint is not None
    return endpoint.hook_token


async def test_a_good_event_is_answered_empty_and_delivered_once(
    running: tuple[RunningReceiver, list[HookEvent]],
) -> None:
    started, got = running
    status, payload = await send(started.port, event_body(), token())
    assert (status, payload) == (200, b"")
    await asyncio.sleep(0)  # delivery is on the next loop iteration, after the reply
    assert len(got) == 1
    assert got[0].event is HookEventName.PERMISSION_REQUEST
    assert got[0].message == "Bash: git push"
    stats = started.receiver.stats()
    assert stats.received == 1
    assert stats.last_event_name == "PermissionRequest"
    assert stats.last_event_at is not None


async def test_without_or_with_a_wrong_token_nothing_is_delivered(
    running: tuple[RunningReceiver, list[HookEvent]],
) -> None:
    started, got = running
    assert (await send(started.port, event_body(), None))[0] == 401
    assert (await send(started.port, event_body(), "x" * 43))[0] == 401
    await asyncio.sleep(0.01)
    assert got == []
    assert started.receiver.stats().received == 0
    assert dict(started.server.stats().refused)[401] == 2


async def test_malformed_and_oversized_bodies_are_counted_by_reason(
    running: tuple[RunningReceiver, list[HookEvent]],
) -> None:
    started, got = running
    status, payload = await send(started.port, b"{nope", token())
    assert status == 400
    assert payload == b"bad hook event: not_json\n"
    assert (await send(started.port, event_body("PreToolUse"), token()))[0] == 400
    assert (await send(started.port, event_body(session_id=""), token()))[0] == 400
    assert (await send(started.port, b"x" * (256 * 1024 + 1), token()))[0] == 413
    await asyncio.sleep(0.01)
    assert got == []
    assert dict(started.receiver.stats().rejected) == {
        "bad_session_id": 1,
        "not_json": 1,
        "unknown_event": 1,
    }


async def test_a_failing_app_handler_does_not_break_the_receiver(state_dir: Path) -> None:
    calls: list[HookEvent] = []

    def explode(event: HookEvent) -> None:
        calls.append(event)
        raise RuntimeError("app bug")

    started = await start_receiver(explode)
    try:
        for _ in range(2):
            assert (await send(started.port, event_body("Stop"), token()))[0] == 200
        await asyncio.sleep(0.01)
        assert len(calls) == 2
        assert started.receiver.health.failures == 2  # logged once, counted for doctor
    finally:
        await started.stop()


async def test_reply_does_not_wait_for_the_app(state_dir: Path) -> None:
    """on_event runs after the reply is on the wire: a slow app cannot hold Claude Code up."""
    done_at: list[float] = []

    def slow_app(_event: HookEvent) -> None:
        time.sleep(0.5)  # blocks the loop, as a slow handler would
        done_at.append(time.monotonic())

    started = await start_receiver(slow_app)
    body = event_body("Stop")
    raw = (
        f"POST {HOOK_PATH} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token()}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body

    def client() -> tuple[bytes, float]:
        with socket.create_connection(("127.0.0.1", started.port), timeout=5) as sock:
            sock.sendall(raw)
            reply = sock.recv(4096)
            return reply, time.monotonic()

    try:
        reply, replied_at = await runtime.run_blocking(client)
        assert reply.startswith(b"HTTP/1.1 200 ")
        assert done_at
        assert replied_at < done_at[0] - 0.3
    finally:
        await started.stop()


def test_endpoint_is_created_once_private_and_kept(state_dir: Path) -> None:
    first = local_endpoint.load_or_create()
    path = local_endpoint.default_path()
    assert path.parent == state_dir
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert local_endpoint.load_or_create() == first
    assert len(first.hook_token) >= 43
    assert first.hook_token not in repr(first)


def test_a_corrupt_endpoint_file_is_replaced_and_logged(
    state_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    first = local_endpoint.load_or_create()
    path = local_endpoint.default_path()
    for bad in (b"{not json", b'{"port": 80, "hook_token": "short"}', b"[1]"):
        path.write_bytes(bad)
        caplog.clear()
        fresh = local_endpoint.load_or_create()
        assert fresh.hook_token != first.hook_token
        assert "hooks --install" in caplog.text
        assert fresh.hook_token not in caplog.text
        assert local_endpoint.load() == fresh


async def test_a_taken_port_is_replaced_and_saved(state_dir: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        local_endpoint.save(LocalEndpoint(busy, "k" * 43))
        started = await hook_receiver.start_receiver(lambda _e: None)
        try:
            assert started.port_changed
            assert started.port != busy
            assert local_endpoint.load() == LocalEndpoint(started.port, "k" * 43)
        finally:
            await started.stop()


async def test_clock_is_the_receipt_time(state_dir: Path) -> None:
    pinned = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    got: list[HookEvent] = []
    receiver = hook_receiver.HookReceiver("z" * 43, got.append, clock=lambda: pinned)
    route = receiver.routes()[0]
    response = await route.handler(
        Request("POST", HOOK_PATH, {}, event_body("SessionStart", source="startup"))
    )
    assert response.status == 200
    await asyncio.sleep(0)
    assert got[0].received_at == pinned
    assert got[0].source == "startup"
