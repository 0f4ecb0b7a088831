"""From the app's values to the Prometheus snapshot (``core/prom_metrics``). Pure.

The usage state (:class:`~trayapp.core.models.AccountState`), what the poller and the sessions
service counted (:class:`Activity`, gathered by ``services/metrics_api``) and Claude Code's
telemetry totals (:class:`~trayapp.core.telemetry.TelemetryTotals`) become one
:class:`~trayapp.core.prom_metrics.MetricsSnapshot`. Every known outcome, error kind, session
state and hook event is listed with 0 when nothing happened yet, so a series exists from the first
scrape (a query over a series that appears later misses its first increase).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from trayapp.core.models import AccountState, ErrorKind
from trayapp.core.prom_metrics import (
    DEFAULT_ACCOUNT,
    AccountFigures,
    BuildInfo,
    ExtraUsageFigures,
    MetricsSnapshot,
    WindowFigures,
)
from trayapp.core.sessions import HookEventName, SessionState
from trayapp.core.telemetry import TelemetryTotals

OUTCOMES: tuple[str, ...] = ("ok", *(k.value for k in ErrorKind))
SESSION_STATES: tuple[str, ...] = tuple(s.value for s in SessionState)
HOOK_EVENTS: tuple[str, ...] = tuple(e.value for e in HookEventName)


@dataclass(frozen=True, slots=True)
class Activity:
    """What the services counted, as plain values.

    ``polls``: usage-endpoint attempts by outcome (``ok`` or an ``ErrorKind`` value) since start;
    ``cooldown_until``/``next_poll_at``: the poll policy's; ``sessions``/``agents``: one state
    value per live session / background agent; ``hook_events``: received by event name.
    """

    polls: Mapping[str, int] = field(default_factory=dict)
    cooldown_until: datetime | None = None
    next_poll_at: datetime | None = None
    consecutive_failures: int = 0
    sessions: tuple[str, ...] = ()
    agents: tuple[str, ...] = ()
    hook_events: Mapping[str, int] = field(default_factory=dict)


def _seconds_until(when: datetime | None, now: datetime) -> float | None:
    return None if when is None else max(0.0, (when - now).total_seconds())


def _by_state(states: tuple[str, ...]) -> dict[str, int]:
    counts = dict.fromkeys(SESSION_STATES, 0)
    for state in states:
        counts[state] = counts.get(state, 0) + 1
    return counts


def account_figures(
    state: AccountState | None,
    activity: Activity,
    telemetry: TelemetryTotals | None,
    now: datetime,
    account: str = DEFAULT_ACCOUNT,
) -> AccountFigures:
    windows: list[WindowFigures] = []
    extra: ExtraUsageFigures | None = None
    snap = state.snapshot if state is not None else None
    if snap is not None:
        for w in snap.windows:
            windows.append(WindowFigures(w.id, w.utilization / 100.0, _seconds_until(w.resets_at, now)))
        x = snap.extra_usage
        if x is not None:
            ratio = None if x.utilization is None else x.utilization / 100.0
            extra = ExtraUsageFigures(x.is_enabled, x.currency or "USD", x.used, x.monthly_limit, ratio)
    polls = dict.fromkeys(OUTCOMES, 0)
    polls.update(activity.polls)
    shown = state.error.kind.value if state is not None and state.error is not None else None
    errors = {kind.value: kind.value == shown for kind in ErrorKind}
    return AccountFigures(
        account=account,
        windows=tuple(windows),
        extra_usage=extra,
        polls=polls,
        errors=errors,
        cooldown_seconds=_seconds_until(activity.cooldown_until, now) or 0.0,
        next_poll_seconds=_seconds_until(activity.next_poll_at, now),
        consecutive_failures=activity.consecutive_failures,
        last_success_timestamp=snap.fetched_at.timestamp() if snap is not None else None,
        stale=state.stale if state is not None else None,
        tokens=dict(telemetry.tokens) if telemetry is not None else {},
        cost_usd=dict(telemetry.cost_usd) if telemetry is not None else {},
        requests=dict(telemetry.requests) if telemetry is not None else {},
    )


def snapshot(
    state: AccountState | None,
    activity: Activity,
    telemetry: TelemetryTotals | None,
    build: BuildInfo,
    now: datetime,
) -> MetricsSnapshot:
    """The snapshot of one Claude Watch (one account, ``default``, for now)."""
    hooks = dict.fromkeys(HOOK_EVENTS, 0)
    hooks.update(activity.hook_events)
    return MetricsSnapshot(
        build=build,
        accounts=(account_figures(state, activity, telemetry, now),),
        sessions=_by_state(activity.sessions),
        agents=_by_state(activity.agents),
        hook_events=hooks,
        telemetry_rejected=telemetry.rejected_posts if telemetry is not None else None,
    )
