"""The sample alert that "Send test" (settings page) and ``claude-watch notify test`` send.

A real threshold alert in every field, so each channel formats, queues and delivers it exactly as
it would a crossing; only its key is unique, so it is never de-duplicated against a real one or
an earlier test.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from trayapp.core.models import Alert, AlertKind, Level


def sample_alert(now: datetime | None = None) -> Alert:
    """The 5-hour window at 90%, resetting in 1 h 12 min; a unique key so it is never de-duplicated."""
    now = now or datetime.now(UTC)
    resets = now + timedelta(hours=1, minutes=12)
    return Alert(
        key=f"notify-test:{now.isoformat()}",
        kind=AlertKind.THRESHOLD,
        window_id="five_hour",
        window_label="5-hour",
        utilization=90.0,
        level=Level.CRITICAL,
        created_at=now,
        title="5-hour window at 90%",
        body=f"Resets in 1h 12m ({resets.astimezone().strftime('%H:%M')}). Test alert from Claude Watch.",
        threshold=90,
        resets_at=resets,
        burn_rate_per_hour=22.0,
    )
