"""Byte-level reader of Claude Code transcripts: finds usage lines and turns them into compact records.

This module is what the scan workers import, so it stays light (msgspec and the standard library).
A range of a file is searched through read-only memory-map windows; only lines containing the
``"input_tokens"`` key (present in every usage object that counts) are decoded, and only the fields
accounting needs are materialised (msgspec skips everything else without building it). A line
that is not newline-terminated is consumed only when it parses as a complete JSON object, so a
line still being written is picked up whole on a later scan. Malformed candidate lines are skipped
and counted; invalid UTF-8 costs at most the line it sits in.

A record is a plain tuple (cheap to pickle between processes), see :data:`RECORD_FIELDS`.
"""

from __future__ import annotations

import mmap
import os
from datetime import UTC, datetime
from typing import Any, BinaryIO, Literal

import msgspec

from trayapp.core.ledger import Row, merge_into

# Order of the fields in a record tuple.
RECORD_FIELDS = (
    "gkey",  # dedup group: message.id ("\0path\0offset" without one)
    "req",  # requestId; without one, "\x1f" + sessionId + input-side counts
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

# Every line ccusage or we count has ``message.usage.input_tokens``; this key is a faster needle than
# ``"usage":`` (its last byte is rarer in JSON, so the search skips further) and is spacing-proof.
MARKER = b'"input_tokens"'
WINDOW = 16 * 1024 * 1024  # bytes mapped at a time per worker
SYNTHETIC = "<synthetic>"


class _CacheCreation(msgspec.Struct):
    ephemeral_5m_input_tokens: int = 0
    ephemeral_1h_input_tokens: int = 0


class _Usage(msgspec.Struct):
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int | None = 0
    cache_read_input_tokens: int | None = 0
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


# Lenient twins for odd lines (floats, nulls, negative counts): tried only when the fast shape fails.
class _LooseCacheCreation(msgspec.Struct):
    ephemeral_5m_input_tokens: int | float | None = None
    ephemeral_1h_input_tokens: int | float | None = None


class _LooseUsage(msgspec.Struct):
    input_tokens: int | float | None = None
    output_tokens: int | float | None = None
    cache_creation_input_tokens: int | float | None = None
    cache_read_input_tokens: int | float | None = None
    cache_creation: _LooseCacheCreation | None = None
    speed: str | None = None


class _LooseMessage(msgspec.Struct):
    id: str | None = None
    model: str | None = None
    usage: _LooseUsage | None = None


class _LooseLine(msgspec.Struct):
    type: str | None = None
    timestamp: str | None = None
    sessionId: str | None = None  # noqa: N815
    cwd: str | None = None
    requestId: str | None = None  # noqa: N815
    isSidechain: bool | None = None  # noqa: N815
    message: _LooseMessage | None = None
    costUSD: float | None = None  # noqa: N815


_DECODER = msgspec.json.Decoder(_Line)
_LOOSE = msgspec.json.Decoder(_LooseLine)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class RangeResult(msgspec.Struct, array_like=True):
    """What a worker returns for one byte range of one file."""

    file_id: int
    records: list[Row]  # collapsed per (group, request, sidechain) within the range
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
    line: _Line | _LooseLine
    try:
        line = _DECODER.decode(raw)
    except msgspec.ValidationError:
        try:
            line = _LOOSE.decode(raw)
        except msgspec.ValidationError:
            return _validation_failure(raw)
        except (msgspec.DecodeError, UnicodeDecodeError):
            return False
    except msgspec.DecodeError:
        return False
    except UnicodeDecodeError:
        # Invalid UTF-8 inside a field we read: keep the line with the bad bytes replaced.
        try:
            line = _LOOSE.decode(raw.decode("utf-8", "replace").encode())
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
    else:
        gkey = mid
        if not req:
            # No requestId (gateways): streaming copies of one response share the id, the session and
            # the input-side counts but not the timestamp; gateways that reuse one id for every
            # response give different input-side counts. The group stays the message id, so a
            # sidechain replay of such a response (with a requestId of its own) is still dropped.
            req = f"\x1f{session}\x1f{_n(u.input_tokens)}:{cc5 + cc1}:{_n(u.cache_read_input_tokens)}"
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


def scan_range(file_id: int, path: str, start: int, end: int, session_hint: str, last: bool) -> RangeResult:
    """Decode the usage lines that START in ``[start, end)`` of ``path``; rows carry ``file_id``.

    Callers may split a file at any offset: when ``start`` is not at a line start, the partial line
    belongs to the previous range and is skipped; the line that starts before ``end`` is read to its
    end. With ``last`` set the range runs to the real end of file (bytes appended since the caller's
    stat are taken too) and the returned ``end_offset`` is just past the last consumed line.
    The file is searched through read-only memory maps of :data:`WINDOW` bytes (no copy, bounded
    resident memory); copies of one line within the range are collapsed before returning.
    """
    table: dict[tuple[int, str, str, int], Row] = {}
    malformed = 0
    bytes_read = 0
    with open(path, "rb", buffering=0) as fh:
        size = os.fstat(fh.fileno()).st_size
        limit = size if last else min(end, size)
        pos = start
        if 0 < start < size and not _at_line_start(fh, start):
            fh.seek(start)
            skip = _skip_to_newline(fh)
            if skip >= 0:
                pos = start + skip
            elif last:
                # The file ends in an unterminated line that began in an earlier range (which only
                # takes complete lines): this range owns it.
                pos = _line_start_before(fh, start)
            else:
                return RangeResult(file_id, [], -1, 0, 0, last)
        window = WINDOW
        fd = fh.fileno()
        while pos < size and (last or pos < limit):
            woff = pos - pos % mmap.ALLOCATIONGRANULARITY
            wlen = min(window, size - woff)
            with mmap.mmap(fd, wlen, offset=woff, access=mmap.ACCESS_READ) as m:
                rel = pos - woff
                cut = m.rfind(b"\n", rel) + 1
                if cut == 0:
                    if woff + wlen >= size:
                        break  # only an unterminated tail is left
                    window *= 2  # one line longer than the window
                    continue
                bytes_read += cut - rel
                p = rel
                stop = False
                while True:
                    i = m.find(MARKER, p, cut)
                    if i < 0:
                        break
                    ls = m.rfind(b"\n", rel, i) + 1 or rel
                    if not last and woff + ls >= end:
                        stop = True
                        break
                    le = m.find(b"\n", i, cut)
                    rec = decode_line(m[ls:le], woff + ls, path, session_hint)
                    if rec is False:
                        malformed += 1
                    elif rec is not None:
                        merge_into(table, (file_id, *rec))
                    p = le + 1
            pos = woff + cut
            window = WINDOW
            if stop:
                break
        # What is left has no newline: the unterminated last line, taken only when complete JSON.
        if last and pos < size:
            fh.seek(pos)
            tail = fh.read(size - pos)
            bytes_read += len(tail)
            if _is_complete_json(tail):
                if MARKER in tail:
                    rec = decode_line(tail, pos, path, session_hint)
                    if rec is False:
                        malformed += 1
                    elif rec is not None:
                        merge_into(table, (file_id, *rec))
                pos = size
    return RangeResult(file_id, list(table.values()), pos if last else -1, malformed, bytes_read, last)


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
