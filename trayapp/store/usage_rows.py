"""Rows of the usage tables turned back into values, refusing what cannot be believed.

Readings written by older versions stored whatever the server said; these helpers skip a corrupt
or implausible row (the caller logs it) instead of failing every start.
"""

from __future__ import annotations

import json
import math
import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any

from trayapp.core.models import ExtraUsage, Window, WindowKind, reset_is_plausible

# Utilization is a percentage; overage can push it a little past 100, never this far.
MAX_UTILIZATION = 1000.0

HistoryRow = tuple[datetime, str, float, datetime | None]


def dt_or_none(value: Any) -> datetime | None:
    """A stored epoch as a datetime; None when it is not a number or out of range."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def window_from_row(r: sqlite3.Row) -> Window | None:
    """A stored window, or None when the row is corrupt or not believable."""
    util = r["utilization"]
    if isinstance(util, bool) or not isinstance(util, int | float) or not 0 <= util <= MAX_UTILIZATION:
        return None
    length_s = r["length_s"]
    if not isinstance(length_s, int | float) or not 0 < length_s <= 30 * 86400:
        return None
    resets_at = None
    if r["resets_at"] is not None:
        resets_at = dt_or_none(r["resets_at"])
        if resets_at is None:
            return None
    length = timedelta(seconds=float(length_s))
    if not reset_is_plausible(resets_at):
        return None
    try:
        kind = WindowKind(r["kind"])
    except ValueError:
        kind = WindowKind.WEEKLY_SCOPED
    return Window(str(r["window_id"]), str(r["label"]), kind, float(util), resets_at, length)


def history_row(window_id: str, r: sqlite3.Row) -> HistoryRow | None:
    at = dt_or_none(r[0])
    util = r[1]
    if at is None or isinstance(util, bool) or not isinstance(util, int | float) or not math.isfinite(util):
        return None
    resets_at = dt_or_none(r[2]) if r[2] is not None else None
    if not reset_is_plausible(resets_at):
        resets_at = None  # the timeline still draws the sample; an absurd reset has no place on it
    return (at, window_id, float(util), resets_at)


def extra_from(raw: str | None) -> ExtraUsage | None:
    if not raw:
        return None
    try:
        d = json.loads(raw)
        return ExtraUsage(
            is_enabled=bool(d["is_enabled"]),
            monthly_limit_minor=d.get("monthly_limit_minor"),
            used_minor=d.get("used_minor"),
            utilization=d.get("utilization"),
            currency=str(d.get("currency") or "USD"),
            decimal_places=int(d.get("decimal_places", 2)),
        )
    except (ValueError, KeyError, TypeError):
        return None
