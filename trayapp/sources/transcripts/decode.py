"""Byte-level reader of Claude Code transcripts: finds usage lines and turns them into compact records.

This module is what the scan workers import, so it stays light (msgspec and the standard library).
A range of a file is searched through read-only memory-map windows; only lines containing the
``"input_tokens"`` key (present in every usage object that counts) are decoded, and only the fields
accounting needs are materialised (msgspec skips everything else without building it). A line
that is not newline-terminated is consumed only when it parses as a complete JSON object, so a
line still being written is picked up whole on a later scan. Malformed candidate lines are skipped
and counted (with the offsets of the first few, so the user can be told where they are); invalid
UTF-8 costs at most the line it sits in. No line can stop a scan: nesting too deep for the parser,
counts, costs or timestamps beyond the limits of :mod:`trayapp.core.ledger`, or any other error
while decoding one line make that line malformed; a file that cannot be read fails alone (its range
carries the error and the scanner retries the file on its next scan).

A record is an occurrence row, a plain tuple (cheap to pickle between processes): see
:data:`trayapp.core.ledger.Row`.
"""

from __future__ import annotations

import mmap
import os
from datetime import UTC, datetime
from typing import Annotated, Any, BinaryIO, Literal

import msgspec

try:
    # SIMD substring search (StringZilla): about 3x faster than bytes.find for the marker, which is
    # the largest single cost of a cold scan. Optional: the standard library's find gives the same
    # answers.
    from stringzilla import find as _simd_find
except ImportError:  # pragma: no cover - exercised by forcing the fallback in the tests
    _simd_find = None

from trayapp.core.ledger import MAX_COST_USD, MAX_TOKENS, MAX_TS_MS, Row, collapse

# Every line ccusage or we count has ``message.usage.input_tokens``; this key is a faster needle than
# ``"usage":`` (its last byte is rarer in JSON, so the search skips further) and is spacing-proof.
MARKER = b'"input_tokens"'
WINDOW = 16 * 1024 * 1024  # bytes mapped at a time per worker
SYNTHETIC = "<synthetic>"
KEEP_BAD = 8  # offsets of malformed lines kept per range (for the note that names them)
_MAX_TS_S = MAX_TS_MS // 1000


# A token count: checked against the per-line limit by msgspec in C. A line over it fails the fast
# shape, and the lenient one below calls it malformed.
Count = Annotated[int, msgspec.Meta(ge=0, le=MAX_TOKENS)]
Cost = Annotated[float, msgspec.Meta(ge=0, le=MAX_COST_USD)]


# The fast shape: what almost every line looks like. Counts are validated as integers within the
# limits and the timestamp as RFC 3339 by msgspec in C, so the hot path below does no per-field
# cleaning.
class _CacheCreation(msgspec.Struct):
    ephemeral_5m_input_tokens: Count = 0
    ephemeral_1h_input_tokens: Count = 0


class _Usage(msgspec.Struct):
    input_tokens: Count = 0
    output_tokens: Count = 0
    cache_creation_input_tokens: Count | None = 0
    cache_read_input_tokens: Count | None = 0
    cache_creation: _CacheCreation | None = None
    speed: str | None = None


class _Message(msgspec.Struct):
    id: str | None = None
    model: str | None = None
    usage: _Usage | None = None


class _Line(msgspec.Struct):
    type: str | None = None
    timestamp: datetime | None = None
    sessionId: str | None = None  # noqa: N815 (wire name)
    cwd: str | None = None
    requestId: str | None = None  # noqa: N815
    isSidechain: bool | None = None  # noqa: N815
    message: _Message | None = None
    costUSD: Cost | None = None  # noqa: N815


# Lenient twins for odd lines (floats, nulls, negative counts): tried only when the fast shape fails.
# They take any number, so the limits are checked in Python (see _decode_loose).
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
    bad: list[int] = []  # offsets of the first KEEP_BAD malformed lines
    error: str | None = None  # the range could not be read (the file failed): why


def parse_timestamp_ms(text: str) -> int | None:
    """ISO-8601 (``Z`` or offset; naive means UTC) -> epoch milliseconds, None when unparseable."""
    try:
        dt = datetime.fromisoformat(text)
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=UTC)
        delta = dt - _EPOCH
    except (ValueError, TypeError, OverflowError):
        return None
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def _n(value: int | float | None) -> int:
    if value is None or value != value or value < 0:  # None, NaN, negative -> 0
        return 0
    return int(value)


def _over(value: int | float | None) -> bool:
    """A count beyond the per-line limit (infinity included): the line is malformed."""
    return value is not None and value > MAX_TOKENS


# One string object per distinct session/cwd/model: less memory, smaller pickles.
_INTERNED: dict[str, str] = {}
_intern = _INTERNED.setdefault


