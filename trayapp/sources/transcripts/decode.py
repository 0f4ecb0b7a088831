"""Byte-level reader of Claude Code transcripts: finds usage lines and turns them into compact records.

This module is what the scan workers import, so it stays light (msgspec and the standard library).
A range of a file is read in chunks; only lines containing the ``"usage":`` marker are decoded, and
only the fields accounting needs are materialised (msgspec skips everything else without building
it). A line that is not newline-terminated is consumed only when it parses as a complete JSON object,
so a line still being written is picked up whole on a later scan. Malformed candidate lines are
skipped and counted; invalid UTF-8 costs at most the line it sits in.

A record is a plain tuple (cheap to pickle between processes), see :data:`RECORD_FIELDS`.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any, BinaryIO, Literal

import msgspec

# Order of the fields in a record tuple.
RECORD_FIELDS = (
    "gkey",  # dedup group: message.id, or message.id+sessionId+timestamp without requestId
    "req",  # requestId ("" when absent)
    "side",  # 1 for sidechain lines
    "ts",  # epoch milliseconds (UTC)
    "session",
    "cwd",
    "model",
    "inp",
    "out",
    "cc5",  # 5-minute cache writes (all writes when the split is absent)
    "cc1",  # 1-hour cache writes
    "cr",
    "fast",  # 1 when usage.speed == "fast"
    "cost",  # costUSD written by Claude Code <= 1.0.8, else None
)
Record = tuple[str, str, int, int, str, str, str, int, int, int, int, int, int, float | None]

MARKER = b'"usage":'
CHUNK = 4 * 1024 * 1024
SYNTHETIC = "<synthetic>"


class _CacheCreation(msgspec.Struct):
    ephemeral_5m_input_tokens: int | float | None = None
    ephemeral_1h_input_tokens: int | float | None = None


class _Usage(msgspec.Struct):
    input_tokens: int | float | None = None
    output_tokens: int | float | None = None
    cache_creation_input_tokens: int | float | None = None
    cache_read_input_tokens: int | float | None = None
    cache_creation: _CacheCreation | None = None
    speed: str | None = None


class _Message(msgspec.Struct):
    id: str | None = None
    model: str | None = None
    usage: _Usage | None = None


class _Line(msgspec.Struct):
    type: str | None = None
    timestamp: str | None = None
    sessionId: str | None = None  # noqa: N815 (wire name)
    cwd: str | None = None
    requestId: str | None = None  # noqa: N815
    isSidechain: bool | None = None  # noqa: N815
    message: _Message | None = None
    costUSD: float | None = None  # noqa: N815


_DECODER = msgspec.json.Decoder(_Line)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class RangeResult(msgspec.Struct, array_like=True):
    """What a worker returns for one byte range of one file."""

    index: int  # the caller's file index
    records: list[Record]
    end_offset: int  # offset just past the last consumed line
    malformed: int  # candidate lines that could not be decoded
    bytes_read: int
    last: bool  # the range that ends the file (its end_offset is the file's new offset)


def parse_timestamp_ms(text: str) -> int | None:
    """ISO-8601 (``Z`` or offset; naive means UTC) -> epoch milliseconds, None when unparseable."""
    try:
        dt = datetime.fromisoformat(text)
    except (ValueError, TypeError):
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    delta = dt - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def _n(value: int | float | None) -> int:
    if value is None or value != value or value < 0:  # None, NaN, negative -> 0
        return 0
    return int(value)


def decode_line(raw: bytes, offset: int, path: str, session_hint: str) -> Record | None | Literal[False]:
    """Decode one candidate line. Returns a record, None when the line carries no billable usage,
    or False when the line is malformed (not JSON, or an assistant line of the wrong shape)."""
    try:
        line = _DECODER.decode(raw)
    except msgspec.ValidationError:
        return _validation_failure(raw)
    except msgspec.DecodeError:
        return False
    except UnicodeDecodeError:
        # Invalid UTF-8 inside a field we read: keep the line with the bad bytes replaced.
        try:
            line = _DECODER.decode(raw.decode("utf-8", "replace").encode())
        except (msgspec.DecodeError, msgspec.ValidationError):
            return False
    msg = line.message
    if msg is None or msg.usage is None:
        return None
    if line.type is not None and line.type != "assistant":
        return None
    model = msg.model or ""
    if model == SYNTHETIC:
        return None
    ts = parse_timestamp_ms(line.timestamp) if line.timestamp else None
    if ts is None:
        return None
    u = msg.usage
    cc5 = cc1 = 0
    split = u.cache_creation
    if split is not None:
        cc5 = _n(split.ephemeral_5m_input_tokens)
        cc1 = _n(split.ephemeral_1h_input_tokens)
    if cc5 + cc1 == 0:
        # No usable split: every cache write is priced at the 5-minute rate (as ccusage does).
        cc5, cc1 = _n(u.cache_creation_input_tokens), 0
    session = line.sessionId or session_hint
    mid = msg.id or ""
    req = line.requestId or ""
    if not mid:
        gkey = f"\x00{path}\x00{offset}"  # no message id: never deduplicated
    elif req:
        gkey = mid
    else:
        gkey = f"{mid}\x1f{session}\x1f{line.timestamp}"
    return (
        gkey,
        req,
        1 if line.isSidechain else 0,
        ts,
        session,
        line.cwd or "",
        model or "unknown",
        _n(u.input_tokens),
        _n(u.output_tokens),
        cc5,
        cc1,
        _n(u.cache_read_input_tokens),
        1 if u.speed == "fast" else 0,
        line.costUSD,
    )


def _validation_failure(raw: bytes) -> Literal[False] | None:
    """A line that is JSON but not of the expected shape: malformed only if it claims to be an
    assistant line (user lines with odd ``toolUseResult`` shapes are simply not usage)."""
    try:
        obj: Any = msgspec.json.decode(raw)
    except (msgspec.DecodeError, UnicodeDecodeError):
        return False
    if isinstance(obj, dict) and obj.get("type") in (None, "assistant"):
        return False
    return None


def _is_complete_json(raw: bytes) -> bool:
    if not raw.strip():
        return False
    try:
        msgspec.json.decode(raw)
    except (msgspec.DecodeError, UnicodeDecodeError):
        return False
    return True


def scan_range(index: int, path: str, start: int, end: int, session_hint: str, last: bool) -> RangeResult:
    """Decode the usage lines that START in ``[start, end)`` of ``path``.

    Callers may split a file at any offset: when ``start`` is not at a line start, the partial line
    belongs to the previous range and is skipped; the line that starts before ``end`` is read to its
    end. With ``last`` set the range runs to the real end of file (bytes appended since the caller's
    stat are taken too) and the returned ``end_offset`` is just past the last consumed line.
    """
    records: list[Record] = []
    malformed = 0
    bytes_read = 0
    with open(path, "rb", buffering=0) as fh:
        pos0 = start
        if start > 0 and not _at_line_start(fh, start):
            fh.seek(start)
            skip = _skip_to_newline(fh)
            if skip >= 0:
                pos0 = start + skip
            elif last:
                # The file ends in an unterminated line that began in an earlier range (which only
                # takes complete lines): this range owns it.
                pos0 = _line_start_before(fh, start)
            else:
                return RangeResult(index, records, -1, 0, 0, last)
        fh.seek(pos0)
        base = pos0  # file offset of buf[0]
        buf = b""
        while True:
            chunk = fh.read(CHUNK)
            if chunk:
                bytes_read += len(chunk)
                buf = buf + chunk if buf else chunk
            cut = buf.rfind(b"\n") + 1  # complete lines end here
            done = not chunk or (not last and base + cut >= end)
            pos = 0
            find = buf.find
            while True:
                i = find(MARKER, pos, cut)
                if i < 0:
                    break
                ls = buf.rfind(b"\n", 0, i) + 1
                if not last and base + ls >= end:
                    break
                le = find(b"\n", i, cut)
                rec = decode_line(buf[ls:le], base + ls, path, session_hint)
                if rec is False:
                    malformed += 1
                elif rec is not None:
                    records.append(rec)
                pos = le + 1
            base += cut
            buf = buf[cut:]
            if done:
                break
        # What is left has no newline: the unterminated last line, taken only when complete JSON.
        if last and buf and _is_complete_json(buf):
            if MARKER in buf:
                rec = decode_line(buf, base, path, session_hint)
                if rec is False:
                    malformed += 1
                elif rec is not None:
                    records.append(rec)
            base += len(buf)
    return RangeResult(index, records, base if last else -1, malformed, bytes_read, last)


def _at_line_start(fh: BinaryIO, start: int) -> bool:
    """True when ``start`` is at a line start (the byte before it is a newline)."""
    fh.seek(start - 1)
    return bool(fh.read(1) == b"\n")


def _line_start_before(fh: BinaryIO, pos: int) -> int:
    """Offset of the start of the line containing ``pos`` (searching backwards)."""
    while pos > 0:
        lo = max(0, pos - 65536)
        fh.seek(lo)
        block = fh.read(pos - lo)
        j = block.rfind(b"\n")
        if j >= 0:
            return lo + j + 1
        pos = lo
    return 0


def _skip_to_newline(fh: BinaryIO) -> int:
    """Bytes from the current position to just past the next newline, or -1 at end of file."""
    skipped = 0
    while True:
        block: bytes = fh.read(65536)
        if not block:
            return -1
        j = block.find(b"\n")
        if j >= 0:
            return skipped + j + 1
        skipped += len(block)


def scan_many(tasks: list[tuple[int, str, int, int, str, bool]]) -> list[RangeResult]:
    """Worker entry point: several (small) ranges in one round trip."""
    return [scan_range(*task) for task in tasks]


def file_identity(path: str) -> tuple[int, int, int, int]:
    """(device, inode, size, mtime_ns) of ``path``."""
    st = os.stat(path)
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns
