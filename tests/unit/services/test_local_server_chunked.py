"""Chunked request bodies on routes that take them (Node's OTLP exporters send bodies so): decoded
strictly, capped as they arrive, refused everywhere else. Real sockets."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from trayapp import runtime
from trayapp.services.local_server import Limits, LocalServer, Request, Response, Route

TOKEN = "t0ken-for-tests-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
seen: list[bytes] = []


async def echo(request: Request) -> Response:
    seen.append(request.body)
    return Response(200, request.body, "application/octet-stream")


@pytest.fixture
async def server() -> AsyncIterator[LocalServer]:
    seen.clear()
    routes = [
        Route("POST", "/chunks", echo, token=TOKEN, max_body=64, chunked=True),
        Route("POST", "/plain", echo, token=TOKEN, max_body=64),
    ]
    srv = LocalServer(routes, limits=Limits(read_timeout=0.5), health=runtime.LoopHealth("test-chunked"))
    await srv.start()
    yield srv
    await srv.stop()


def head(path: str, port: int, *, token: str | None = TOKEN, extra: str = "") -> bytes:
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{auth}Transfer-Encoding: chunked\r\n{extra}\r\n"
    ).encode()


async def send(port: int, raw: bytes) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(raw)
        await writer.drain()
        reply = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        lines = reply.decode("latin-1").split("\r\n")
        fields = (x.partition(":") for x in lines)
        length = next(int(v) for k, _, v in fields if k.lower() == "content-length")
        return int(lines[0].split(" ")[1]), await reader.readexactly(length)
    finally:
        writer.close()


async def test_a_chunked_body_is_decoded_with_extensions_and_trailers(server: LocalServer) -> None:
    port = server.port
    assert port
    body = b"5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: yes\r\n\r\n"
    assert await send(port, head("/chunks", port) + body) == (200, b"hello, world")
    assert await send(port, head("/chunks", port) + b"0\r\n\r\n") == (200, b"")


async def test_chunked_is_refused_where_not_taken_and_with_content_length(server: LocalServer) -> None:
    port = server.port
    assert port
    assert (await send(port, head("/plain", port) + b"2\r\nhi\r\n0\r\n\r\n"))[0] == 411
    both = head("/chunks", port, extra="Content-Length: 2\r\n") + b"2\r\nhi\r\n0\r\n\r\n"
    assert (await send(port, both))[0] == 400
    gzip_coding = head("/chunks", port).replace(b"chunked", b"gzip, chunked")
    assert (await send(port, gzip_coding + b"0\r\n\r\n"))[0] == 411
    assert seen == []


async def test_malformed_oversized_and_unauthenticated_chunks_are_refused(server: LocalServer) -> None:
    port = server.port
    assert port
    assert (await send(port, head("/chunks", port) + b"zz\r\nhi\r\n0\r\n\r\n"))[0] == 400
    assert (await send(port, head("/chunks", port) + b"2\r\nhiXX0\r\n\r\n"))[0] == 400
    assert (await send(port, head("/chunks", port) + b"123456789\r\n"))[0] == 400
    over = b"".join(b"20\r\n" + b"x" * 32 + b"\r\n" for _ in range(3)) + b"0\r\n\r\n"
    assert (await send(port, head("/chunks", port) + over))[0] == 413
    assert (await send(port, head("/chunks", port, token=None) + b"2\r\nhi\r\n0\r\n\r\n"))[0] == 401
    assert seen == []
