"""Byte-level reader of Claude Code transcripts: finds usage lines in a byte range of a file and
turns them into compact records.

This module (with :mod:`~trayapp.sources.transcripts.decode`) is what the scan workers import, so
it stays light (msgspec and the standard library). A range of a file is read in windows of
:data:`WINDOW` bytes into one reused buffer (not memory-mapped: see :func:`_read_at`); only lines
containing the ``"input_tokens"`` key (present in every usage object that counts) are decoded. A
line that is not newline-terminated is consumed only when it parses as a complete JSON object, so
a line still being written is picked up whole on a later scan.
Malformed candidate lines are skipped and counted (with the offsets of the first few, so the user
can be told where they are); invalid UTF-8 costs at most the line it sits in. A file that cannot be
read fails alone (its range carries the error and the scan retries the file next time).
"""

from __future__ import annotations

import io
import os
from typing import BinaryIO, cast

import msgspec

try:
    # SIMD substring search (StringZilla): about 3x faster than bytes.find for the marker, which is
    # the largest single cost of a cold scan. Optional: the standard library's find gives the same
    # answers.
    from stringzilla import find as _simd_find
except ImportError:  # pragma: no cover - exercised by forcing the fallback in the tests
    _simd_find = None

from trayapp.core.ledger import Row, collapse, copy_key
from trayapp.sources.transcripts.decode import decode_line

# Every line ccusage or we count has ``message.usage.input_tokens``; this key is a faster needle than
# ``"usage":`` (its last byte is rarer in JSON, so the search skips further) and is spacing-proof.
MARKER = b'"input_tokens"'
WINDOW = 16 * 1024 * 1024  # bytes read at a time per worker
KEEP_BAD = 8  # offsets of malformed lines kept per range (for the note that names them)


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
    The file is read in windows of :data:`WINDOW` bytes into one reused buffer (bounded resident
    memory); copies of one line within the range are collapsed before returning.
    """
    table: dict[tuple[str, str, int], Row] = {}  # (group, request, sidechain) -> the collapsed copy
    seen = table.get
    key_of = copy_key  # (group, request, sidechain), in C; a local: looked up once per range
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
        buf = bytearray(min(window, max(size - pos, 0)))
        while pos < size and (last or pos < limit):
            woff = pos
            wlen = min(window, size - woff)
            if len(buf) < wlen:
                buf = bytearray(wlen)
            with memoryview(buf) as view:
                if _read_at(cast(io.RawIOBase, fh), woff, view[:wlen]) < wlen:
                    raise FileChangedError(f"the file shrank while it was read (from {size} bytes)")
                m = buf
                rel = 0
                cut = m.rfind(b"\n", rel, wlen) + 1
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
                        rec = decode_line(bytes(view[ls:le]), woff + ls, path, session_hint, file_id)
                    except Exception:
                        rec = False
                    if rec is False:
                        malformed += 1
                        if len(bad) < KEEP_BAD:
                            bad.append(woff + ls)
                    elif rec is not None:
                        key = key_of(rec)
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
                    except Exception:
                        rec = False
                    if rec is False:
                        malformed += 1
                        if len(bad) < KEEP_BAD:
                            bad.append(pos)
                    elif rec is not None:
                        key = key_of(rec)
                        old = seen(key)
                        table[key] = rec if old is None else collapse(old, rec)
                pos = size
    return RangeResult(file_id, list(table.values()), pos if last else -1, malformed, bytes_read, last, bad)


class FileChangedError(OSError):
    """The file shrank (was truncated or rewritten) while it was read: its range fails, and the
    scan treats the file as changed and reads it again next time."""


def _read_at(fh: io.RawIOBase, offset: int, into: memoryview) -> int:
    """Fill ``into`` from ``offset``; returns the bytes read (fewer only at the end of the file).

    Plain reads into a reused buffer, not a memory map: a mapped file that shrinks under the map
    kills the process with SIGBUS on the next access, and the scan runs inside the tray app."""
    fh.seek(offset)
    got = 0
    while got < len(into):
        n = fh.readinto(into[got:])
        if not n:
            break
        got += n
    return got


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
        except Exception as exc:
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