def decode_line(
    raw: bytes, offset: int, path: str, session_hint: str, file_id: int = 0
) -> Row | None | Literal[False]:
    """Decode one candidate line into an occurrence row (see :mod:`trayapp.core.ledger`). Returns
    None when the line carries no billable usage, False when it is malformed (not JSON, nested too
    deep, an assistant line of the wrong shape, or values beyond the limits of
    :mod:`trayapp.core.ledger`)."""
    try:
        line = _DECODER.decode(raw)
    except msgspec.ValidationError:
        return _decode_loose(raw, offset, path, session_hint, file_id)
    except (msgspec.DecodeError, RecursionError):  # RecursionError: nested deeper than msgspec goes
        return False
    except UnicodeDecodeError:
        # Invalid UTF-8 inside a field we read: keep the line with the bad bytes replaced.
        return _decode_loose(raw.decode("utf-8", "replace").encode(), offset, path, session_hint, file_id)
    # The hot path: every value was validated by msgspec. (Written out inline, without _row: this
    # runs for every usage line of a first scan.)
    msg = line.message
    if msg is None:
        return None
    u = msg.usage
    kind = line.type
    model = msg.model
    if u is None or (kind is not None and kind != "assistant") or model == SYNTHETIC:
        return None
    dt = line.timestamp
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)  # naive means UTC
    seconds = dt.timestamp()
    if not 0 <= seconds < _MAX_TS_S:
        return False  # before 1970 or after 2099: garbage
    # Whole seconds from the float (exact to well under a microsecond until 2106), the fraction
    # from the integer microseconds: no float rounding can move a millisecond.
    ts = int(seconds) * 1000 + dt.microsecond // 1000
    inp = u.input_tokens
    split = u.cache_creation
    cc5 = cc1 = 0
    if split is not None:
        cc5 = split.ephemeral_5m_input_tokens
        cc1 = split.ephemeral_1h_input_tokens
    if cc5 + cc1 == 0:
        # No usable split: every cache write is priced at the 5-minute rate (as ccusage does).
        cc5, cc1 = u.cache_creation_input_tokens or 0, 0
    cr = u.cache_read_input_tokens or 0
    session = line.sessionId or session_hint
    gkey = msg.id
    req = line.requestId
    if not gkey or not req:
        gkey, req = _group(gkey, req, session, inp, cc5 + cc1, cr, path, offset)
    cwd = line.cwd or ""
    if not model:
        model = "unknown"
    return (
        file_id, gkey, req, 1 if line.isSidechain else 0, ts, _intern(session, session), _intern(cwd, cwd),
        _intern(model, model), inp, u.output_tokens, cc5, cc1, cr, 1 if u.speed == "fast" else 0,
        line.costUSD,
    )  # fmt: skip


def _group(mid: str | None, req: str | None, session: str, inp: int, cc: int, cr: int, path: str,
           offset: int) -> tuple[str, str]:  # fmt: skip
    """(group, request) of a line without a message id or without a requestId."""
    if not mid:
        return f"\x00{path}\x00{offset}", req or ""  # no message id: never deduplicated
    # No requestId (gateways): streaming copies of one response share the id, the session and the
    # input-side counts but not the timestamp; gateways that reuse one id for every response give
    # different input-side counts. The group stays the message id, so a sidechain replay of such a
    # response (with a requestId of its own) is still dropped.
    return mid, f"\x1f{session}\x1f{inp}:{cc}:{cr}"


def _decode_loose(
    raw: bytes, offset: int, path: str, session_hint: str, file_id: int
) -> Row | None | Literal[False]:
    """The lenient twin of :func:`decode_line` for odd lines (floats, nulls, negative counts, other
    timestamp spellings)."""
    try:
        line = _LOOSE.decode(raw)
    except msgspec.ValidationError:
        return _validation_failure(raw)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        return False
    msg = line.message
    if msg is None or msg.usage is None:
        return None
    if line.type is not None and line.type != "assistant":
        return None
    if msg.model == SYNTHETIC:
        return None
    if not line.timestamp:
        return None
    ts = parse_timestamp_ms(line.timestamp)
    if ts is None or not 0 <= ts < MAX_TS_MS:
        return False  # unparseable, before 1970 or after 2099
    u = msg.usage
    cost = line.costUSD
    if cost is not None and not 0 <= cost <= MAX_COST_USD:  # NaN fails too
        return False
    cc5 = cc1 = 0
    split = u.cache_creation
    if split is not None:
        if _over(split.ephemeral_5m_input_tokens) or _over(split.ephemeral_1h_input_tokens):
            return False
        cc5 = _n(split.ephemeral_5m_input_tokens)
        cc1 = _n(split.ephemeral_1h_input_tokens)
    if (
        _over(u.input_tokens)
        or _over(u.output_tokens)
        or _over(u.cache_creation_input_tokens)
        or _over(u.cache_read_input_tokens)
    ):
        return False
    if cc5 + cc1 == 0:
        cc5, cc1 = _n(u.cache_creation_input_tokens), 0
    return _row(
        file_id, msg.id, line.requestId, line.isSidechain, ts, line.sessionId or session_hint,
        line.cwd, msg.model, _n(u.input_tokens), _n(u.output_tokens), cc5, cc1,
        _n(u.cache_read_input_tokens), u.speed == "fast", cost, path, offset,
    )  # fmt: skip


