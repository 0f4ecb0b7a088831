"""The alert policy: which threshold, pace and fresh-window alerts an account state deserves.

Pure: :func:`evaluate` takes an :class:`AccountState`, the policy's :class:`PolicyConfig`, its
:class:`PolicyMemory` (what already fired, which window instance was seen last) and ``now``,
and returns the alerts to send plus the new memory. The service persists the memory as JSON, so
a restart, a 429 or a stale reading never repeats an alert.

Rules. Each crossing fires once per window *instance* (window id + ``resets_at``); a jump over
several thresholds gives one alert, for the highest. Stale or failed readings never fire. When a
window that had been used past 50% resets, a "fresh window" alert says so. A predictive warning
fires once per instance when the pace reaches 100% at least 15 minutes before the reset. Quiet
hours hold non-critical alerts and "pause" holds all of them: a held threshold or pace alert is
simply not marked as fired, so the first fresh reading after the hold delivers it (collapsed to
the highest threshold); a held fresh-window alert waits in ``pending`` while its instance lasts.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Any

from trayapp.core.humanize import format_clock, format_countdown
from trayapp.core.models import (
    AccountState,
    Alert,
    AlertKind,
    ErrorKind,
    Level,
    WindowKind,
    WindowState,
    level_for,
)

# Two readings whose resets_at differ by less than this belong to the same window instance
# (the endpoint's resets_at jitters by fractions of a second between polls).
INSTANCE_TOLERANCE = timedelta(minutes=10)
PREDICTIVE_MARGIN = timedelta(minutes=15)
# Projections from the first few percent of a window are noise, not a warning.
PREDICTIVE_MIN_UTILIZATION = 10.0
FRESH_AFTER = 50.0
CRITICAL_FROM = 90
# Memory of window instances older than this is dropped.
FORGET_AFTER = timedelta(days=10)
# Fired while Claude Code's login is expired; cleared by the next good reading (one per episode).
SIGNED_OUT_KEY = "account:signed-out"


@dataclass(frozen=True, slots=True)
class PolicyConfig:
    enabled: bool = True
    five_hour_thresholds: tuple[int, ...] = (50, 75, 90, 100)
    weekly_thresholds: tuple[int, ...] = (50, 75, 90, 100)
    predictive: bool = True
    fresh_window: bool = True
    quiet_hours: tuple[time, time] | None = None
    paused_until: datetime | None = None

    def thresholds_for(self, kind: WindowKind) -> tuple[int, ...]:
        if kind is WindowKind.FIVE_HOUR:
            return tuple(sorted(self.five_hour_thresholds))
        return tuple(sorted(self.weekly_thresholds))


@dataclass(frozen=True, slots=True)
class InstanceMemory:
    """The last seen instance of one window: its reset time and the highest use seen."""

    resets_at: datetime | None
    peak: float
    label: str


@dataclass(frozen=True, slots=True)
class PolicyMemory:
    fired: dict[str, datetime] = field(default_factory=dict)
    windows: dict[str, InstanceMemory] = field(default_factory=dict)
    pending: tuple[Alert, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "version": 1,
            "fired": {k: v.isoformat() for k, v in self.fired.items()},
            "windows": {
                wid: {
                    "resets_at": m.resets_at.isoformat() if m.resets_at else None,
                    "peak": m.peak,
                    "label": m.label,
                }
                for wid, m in self.windows.items()
            },
            "pending": [_alert_to_json(a) for a in self.pending],
        }

    @classmethod
    def from_json(cls, data: Any) -> PolicyMemory:
        """Rebuild memory from :meth:`to_json` output; unreadable parts are dropped, not fatal."""
        if not isinstance(data, dict):
            return cls()
        fired: dict[str, datetime] = {}
        for k, v in (data.get("fired") or {}).items():
            try:
                fired[str(k)] = datetime.fromisoformat(v)
            except (TypeError, ValueError):
                continue
        windows: dict[str, InstanceMemory] = {}
        for wid, m in (data.get("windows") or {}).items():
            try:
                ra = m.get("resets_at")
                windows[str(wid)] = InstanceMemory(
                    resets_at=datetime.fromisoformat(ra) if ra else None,
                    peak=float(m.get("peak", 0.0)),
                    label=str(m.get("label", wid)),
                )
            except (AttributeError, TypeError, ValueError):
                continue
        pending: list[Alert] = []
        for raw in data.get("pending") or []:
            try:
                pending.append(_alert_from_json(raw))
            except (KeyError, TypeError, ValueError):
                continue
        return cls(fired=fired, windows=windows, pending=tuple(pending))


def _alert_to_json(a: Alert) -> dict[str, Any]:
    return {
        "key": a.key,
        "kind": a.kind.value,
        "window_id": a.window_id,
        "window_label": a.window_label,
        "utilization": a.utilization,
        "level": a.level.value,
        "created_at": a.created_at.isoformat(),
        "title": a.title,
        "body": a.body,
        "threshold": a.threshold,
        "resets_at": a.resets_at.isoformat() if a.resets_at else None,
        "critical": a.critical,
    }


def _alert_from_json(d: dict[str, Any]) -> Alert:
    return Alert(
        key=d["key"],
        kind=AlertKind(d["kind"]),
        window_id=d["window_id"],
        window_label=d["window_label"],
        utilization=float(d["utilization"]),
        level=Level(d["level"]),
        created_at=datetime.fromisoformat(d["created_at"]),
        title=d["title"],
        body=d["body"],
        threshold=d.get("threshold"),
        resets_at=datetime.fromisoformat(d["resets_at"]) if d.get("resets_at") else None,
        critical=bool(d.get("critical", False)),
    )


def parse_quiet_hours(text: str) -> tuple[time, time] | None:
    """``"22:00-07:00"`` -> (22:00, 07:00); empty or malformed -> None."""
    text = (text or "").strip()
    if not text or "-" not in text:
        return None
    try:
        start, end = (time.fromisoformat(p.strip()) for p in text.split("-", 1))
    except ValueError:
        return None
    return (start, end) if start != end else None


def in_quiet_hours(now: datetime, quiet: tuple[time, time] | None, tz: tzinfo | None = None) -> bool:
    """Whether local ``now`` falls in the quiet span (which may wrap past midnight)."""
    if quiet is None:
        return False
    t = now.astimezone(tz).time().replace(tzinfo=None)
    start, end = quiet
    if start < end:
        return start <= t < end
    return t >= start or t < end


def instance_key(window_id: str, resets_at: datetime | None) -> str:
    """Stable id of a window instance: ``resets_at`` in UTC, rounded to the minute."""
    if resets_at is None:
        return f"{window_id}@none"
    r = (resets_at.astimezone(UTC) + timedelta(seconds=30)).replace(second=0, microsecond=0)
    return f"{window_id}@{r.strftime('%Y-%m-%dT%H:%MZ')}"


def _same_instance(a: datetime | None, b: datetime | None) -> bool:
    if a is None or b is None:
        return a is b
    return abs(a - b) < INSTANCE_TOLERANCE


def _threshold_alert(ws: WindowState, threshold: int, key: str, now: datetime, tz: tzinfo | None) -> Alert:
    w = ws.window
    resets = ""
    if w.resets_at is not None:
        resets = f"Resets in {format_countdown(w.resets_at - now)} ({format_clock(w.resets_at, now, tz)})."
    if threshold >= 100:
        title = f"{w.label}: limit reached"
        body = f"You have used {w.utilization:.0f}% of your {w.label} limit. {resets}".strip()
    else:
        title = f"{w.label} at {w.utilization:.0f}%"
        body = f"You passed {threshold}% of your {w.label} limit. {resets}".strip()
    return Alert(
        key=key,
        kind=AlertKind.THRESHOLD,
        window_id=w.id,
        window_label=w.label,
        utilization=w.utilization,
        level=level_for(w.utilization),
        created_at=now,
        title=title,
        body=body,
        threshold=threshold,
        resets_at=w.resets_at,
        burn_rate_per_hour=ws.burn_rate_per_hour,
        projected_full_at=ws.projected_full_at,
        critical=threshold >= CRITICAL_FROM,
    )


def _predictive_alert(ws: WindowState, key: str, now: datetime, tz: tzinfo | None) -> Alert:
    w = ws.window
    assert ws.projected_full_at is not None
    assert w.resets_at is not None
    early = format_countdown(w.resets_at - ws.projected_full_at)
    return Alert(
        key=key,
        kind=AlertKind.PREDICTIVE,
        window_id=w.id,
        window_label=w.label,
        utilization=w.utilization,
        level=level_for(w.utilization),
        created_at=now,
        title=f"{w.label}: on pace to run out",
        body=(
            f"At this pace you reach 100% at {format_clock(ws.projected_full_at, now, tz)}, "
            f"{early} before the reset. Now at {w.utilization:.0f}%."
        ),
        resets_at=w.resets_at,
        burn_rate_per_hour=ws.burn_rate_per_hour,
        projected_full_at=ws.projected_full_at,
    )


def _fresh_alert(ws: WindowState, prev: InstanceMemory, key: str, now: datetime) -> Alert:
    w = ws.window
    return Alert(
        key=key,
        kind=AlertKind.FRESH_WINDOW,
        window_id=w.id,
        window_label=w.label,
        utilization=w.utilization,
        level=Level.OK,
        created_at=now,
        title=f"{w.label}: fresh window",
        body=f"Your {w.label} limit reset (you had used {prev.peak:.0f}%). Now at {w.utilization:.0f}%.",
        resets_at=w.resets_at,
    )


def evaluate(
    state: AccountState,
    config: PolicyConfig,
    memory: PolicyMemory,
    now: datetime,
    tz: tzinfo | None = None,
) -> tuple[list[Alert], PolicyMemory]:
    """Decide the alerts for ``state``; returns (alerts to send now, new memory)."""
    if state.error is not None:
        return _signed_out(state, config, memory, now)
    if state.snapshot is None or state.stale:
        return [], memory
    fired = dict(memory.fired)
    fired.pop(SIGNED_OUT_KEY, None)  # a good reading ends a signed-out episode
    windows = dict(memory.windows)
    pending = list(memory.pending)
    out: list[Alert] = []
    paused = config.paused_until is not None and now < config.paused_until
    quiet = in_quiet_hours(now, config.quiet_hours, tz)

    def held(alert: Alert) -> bool:
        return not config.enabled or paused or (quiet and not alert.critical)

    for ws in state.windows:
        w = ws.window
        prev = windows.get(w.id)
        if prev is not None and _same_instance(prev.resets_at, w.resets_at):
            # Same instance: keep the first-seen resets_at so keys never drift with jitter.
            ikey = instance_key(w.id, prev.resets_at)
            windows[w.id] = replace(prev, peak=max(prev.peak, w.utilization), label=w.label)
        else:
            ikey = instance_key(w.id, w.resets_at)
            windows[w.id] = InstanceMemory(resets_at=w.resets_at, peak=w.utilization, label=w.label)
            if (
                prev is not None
                and config.fresh_window
                and prev.peak >= FRESH_AFTER
                and w.utilization < prev.peak
                and (prev.resets_at is None or w.resets_at is None or w.resets_at > prev.resets_at)
            ):
                fresh = _fresh_alert(ws, prev, f"{ikey}:fresh", now)
                if fresh.key not in fired:
                    pending.append(fresh)
        # Predictive: once per instance, only when the pace runs out well before the reset.
        pace_due = (
            config.predictive
            and PREDICTIVE_MIN_UTILIZATION <= w.utilization < 100
            and ws.projected_full_at is not None
            and w.resets_at is not None
            and w.resets_at - ws.projected_full_at >= PREDICTIVE_MARGIN
            and f"{ikey}:predictive" not in fired
        )
        # Thresholds: the highest crossed one not yet fired; lower ones are then implied.
        crossed = [t for t in config.thresholds_for(w.kind) if w.utilization >= t]
        unfired = [t for t in crossed if f"{ikey}:t{t}" not in fired]
        if unfired:
            alert = _threshold_alert(ws, max(unfired), f"{ikey}:t{max(unfired)}", now, tz)
            if pace_due:
                # One notification per reading: the pace warning rides along with the crossing.
                pace = _predictive_alert(ws, f"{ikey}:predictive", now, tz)
                alert = replace(alert, body=f"{alert.body} {pace.body.split('. Now at')[0]}.")
            if not held(alert):
                out.append(alert)
                for t in crossed:
                    fired.setdefault(f"{ikey}:t{t}", now)
                if pace_due:
                    fired[f"{ikey}:predictive"] = now
        elif pace_due:
            alert = _predictive_alert(ws, f"{ikey}:predictive", now, tz)
            if not held(alert):
                out.append(alert)
                fired[alert.key] = now

    # Pending fresh-window alerts: deliver when no longer held, drop when their instance is over.
    still: list[Alert] = []
    for alert in pending:
        if alert.key in fired or (alert.resets_at is not None and alert.resets_at <= now):
            continue
        if held(alert):
            still.append(alert)
            continue
        out.append(replace(alert, created_at=now))
        fired[alert.key] = now
    fired = {k: v for k, v in fired.items() if now - v < FORGET_AFTER}
    return out, PolicyMemory(fired=fired, windows=windows, pending=tuple(still))


def _signed_out(
    state: AccountState, config: PolicyConfig, memory: PolicyMemory, now: datetime
) -> tuple[list[Alert], PolicyMemory]:
    """One "sign in again" notification per episode of an expired login (polling stops until the
    credentials change, so without it the numbers silently went old). Held while alerts are off
    or paused; it is not critical, so quiet hours hold it too, and it comes once they end."""
    error = state.error
    if error is None or error.kind is not ErrorKind.AUTH or SIGNED_OUT_KEY in memory.fired:
        return [], memory
    paused = config.paused_until is not None and now < config.paused_until
    if not config.enabled or paused or in_quiet_hours(now, config.quiet_hours):
        return [], memory
    alert = Alert(
        key=f"{SIGNED_OUT_KEY}:{now.isoformat()}",
        kind=AlertKind.SIGNED_OUT,
        window_id="account",
        window_label="Claude login",
        utilization=0.0,
        level=Level.ERROR,
        created_at=now,
        title="Monitoring paused: sign in again",
        body=f"{error.message} Run `claude` and use /login; Claude Watch carries on by itself afterwards.",
    )
    return [alert], replace(memory, fired={**memory.fired, SIGNED_OUT_KEY: now})
