"""Strict ``Transfer-Encoding: chunked`` decoding for the local server (``services/local_server``).

Node's HTTP client (and so the OpenTelemetry JavaScript exporters Claude Code uses) sends request
bodies chunked, without ``Content-Length``. Only routes that take it (``Route.chunked``) read
one, through :func:`read_chunked`: hex sizes of at most 8 digits, a CRLF after every chunk,
trailers read and dropped, and a 413 as soon as the decoded body would pass the route's cap,
before the rest is read.
"""

from __future__ import annotations

import asyncio

_HEX = b"0123456789abcdefABCDEF"


class ChunkError(Exception):
    """The body is refused: answer ``status`` with ``text``."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


async def read_chunked(reader: asyncio.StreamReader, cap: int, max_trailers: int = 100) -> bytes:
    """The decoded body (the caller bounds the time it takes).

    Raises:
        ChunkError: a malformed chunk (400), a body over ``cap`` (413), too many trailers (431).
        asyncio.IncompleteReadError: the client went away mid-body.
    """
    parts: list[bytes] = []
    total = 0
    try:
        while True:
            line = await reader.readuntil(b"\r\n")
            size_text = line[:-2].split(b";", 1)[0].strip()
            if not size_text or len(size_text) > 8 or size_text.strip(_HEX):
                raise ChunkError(400, "bad chunk size")
            size = int(size_text, 16)
            if size == 0:
                break
            total += size
            if total > cap:
                raise ChunkError(413, f"body too large (at most {cap} bytes)")
            parts.append(await reader.readexactly(size))
            if await reader.readexactly(2) != b"\r\n":
                raise ChunkError(400, "bad chunk end")
        for _ in range(max_trailers):
            if await reader.readuntil(b"\r\n") == b"\r\n":
                return b"".join(parts)
    except asyncio.LimitOverrunError:
        raise ChunkError(400, "bad chunk line") from None
    raise ChunkError(431, "too many trailer lines")
