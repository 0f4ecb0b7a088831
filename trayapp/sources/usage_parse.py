"""Decode the body of ``GET /api/oauth/usage`` into a :class:`~trayapp.core.models.UsageSnapshot`.

The endpoint is undocumented and changes shape, so every key is decoded on its own and unknown
keys are ignored: flat windows (``five_hour``, ``seven_day``, ``seven_day_opus``,
``seven_day_sonnet`` and any other ``seven_day_*``), the newer ``limits[]`` list (``session``,
``weekly_all``, ``weekly_scoped`` with ``scope.model.display_name``) and ``extra_usage`` (money in
minor units). A field with a wrong type, NaN, infinity, a negative or absurdly large number is
skipped with a note; a body that is not a JSON object with at least one usage key, or with a
window whose reset time is impossible (before 2020 or after 2099: year 1 overflows window math), raises
:class:`BadResponse`. Nothing else ever escapes :func:`parse_usage`.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from trayapp.core.models import ExtraUsage, Source, UsageSnapshot, Window, WindowKind, reset_is_plausible

FIVE_HOURS = timedelta(hours=5)
SEVEN_DAYS = timedelta(days=7)
# Utilization is a 0-100 percentage; overage can push it a little past 100, never to 10^6.
MAX_UTILIZATION = 1000.0
# Money in minor units: a trillion cents is certainly garbage.
MAX_MONEY_MINOR = 1e12
MAX_BODY_BYTES = 1_000_000

_FIXED_LABELS = {
    "five_hour": "5-hour",
    "seven_day": "Weekly",
    "seven_day_opus": "Weekly · Opus",
    "seven_day_sonnet": "Weekly · Sonnet",
    "seven_day_oauth_apps": "Weekly · OAuth apps",
}
_KNOWN_TOP = ("five_hour", "seven_day", "extra_usage", "limits")
_SEVEN_DAY_RE = re.compile(r"^seven_day_[a-z0-9_]{1,40}$")
_CURRENCY_RE = re.compile(r"^[A-Z]{3}$")


class BadResponse(ValueError):
    """The body is not a usage response we can read (HTML, not an object, no usage keys)."""


@dataclass(frozen=True, slots=True)
class ParsedUsage:
    snapshot: UsageSnapshot
    # What was skipped and why, for logs and ``doctor``; never shown as an error.
    notes: tuple[str, ...] = ()


def window_label(window_id: str) -> str:
    """Human label for a window id: ``seven_day_cowork`` -> ``Weekly · Cowork``."""
    if window_id in _FIXED_LABELS:
        return _FIXED_LABELS[window_id]
    if window_id.startswith("weekly_scoped:"):
        return "Weekly · " + window_id.split(":", 1)[1]
    if window_id.startswith("seven_day_"):
        rest = window_id[len("seven_day_") :].replace("_", " ").strip()
        return "Weekly · " + (rest[:1].upper() + rest[1:])
    return window_id.replace("_", " ").capitalize()


def _number(value: Any, what: str, notes: list[str], maximum: float) -> float | None:
    """A finite, non-negative number below ``maximum``, else None with a note."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        notes.append(f"{what}: expected a number, got {type(value).__name__}")
        return None
    try:
        number = float(value)
    except OverflowError:
        notes.append(f"{what}: number too large")
        return None
    if not math.isfinite(number):
        notes.append(f"{what}: not a finite number")
        return None
    if number < 0:
        notes.append(f"{what}: negative value {number:g}")
        return None
    if number > maximum:
        notes.append(f"{what}: implausible value {number:g}")
        return None
    return number


def parse_time(value: Any, what: str, notes: list[str]) -> datetime | None:
    """An ISO-8601 timestamp as an aware UTC datetime; None (with a note) when unreadable."""
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 64:
        notes.append(f"{what}: expected an ISO-8601 time")
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        notes.append(f"{what}: unreadable time {value[:40]!r}")
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    try:
        return when.astimezone(UTC)
    except (OverflowError, ValueError):
        notes.append(f"{what}: time out of range")
        return None


def _kind_of(window_id: str) -> WindowKind:
    if window_id == "five_hour":
        return WindowKind.FIVE_HOUR
    if window_id == "seven_day":
        return WindowKind.WEEKLY
    return WindowKind.WEEKLY_SCOPED


def _window(window_id: str, util: Any, resets: Any, notes: list[str]) -> Window | None:
    utilization = _number(util, f"{window_id}.utilization", notes, MAX_UTILIZATION)
    if utilization is None:
        return None
    resets_at = parse_time(resets, f"{window_id}.resets_at", notes)
    kind = _kind_of(window_id)
    # A 0 % window without a reset time is a placeholder for a window never started. The two
    # main windows are still shown (0 % is a real answer); scoped placeholders are dropped.
    if utilization == 0 and resets_at is None and kind is WindowKind.WEEKLY_SCOPED:
        return None
    length = FIVE_HOURS if kind is WindowKind.FIVE_HOUR else SEVEN_DAYS
    return Window(window_id, window_label(window_id), kind, utilization, resets_at, length)


def _flat_window(key: str, value: Any, notes: list[str]) -> Window | None:
    if value is None:
        return None  # null window: credit-based plan or a window this account does not have
    if not isinstance(value, dict):
        notes.append(f"{key}: expected an object, got {type(value).__name__}")
        return None
    if "utilization" not in value:
        notes.append(f"{key}: no utilization")
        return None
    return _window(key, value.get("utilization"), value.get("resets_at"), notes)


def _display_name(entry: dict[str, Any]) -> str | None:
    scope = entry.get("scope")
    model = scope.get("model") if isinstance(scope, dict) else None
    name = model.get("display_name") if isinstance(model, dict) else None
    if not isinstance(name, str):
        return None
    name = " ".join(name.split())[:60]
    return name or None


def _has_flat_twin(display_name: str, flat_ids: set[str]) -> bool:
    """``Sonnet`` matches ``seven_day_sonnet``; ``Fable 5`` matches ``seven_day_fable``."""
    low = display_name.lower()
    for wid in flat_ids:
        if wid.startswith("seven_day_"):
            slug = wid[len("seven_day_") :].replace("_", " ")
            if slug and slug in low:
                return True
    return False


def _limits(value: Any, windows: dict[str, Window], notes: list[str]) -> None:
    """Fold ``limits[]`` into ``windows``: fallbacks for null flat windows, scoped caps."""
    if value is None:
        return
    if not isinstance(value, list):
        notes.append("limits: expected a list")
        return
    flat_ids = set(windows)
    for index, entry in enumerate(value[:100]):
        if not isinstance(entry, dict):
            notes.append(f"limits[{index}]: expected an object")
            continue
        kind = entry.get("kind")
        if kind == "session":
            window_id = "five_hour"
        elif kind == "weekly_all":
            window_id = "seven_day"
        elif kind == "weekly_scoped":
            name = _display_name(entry)
            if name is None:
                notes.append(f"limits[{index}]: scoped limit without a model name")
                continue
            if _has_flat_twin(name, flat_ids):
                continue
            window_id = f"weekly_scoped:{name}"
        else:
            continue  # a kind we do not know yet
        if window_id in windows:
            continue  # the flat key is authoritative when both exist
        window = _window(window_id, entry.get("percent"), entry.get("resets_at"), notes)
        if window is not None:
            windows[window_id] = window


def _extra_usage(value: Any, notes: list[str]) -> ExtraUsage | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        notes.append("extra_usage: expected an object")
        return None
    enabled = value.get("is_enabled")
    if not isinstance(enabled, bool):
        notes.append("extra_usage.is_enabled: expected true or false")
        enabled = False

    def money(key: str) -> float | None:
        raw = value.get(key)
        return None if raw is None else _number(raw, f"extra_usage.{key}", notes, MAX_MONEY_MINOR)

    utilization = value.get("utilization")
    util = (
        None
        if utilization is None
        else _number(utilization, "extra_usage.utilization", notes, MAX_UTILIZATION)
    )
    currency = value.get("currency", "USD")
    if currency is None:
        currency = "USD"
    if not isinstance(currency, str) or not _CURRENCY_RE.match(currency):
        notes.append("extra_usage.currency: not an ISO currency code; assuming USD")
        currency = "USD"
    places = value.get("decimal_places", 2)
    if places is None:
        places = 2
    if isinstance(places, bool) or not isinstance(places, int) or not 0 <= places <= 6:
        notes.append("extra_usage.decimal_places: expected 0-6; assuming 2")
        places = 2
    return ExtraUsage(
        is_enabled=enabled,
        monthly_limit_minor=money("monthly_limit"),
        used_minor=money("used_credits"),
        utilization=util,
        currency=currency,
        decimal_places=places,
    )


def decode_body(body: bytes | str) -> dict[str, Any]:
    """JSON text -> the top-level object, or :class:`BadResponse`."""
    if len(body) > MAX_BODY_BYTES:
        raise BadResponse("the usage response is implausibly large")
    try:
        data = json.loads(body)
    except (ValueError, RecursionError, UnicodeDecodeError):
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        if "<html" in text[:500].lower() or "<!doctype" in text[:500].lower():
            raise BadResponse("the usage endpoint answered with a web page, not JSON") from None
        raise BadResponse("the usage endpoint answered with something that is not JSON") from None
    if not isinstance(data, dict):
        raise BadResponse(f"the usage response is a JSON {type(data).__name__}, not an object")
    return data


def parse_usage(
    body: bytes | str | dict[str, Any], fetched_at: datetime, source: Source = Source.API
) -> ParsedUsage:
    """Parse a usage response body (bytes, text or an already decoded object)."""
    data = body if isinstance(body, dict) else decode_body(body)
    if not any(k in data for k in _KNOWN_TOP) and not any(
        isinstance(k, str) and _SEVEN_DAY_RE.match(k) for k in data
    ):
        raise BadResponse("the usage response has none of five_hour, seven_day, extra_usage, limits")
    notes: list[str] = []
    windows: dict[str, Window] = {}
    for key in ("five_hour", "seven_day"):
        if key in data:
            window = _flat_window(key, data[key], notes)
            if window is not None:
                windows[key] = window
    for key in sorted(data):
        if isinstance(key, str) and _SEVEN_DAY_RE.match(key):
            window = _flat_window(key, data[key], notes)
            if window is not None:
                windows[key] = window
    _limits(data.get("limits"), windows, notes)
    extra = _extra_usage(data.get("extra_usage"), notes)
    if not windows and extra is None and notes:
        raise BadResponse("no usable window in the usage response: " + "; ".join(notes[:3]))
    for window in windows.values():
        # A reset centuries away is corruption, not a reading: storing it would poison every later
        # derive (window start before year 1), so the whole answer is refused and nothing stored.
        if not reset_is_plausible(window.resets_at):
            when = window.resets_at.isoformat() if window.resets_at else "?"
            raise BadResponse(f"the usage response has an impossible reset time for {window.id}: {when}")
    order = {"five_hour": 0, "seven_day": 1}
    ordered = sorted(windows.values(), key=lambda w: (order.get(w.id, 2), w.id))
    snapshot = UsageSnapshot(fetched_at=fetched_at, source=source, windows=tuple(ordered), extra_usage=extra)
    return ParsedUsage(snapshot, tuple(notes))
