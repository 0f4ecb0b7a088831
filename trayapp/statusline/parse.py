"""Turn whatever Claude Code (or anything else) wrote on stdin into a clean capture dict.

The statusline stdin object is documented in claude-data-formats.md §2.3, but real payloads
vary by version and build: numbers arrive as strings, ``used_percentage`` has been seen carrying
the reset epoch, ``resets_at`` may be epoch seconds, milliseconds or ISO text, and any field may
be null or missing. Every reader here is total: bad values become ``None`` and are reported in
the ``problems`` list, never raised. The capture is a plain dict (no dataclasses: they cost
milliseconds to import) whose keys are listed in ``CAPTURE_KEYS``.
"""

from __future__ import annotations

import json
import math

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MAX_STDIN = 4 * 1024 * 1024  # bytes; Claude Code sends about 2 KB
MAX_TEXT = 4096  # longest string field kept
# Epoch seconds between 2001 and 2286; anything else in a resets_at is nonsense.
_EPOCH_MIN, _EPOCH_MAX = 1e9, 1e10

CAPTURE_KEYS = (
    "schema",
    "captured_at",
    "session_id",
    "session_name",
    "transcript_path",
    "cwd",
    "project_dir",
    "model_id",
    "model_name",
    "version",
    "cost_usd",
    "duration_ms",
    "api_duration_ms",
    "lines_added",
    "lines_removed",
    "context",
    "rate_limits",
)


def number(value: Any) -> float | None:
    """A finite number from a number or numeric text; booleans and everything else are None."""
    if isinstance(value, bool):
        return None
    try:
        if isinstance(value, int | float):
            result = float(value)
        elif isinstance(value, str) and 0 < len(value) <= 64:
            result = float(value.strip())
        else:
            return None
    except (ValueError, OverflowError):  # "abc", or an integer too large for a float
        return None
    return result if math.isfinite(result) else None


def integer(value: Any) -> int | None:
    n = number(value)
    return None if n is None or n < 0 or n > 1e15 else int(n)


def percentage(value: Any) -> float | None:
    """A 0-100 percentage; negatives and epoch-sized leaks (> 1000) are rejected."""
    n = number(value)
    if n is None or n < 0 or n > 1000:
        return None
    return n


def epoch(value: Any) -> float | None:
    """Epoch seconds from epoch seconds, epoch milliseconds or ISO-8601 text (naive = UTC)."""
    n = number(value)
    if n is None and isinstance(value, str) and 0 < len(value) <= 64:
        from datetime import UTC, datetime

        try:
            dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=UTC)
        n = dt.timestamp()
    if n is None:
        return None
    if n > _EPOCH_MAX * 100:  # milliseconds
        n /= 1000
    return n if _EPOCH_MIN <= n <= _EPOCH_MAX else None


def text(value: Any) -> str | None:
    if isinstance(value, str):
        value = value.replace("\x00", "")
        return value[:MAX_TEXT] if value else None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _window_id(key: Any) -> str | None:
    if not isinstance(key, str) or not 0 < len(key) <= 64:
        return None
    if key not in ("five_hour", "seven_day") and not key.startswith("seven_day_"):
        return None
    return key if all(c.isalnum() or c == "_" for c in key) and key.isascii() else None


def rate_limits(value: Any, problems: list[str]) -> dict[str, dict[str, float | None]]:
    """``{window_id: {"used_percentage", "resets_at"}}`` for the windows that make sense."""
    out: dict[str, dict[str, float | None]] = {}
    for key, entry in _obj(value).items():
        wid = _window_id(key)
        if wid is None or not isinstance(entry, dict):
            continue  # null scoped windows are normal; unknown keys are ignored quietly
        raw_pct = entry.get("used_percentage", entry.get("utilization"))
        pct = percentage(raw_pct)
        if pct is None:
            if raw_pct is not None:
                problems.append(f"rate_limits.{wid}.used_percentage unusable: {str(raw_pct)[:40]!r}")
            continue
        raw_reset = entry.get("resets_at")
        reset = epoch(raw_reset)
        if reset is None and raw_reset is not None:
            problems.append(f"rate_limits.{wid}.resets_at unusable: {str(raw_reset)[:40]!r}")
        out[wid] = {"used_percentage": pct, "resets_at": reset}
        if len(out) >= 16:
            break
    return out


def decode(raw: bytes, problems: list[str]) -> dict[str, Any]:
    """The stdin bytes as a JSON object, or ``{}`` (with a problem noted) when they are not one."""
    if not raw.strip():
        problems.append("empty stdin")
        return {}
    if len(raw) > MAX_STDIN:
        problems.append(f"stdin too large ({len(raw)} bytes); ignored")
        return {}
    try:
        data = json.loads(raw.decode("utf-8", errors="replace"))
    except (ValueError, RecursionError) as exc:
        problems.append(f"stdin is not JSON: {str(exc)[:120]}")
        return {}
    if not isinstance(data, dict):
        problems.append(f"stdin is JSON {type(data).__name__}, not an object")
        return {}
    return data


def normalize(data: dict[str, Any], now: float, problems: list[str]) -> dict[str, Any]:
    """Build the capture dict from a decoded stdin object."""
    model = _obj(data.get("model"))
    workspace = _obj(data.get("workspace"))
    cost = _obj(data.get("cost"))
    ctx = _obj(data.get("context_window"))
    ctx_pct = percentage(ctx.get("used_percentage"))
    if ctx_pct is not None and ctx_pct > 100:
        ctx_pct = None
    size = integer(ctx.get("context_window_size"))
    input_tokens = integer(ctx.get("total_input_tokens"))
    if ctx_pct is None and size and input_tokens is not None and ctx.get("current_usage") is not None:
        # Older builds lack used_percentage; since 2.1.132 the totals are per response, like it.
        ctx_pct = min(100.0, 100.0 * input_tokens / size)
    model_name = text(model.get("display_name")) or text(model.get("id"))
    if not model_name and isinstance(data.get("model"), str):
        model_name = text(data["model"])
    return {
        "schema": 1,
        "captured_at": now,
        "session_id": text(data.get("session_id")),
        "session_name": text(data.get("session_name")),
        "transcript_path": text(data.get("transcript_path")),
        "cwd": text(data.get("cwd")) or text(workspace.get("current_dir")),
        "project_dir": text(workspace.get("project_dir")) or text(data.get("cwd")),
        "model_id": text(model.get("id")),
        "model_name": model_name,
        "version": text(data.get("version")),
        "cost_usd": number(cost.get("total_cost_usd")),
        "duration_ms": number(cost.get("total_duration_ms")),
        "api_duration_ms": number(cost.get("total_api_duration_ms")),
        "lines_added": integer(cost.get("total_lines_added")),
        "lines_removed": integer(cost.get("total_lines_removed")),
        "context": {
            "used_percentage": ctx_pct,
            "size": size,
            "input_tokens": input_tokens,
            "output_tokens": integer(ctx.get("total_output_tokens")),
        },
        "rate_limits": rate_limits(data.get("rate_limits"), problems),
    }
