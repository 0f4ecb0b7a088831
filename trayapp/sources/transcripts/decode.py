"""One line of a Claude Code transcript into one occurrence row, or a verdict on why not.

:func:`decode_line` is what the scan workers run for every candidate line (see
:mod:`trayapp.sources.transcripts.reader`), so this module stays light (msgspec and the standard
library) and only the fields accounting needs are materialised (msgspec skips everything else
without building it). Most lines take the fast path: a strict msgspec shape validated in C. Odd
lines (floats, nulls, negative counts, other timestamp spellings) fall back to a lenient twin. No
line can stop a scan: nesting too deep for the parser, counts, costs or timestamps beyond the
limits of :mod:`trayapp.core.ledger`, or any other error while decoding one line make that line
malformed; invalid UTF-8 in a field is replaced, not fatal.

A record is an occurrence row, a plain tuple (cheap to pickle between processes): see
:data:`trayapp.core.ledger.Row`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import msgspec

from trayapp.core.ledger import MAX_COST_USD, MAX_TOKENS, MAX_TS_MS, Row

SYNTHETIC = "<synthetic>"
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
    sessionId: str | None = None
    cwd: str | None = None
    requestId: str | None = None
    isSidechain: bool | None = None
    message: _Message | None = None
    costUSD: Cost | None = None


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
    sessionId: str | None = None
    cwd: str | None = None
    requestId: str | None = None
    isSidechain: bool | None = None
    message: _LooseMessage | None = None
    costUSD: float | None = None


_DECODER = msgspec.json.Decoder(_Line)
_LOOSE = msgspec.json.Decoder(_LooseLine)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


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