def _row(
    file_id: int, mid: str | None, req: str | None, side: bool | None, ts: int, session: str,
    cwd: str | None, model: str | None, inp: int, out: int, cc5: int, cc1: int, cr: int, fast: bool,
    cost: float | None, path: str, offset: int,
) -> Row:  # fmt: skip
    gkey = mid or ""
    if not mid or not req:
        gkey, req = _group(mid, req, session, inp, cc5 + cc1, cr, path, offset)
    return (
        file_id, gkey, req or "", 1 if side else 0, ts, _intern(session, session),
        _intern(cwd or "", cwd or ""), _intern(model or "unknown", model or "unknown"), inp, out, cc5, cc1,
        cr, 1 if fast else 0, cost,
    )  # fmt: skip


def _validation_failure(raw: bytes) -> Literal[False] | None:
    """A line that is JSON but not of the expected shape: malformed only if it claims to be an
    assistant line (user lines with odd ``toolUseResult`` shapes are simply not usage)."""
    try:
        obj: Any = msgspec.json.decode(raw)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
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
    except RecursionError:
        return True  # too deep to be a usage line: consumed (and counted as malformed if a candidate)
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
    table: dict[tuple[str, str, int], Row] = {}  # (group, request, sidechain) -> the collapsed copy
    seen = table.get
    malformed = 0
    bad: list[int] = []
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
                return RangeResult(file_id, [], -1, 0, 0, last, [])
        window = WINDOW
        fd = fh.fileno()
        while pos < size and (last or pos < limit):
            woff = pos - pos % mmap.ALLOCATIONGRANULARITY
            wlen = min(window, size - woff)
            with (
                mmap.mmap(fd, wlen, offset=woff, access=mmap.ACCESS_READ) as m,
                memoryview(m) as view,
            ):
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
                    i = m.find(MARKER, p, cut) if _simd_find is None else _simd_find(view, MARKER, p, cut)
                    if i < 0:
                        break
                    ls = m.rfind(b"\n", rel, i) + 1 or rel
                    if not last and woff + ls >= end:
                        stop = True
                        break
                    le = m.find(b"\n", i, cut)
                    try:
                        rec = decode_line(m[ls:le], woff + ls, path, session_hint, file_id)
                    except Exception:  # noqa: BLE001 - whatever one line raises, it is only that line
                        rec = False
                    if rec is False:
                        malformed += 1
                        if len(bad) < KEEP_BAD:
                            bad.append(woff + ls)
                    elif rec is not None:
                        key = (rec[1], rec[2], rec[3])
                        old = seen(key)
                        table[key] = rec if old is None else collapse(old, rec)
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
                    try:
                        rec = decode_line(tail, pos, path, session_hint, file_id)
                    except Exception:  # noqa: BLE001 - as above
                        rec = False
                    if rec is False:
                        malformed += 1
                        if len(bad) < KEEP_BAD:
                            bad.append(pos)
                    elif rec is not None:
                        key = (rec[1], rec[2], rec[3])
                        old = seen(key)
                        table[key] = rec if old is None else collapse(old, rec)
                pos = size
    return RangeResult(file_id, list(table.values()), pos if last else -1, malformed, bytes_read, last, bad)


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
    """Worker entry point: several (small) ranges in one round trip. A range that cannot be read (the
    file vanished or is unreadable, or it shrank before it was mapped) comes back with its ``error``
    set; the other ranges are read as usual."""
    out: list[RangeResult] = []
    for task in tasks:
        try:
            out.append(scan_range(*task))
        except Exception as exc:  # noqa: BLE001 - one file never stops the scan of the others
            out.append(RangeResult(task[0], [], -1, 0, 0, task[5], [], f"{type(exc).__name__}: {exc}"))
    return out


def line_numbers(path: str, offsets: list[int]) -> dict[int, int]:
    """1-based line numbers of the lines starting at ``offsets`` of ``path``, by counting the newlines
    before them (for the note about a few malformed lines). An offset past the end of the file is
    left out; nothing when the file cannot be read."""
    out: dict[int, int] = {}
    try:
        with open(path, "rb") as fh:
            pos = lines = 0
            for off in sorted(set(offsets)):
                while pos < off:
                    block = fh.read(min(1 << 20, off - pos))
                    if not block:
                        return out
                    lines += block.count(b"\n")
                    pos += len(block)
                out[off] = lines + 1
    except OSError:
        return {}
    return out


def file_identity(path: str) -> tuple[int, int, int, int]:
    """(device, inode, size, mtime_ns) of ``path``."""
    st = os.stat(path)
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns
