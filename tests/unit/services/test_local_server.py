"""The local HTTP server against real sockets: what it answers, what it refuses, who it drops."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator

import pytest

from trayapp import runtime
from trayapp.services.local_server import Limits, LocalServer, Request, Response, Route

TOKEN = "t0ken-for-tests-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"


async def echo(request: Request) -> Response:
    return Response(200, request.body, "application/octet-stream")


async def boom(_request: Request) -> Response:
    raise RuntimeError("handler bug")


ROUTES = [
    Route("POST", "/echo", echo, token=TOKEN, max_body=1024),
    Route("GET", "/open", echo, token=None),
    Route("POST", "/boom", boom, token=None, max_body=10),
]


@pytest.fixture
async def server() -> AsyncIterator[LocalServer]:
    limits = Limits(read_timeout=0.5, max_connections=16, max_waiting=300)
    srv = LocalServer(ROUTES, limits=limits, health=runtime.LoopHealth("test-local-server"))
    await srv.start()
    yield srv
    await srv.stop()


async def exchange(port: int, raw: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send ``raw`` on a fresh connection and read one whole reply."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(raw)
        await writer.drain()
        return await read_reply(reader)
    finally:
        writer.close()


async def read_reply(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
    body = await reader.readexactly(int(headers["content-length"]))
    return status, headers, body


def post(path: str, body: bytes, *, port: int, token: str | None = TOKEN, extra: str = "") -> bytes:
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{auth}Content-Length: {len(body)}\r\n{extra}\r\n"
    ).encode() + body


async def test_token_route_answers_with_the_right_token_only(server: LocalServer) -> None:
    port = server.port
    assert port
    status, headers, body = await exchange(port, post("/echo", b"hi", port=port))
    assert (status, body) == (200, b"hi")
    assert headers["cache-control"] == "no-store"
    assert headers["content-length"] == "2"
    assert not [h for h in headers if h.startswith("access-control")]
    assert (await exchange(port, post("/echo", b"hi", port=port, token=None)))[0] == 401
    wrong = await exchange(port, post("/echo", b"hi", port=port, token=TOKEN + "x"))
    assert wrong[0] == 401
    assert wrong[1]["www-authenticate"] == "Bearer"
    assert (await exchange(port, post("/echo", b"hi", port=port, token=TOKEN[:-1])))[0] == 401


async def test_token_in_the_query_string_is_refused(server: LocalServer) -> None:
    port = server.port
    assert port
    assert (await exchange(port, post(f"/echo?token={TOKEN}", b"x", port=port, token=None)))[0] == 400
    assert (await exchange(port, post(f"/echo?access_token={TOKEN}", b"x", port=port)))[0] == 400


async def test_size_method_path_and_framing_errors(server: LocalServer) -> None:
    port = server.port
    assert port
    assert (await exchange(port, post("/echo", b"x" * 1025, port=port)))[0] == 413
    assert (await exchange(port, post("/nowhere", b"x", port=port)))[0] == 404
    wrong_method = await exchange(port, f"GET /echo HTTP/1.1\r\nHost: localhost:{port}\r\n\r\n".encode())
    assert wrong_method[0] == 405
    assert wrong_method[1]["allow"] == "POST"
    no_length = f"POST /echo HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {TOKEN}\r\n\r\n"
    assert (await exchange(port, no_length.encode()))[0] == 411
    chunked = post("/echo", b"", port=port, extra="Transfer-Encoding: chunked\r\n")
    assert (await exchange(port, chunked))[0] == 411
    assert (await exchange(port, b"GARBAGE\r\n\r\n"))[0] == 400
    assert (await exchange(port, f"GET /open HTTP/2\r\nHost: localhost:{port}\r\n\r\n".encode()))[0] == 505
    folded = f"GET /open HTTP/1.1\r\nHost: localhost:{port}\r\n X-Folded: yes\r\n\r\n"
    assert (await exchange(port, folded.encode()))[0] == 400
    twice = post("/echo", b"ab", port=port, extra="Content-Length: 1\r\n")
    assert (await exchange(port, twice))[0] == 400
    huge = f"GET /open HTTP/1.1\r\nHost: localhost\r\nX-Big: {'a' * 20000}\r\n\r\n"
    assert (await exchange(port, huge.encode()))[0] == 431
    many = "".join(f"X-{i}: v\r\n" for i in range(101))
    assert (await exchange(port, f"GET /open HTTP/1.1\r\nHost: localhost\r\n{many}\r\n".encode()))[0] == 431


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", 200),
        ("LOCALHOST:{port}", 200),
        ("[::1]:{port}", 200),
        ("evil.example:{port}", 421),
        ("127.0.0.1:1", 421),
        ("127.0.0.1.nip.io", 421),
    ],
)
async def test_only_loopback_host_names_are_answered(server: LocalServer, host: str, expected: int) -> None:
    port = server.port
    assert port
    request = f"GET /open HTTP/1.1\r\nHost: {host.format(port=port)}\r\n\r\n".encode()
    assert (await exchange(port, request))[0] == expected
    assert (await exchange(port, b"GET /open HTTP/1.1\r\n\r\n"))[0] == 400  # no Host at all


async def test_health_is_open_and_says_who_it_is(server: LocalServer) -> None:
    port = server.port
    assert port
    status, headers, body = await exchange(port, b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n")
    assert status == 200
    assert headers["content-type"] == "application/json"
    assert json.loads(body) == {"ok": True, "app": "claude-watch"}


async def test_handler_exception_is_a_500_and_reported_once(server: LocalServer) -> None:
    port = server.port
    assert port
    for _ in range(3):
        status, _, body = await exchange(port, post("/boom", b"x", port=port, token=None))
        assert status == 500
        assert b"handler bug" not in body
    assert server.health.failures == 3
    assert server.health.streak == 3
    assert dict(server.stats().refused)[500] == 3


async def test_keep_alive_serves_two_requests_on_one_connection(server: LocalServer) -> None:
    port = server.port
    assert port
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(post("/echo", b"one", port=port) + post("/echo", b"two", port=port))
        first = await read_reply(reader)
        second = await read_reply(reader)
        assert (first[0], first[2], first[1]["connection"]) == (200, b"one", "keep-alive")
        assert first[1]["keep-alive"] == "timeout=1"  # the client closes idle sockets first
        assert (second[0], second[2]) == (200, b"two")
        writer.write(post("/echo", b"3", port=port, extra="Connection: close\r\n"))
        third = await read_reply(reader)
        assert third[1]["connection"] == "close"
        assert await asyncio.wait_for(reader.read(), 2) == b""  # closed by the server
    finally:
        writer.close()


async def test_slow_client_is_dropped_without_blocking_others(server: LocalServer) -> None:
    port = server.port
    assert port
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"POST /echo HTTP/1.1\r\nHost: localhost\r\n")  # ... and never finishes the head
    await writer.drain()
    started = time.monotonic()
    for _ in range(5):
        assert (await exchange(port, post("/echo", b"ok", port=port)))[0] == 200
    assert time.monotonic() - started < 0.4  # the others did not wait for the slow one
    assert await asyncio.wait_for(reader.read(), 3) == b""  # dropped after read_timeout
    assert time.monotonic() - started >= 0.4
    writer.close()
    # a body that never arrives is dropped the same way
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(post("/echo", b"", port=port).replace(b"Content-Length: 0", b"Content-Length: 10"))
    assert await asyncio.wait_for(reader.read(), 3) == b""
    writer.close()


async def test_two_hundred_concurrent_posts_all_answered(server: LocalServer) -> None:
    port = server.port
    assert port
    results = await asyncio.gather(
        *(exchange(port, post("/echo", str(i).encode(), port=port)) for i in range(200))
    )
    assert [r[0] for r in results] == [200] * 200
    assert [r[2] for r in results] == [str(i).encode() for i in range(200)]


async def test_connections_beyond_the_cap_get_a_503() -> None:
    limits = Limits(read_timeout=0.5, max_connections=1, max_waiting=0)
    srv = LocalServer(ROUTES, limits=limits)
    port = await srv.start()
    try:
        holder = await asyncio.open_connection("127.0.0.1", port)
        await asyncio.sleep(0.05)
        assert (await exchange(port, b"GET /open HTTP/1.1\r\nHost: localhost\r\n\r\n"))[0] == 503
        holder[1].close()
    finally:
        await srv.stop()


async def test_refuses_non_loopback_and_falls_back_when_the_port_is_taken() -> None:
    with pytest.raises(ValueError, match="loopback"):
        LocalServer(ROUTES, host="0.0.0.0")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        srv = LocalServer(ROUTES, port=busy)
        port = await srv.start()
        try:
            assert port != busy
            assert (await exchange(port, b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n"))[0] == 200
        finally:
            await srv.stop()


async def test_a_connection_beyond_the_served_cap_waits_for_a_slot() -> None:
    limits = Limits(read_timeout=2.0, max_connections=1, max_waiting=5)
    srv = LocalServer(ROUTES, limits=limits)
    port = await srv.start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /open HTTP/1.1\r\nHost: localhost\r\n\r\n")
        assert (await read_reply(reader))[0] == 200  # served and kept alive: it holds the slot
        asyncio.get_running_loop().call_later(0.2, writer.close)
        started = time.monotonic()
        status = (await exchange(port, b"GET /open HTTP/1.1\r\nHost: localhost\r\n\r\n"))[0]
        assert status == 200
        assert time.monotonic() - started >= 0.15  # it waited for the first one to go
    finally:
        await srv.stop()


@pytest.mark.parametrize("turns", range(7))
async def test_a_connection_accepted_just_before_stop_is_closed_by_stop(turns: int) -> None:
    # The accept takes a few loop turns before the connection's task registers; stop() used to
    # miss a connection caught in between, leaving its socket open (a ResourceWarning in CI).
    srv = LocalServer(ROUTES, limits=Limits(read_timeout=30.0), health=runtime.LoopHealth("t"))
    port = await srv.start()
    loop = asyncio.get_running_loop()
    client = socket.socket()
    client.setblocking(False)
    with client:
        await loop.sock_connect(client, ("127.0.0.1", port))
        for _ in range(turns):
            await asyncio.sleep(0)
        await srv.stop()
        async with asyncio.timeout(3.0):  # far below read_timeout: stop() closed it, not the timer
            while await loop.sock_recv(client, 4096):
                pass
