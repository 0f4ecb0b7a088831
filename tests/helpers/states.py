"""Builders for AccountState values used by the UI and alert tests (plain frozen dataclasses)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from trayapp.core.models import (
    AccountInfo,
    AccountState,
    ErrorKind,
    ExtraUsage,
    FetchError,
    Source,
    UsageSnapshot,
    Window,
    WindowKind,
    WindowState,
    level_for,
)

NOW = datetime(2026, 8, 10, 12, 0, tzinfo=UTC)


def window_state(
    wid: str = "five_hour",
    util: float = 30.0,
    resets_in: timedelta | None = timedelta(hours=2),
    now: datetime = NOW,
    rate: float | None = None,
    kind: WindowKind | None = None,
    label: str | None = None,
) -> WindowState:
    if kind is None:
        kind = (
            WindowKind.FIVE_HOUR
            if wid == "five_hour"
            else WindowKind.WEEKLY
            if wid == "seven_day"
            else WindowKind.WEEKLY_SCOPED
        )
    length = timedelta(hours=5) if kind is WindowKind.FIVE_HOUR else timedelta(days=7)
    labels = {"five_hour": "5-hour", "seven_day": "Weekly", "seven_day_opus": "Weekly Opus"}
    resets_at = now + resets_in if resets_in is not None else None
    win = Window(wid, label or labels.get(wid, wid), kind, util, resets_at, length)
    projected = full_at = None
    if rate and resets_at is not None:
        hours_left = (resets_at - now).total_seconds() / 3600
        projected = util + rate * hours_left
        if projected > 100:
            full_at = now + timedelta(hours=(100 - util) / rate)
    return WindowState(
        window=win,
        level=level_for(util),
        time_to_reset=resets_at - now if resets_at else None,
        burn_rate_per_hour=rate,
        projected_at_reset=projected,
        projected_full_at=full_at,
    )


def account_state(
    *windows: WindowState,
    now: datetime = NOW,
    stale: bool = False,
    error: FetchError | None = None,
    extra: ExtraUsage | None = None,
    age: float = 60.0,
    no_snapshot: bool = False,
) -> AccountState:
    if not windows and not no_snapshot:
        windows = (
            window_state("five_hour", 30.0, timedelta(hours=2), now, rate=5.0),
            window_state("seven_day", 20.0, timedelta(days=3), now, rate=0.3),
        )
    snap = (
        None
        if no_snapshot
        else UsageSnapshot(
            fetched_at=now - timedelta(seconds=age),
            source=Source.API,
            windows=tuple(ws.window for ws in windows),
            extra_usage=extra,
        )
    )
    binding = max(windows, key=lambda ws: ws.window.utilization) if windows else None
    return AccountState(
        snapshot=snap,
        windows=tuple(windows),
        binding=binding,
        error=error,
        stale=stale or error is not None,
        age_seconds=None if no_snapshot else age,
        account=AccountInfo(
            email="ada@example.com", subscription_type="max", rate_limit_tier="default_claude_max_5x"
        ),
    )


def error(kind: ErrorKind, message: str = "failed") -> FetchError:
    return FetchError(kind=kind, message=message)
