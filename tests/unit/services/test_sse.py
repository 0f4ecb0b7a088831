"""``GET /v1/events`` on a real server: the first messages, fan-out to 100 clients, keep-alive,
the client cap, and a stalled client dropped without holding up anyone else."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.helpers.states import account_state, window_state
from tests.unit.services.test_local_api import TOKEN, sources
from trayapp.services.local_api import LocalApi
from trayapp.services.local_server import Limits, LocalServer
from trayapp.services.sse import Broadcaster, encode

AUTH = {"Authorization": f"Bearer {TOKEN}"}


async def start(broadcaster: Broadcaster) -> tuple[LocalApi, LocalServer, str]:
    api = LocalApi(sources(), token=TOKEN, broadcaster=broadcaster)
    server = LocalServer(api.routes(), limits=Limits(read_timeout=2.0, max_connections=16))
    api.port = await server.start()
    return api, server, f"http://127.0.0.1:{api.port}"


@pytest.fixture
async def served() -> AsyncIterator[tuple[LocalApi, LocalServer, str]]:
    api, server, base = await start(Broadcaster(max_clients=128))
    yield api, server, base
    await server.stop()


async def events(response: httpx.Response) -> AsyncIterator[tuple[str, object]]:
    """(event, data) pairs, and ("comment", text) for comment lines."""
    name = None
    async for line in response.aiter_lines():
        if line.startswith(":"):
            yield "comment", line[1:].strip()
        elif line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: ") and name is not None:
            yield name, json.loads(line[6:])


async def first_status(base: str, got: asyncio.Queue[float], want: float, ready: asyncio.Event) -> None:
    """Read until a status whose five-hour use is ``want`` arrives; report it on ``got``."""
    async with httpx.AsyncClient(base_url=base, timeout=10) as c:
        async with c.stream("GET", "/v1/events", headers=AUTH) as r:
            assert r.status_code == 200
            assert r.headers["content-type"].startswith("text/event-stream")
            assert r.headers["cache-control"] == "no-store"
            assert "content-length" not in r.headers
            async for name, data in events(r):
                if name == "status":
                    ready.set()
                    assert isinstance(data, dict)
                    use = data["windows"][0]["utilization"]
                    if use == want:
                        await got.put(use)
                        return


async def test_a_new_client_gets_the_current_status_and_sessions_first(served) -> None:  # type: ignore[no-untyped-def]
    api, _server, base = served
    api.publish_state(account_state(window_state("five_hour", 11.0)))
    api.publish_sessions({"schema_version": 1, "sessions": []})
    async with httpx.AsyncClient(base_url=base, timeout=5) as c:
        async with c.stream("GET", "/v1/events", headers=AUTH) as r:
            seen: list[str] = []
            async for name, data in events(r):
                seen.append(name)
                if name == "status":
                    assert data["schema_version"] == 1  # type: ignore[index]
                    assert data["windows"][0]["utilization"] == 11.0  # type: ignore[index]
                if {"status", "sessions"} <= set(seen):
                    break


async def test_a_hundred_clients_each_receive_a_change(served) -> None:  # type: ignore[no-untyped-def]
    api, _server, base = served
    api.publish_state(account_state(window_state("five_hour", 10.0)))
    got: asyncio.Queue[float] = asyncio.Queue()
    readies = [asyncio.Event() for _ in range(100)]
    tasks = [asyncio.create_task(first_status(base, got, 55.0, ready)) for ready in readies]
    # 60 s: liveness guards for a loaded 2-core machine, not a speed claim.
    await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 60)
    assert api.events.clients == 100
    api.publish_state(account_state(window_state("five_hour", 55.0)))
    await asyncio.wait_for(asyncio.gather(*tasks), 60)
    assert got.qsize() == 100


async def test_the_same_document_is_not_sent_twice() -> None:
    b = Broadcaster()
    assert b.publish("status", {"a": 1})
    assert not b.publish("status", {"a": 1})
    assert b.publish("status", {"a": 2})
    assert encode("status", {"a": 1}) == b'event: status\ndata: {"a":1}\n\n'


async def test_keep_alive_comments_while_nothing_changes() -> None:
    api, server, base = await start(Broadcaster(keep_alive=0.05))
    try:
        async with httpx.AsyncClient(base_url=base, timeout=5) as c:
            async with c.stream("GET", "/v1/events", headers=AUTH) as r:
                async for name, data in events(r):
                    if name == "comment" and data == "keep-alive":
                        break
    finally:
        await server.stop()


async def test_clients_beyond_the_cap_get_503() -> None:
    api, server, base = await start(Broadcaster(max_clients=2))
    try:
        async with httpx.AsyncClient(base_url=base, timeout=5) as c:
            async with (
                c.stream("GET", "/v1/events", headers=AUTH) as a,
                c.stream("GET", "/v1/events", headers=AUTH) as b,
            ):
                assert a.status_code == b.status_code == 200
                third = await c.get("/v1/events", headers=AUTH)
                assert third.status_code == 503
    finally:
        await server.stop()


async def test_events_need_the_token(served) -> None:  # type: ignore[no-untyped-def]
    _api, _server, base = served
    async with httpx.AsyncClient(base_url=base, timeout=5) as c:
        assert (await c.get("/v1/events")).status_code == 401
        web = await c.get("/v1/events", headers={**AUTH, "Origin": "https://evil.example"})
        assert web.status_code == 403


async def test_a_stalled_client_is_dropped_and_holds_up_nobody() -> None:
    api, server, base = await start(Broadcaster(queue_size=4, write_timeout=30.0))
    stalled = socket.socket()
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    try:
        stalled.connect(("127.0.0.1", api.port or 0))
        stalled.sendall(
            f"GET /v1/events HTTP/1.1\r\nHost: 127.0.0.1:{api.port}\r\n"
            f"Authorization: Bearer {TOKEN}\r\n\r\n".encode()
        )
        for _ in range(100):  # the stalled client is registered
            if api.events.clients == 1:
                break
            await asyncio.sleep(0.01)
        assert api.events.clients == 1
        got: asyncio.Queue[float] = asyncio.Queue()
        ready = asyncio.Event()
        reader = asyncio.create_task(first_status(base, got, 99.0, ready))
        api.publish_state(account_state(window_state("five_hour", 1.0)))
        await asyncio.wait_for(ready.wait(), 5)
        # Big changes, faster than a client that never reads can take them: it must go, the
        # reading one must get every change, and publishing must never wait.
        padding = "x" * 256 * 1024
        loop = asyncio.get_running_loop()
        for i in range(40):
            started = loop.time()
            api.events.publish("status", {"windows": [{"utilization": 2.0 + i}], "pad": padding})
            assert loop.time() - started < 0.5
            await asyncio.sleep(0.01)
        api.publish_state(account_state(window_state("five_hour", 99.0)))
        assert await asyncio.wait_for(got.get(), 10) == 99.0
        await asyncio.wait_for(reader, 5)
        assert api.events.dropped == 1  # the stalled one; the reader's stream ends at its next write
        assert api.events.clients <= 1
    finally:
        stalled.close()
        await server.stop()
