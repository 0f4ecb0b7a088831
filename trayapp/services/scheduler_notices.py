"""The window scheduler's notifications, as :class:`~trayapp.core.models.Alert` values for the one
delivery path (the dispatcher): the reminder "Start your 5-hour window now?" with the buttons
"Start now" and "Skip", and the outcome of a start (verified: a quiet note; not opened or failed: one
warning that says the anchor reminds from now on). Keys are unique per anchor occurrence, so the
remote channels' outbox and the quip cache never take one for another.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from trayapp.channels.desktop import actions_extra
from trayapp.core.models import Alert, AlertKind, Level
from trayapp.core.schedule import Anchor, Attempt, Outcome, coverage

START, SKIP = "schedule.start", "schedule.skip"  # the reminder's buttons (desktop on_action names)
REMINDER_TITLE = "Start your 5-hour window now?"
BILLING = "headless use may be billed separately"


def reminder(
    anchor: Anchor, due_at: datetime, key: str, now: datetime, tz: ZoneInfo, utilization: float
) -> Alert:
    """The reminder for one anchor occurrence; ``key`` is its :func:`anchor_key`."""
    local_due = due_at.astimezone(tz)
    body = f"No 5-hour window is open. {coverage(anchor, local_due.date(), tz)}."
    if (now - due_at).total_seconds() >= 120:
        body += f" (It was due at {local_due.strftime('%H:%M')}.)"
    return Alert(
        key=f"schedule:{key}",
        kind=AlertKind.WINDOW_REMINDER,
        window_id="five_hour",
        window_label="5-hour",
        utilization=utilization,
        level=Level.OK,
        created_at=now,
        title=REMINDER_TITLE,
        body=body,
        extra={
            "actions": actions_extra([(START, "Start now"), (SKIP, "Skip")]),
            "anchor_id": anchor.id,
            "anchor_key": key,
        },
    )


def outcome_notice(attempt: Attempt, key: str, now: datetime, demoted: bool) -> Alert | None:
    """What a start's outcome says (None: nothing worth a notification, e.g. refused by the guard
    during an automatic start; the attempts log and the timeline still show it)."""
    anchor = f" ({attempt.anchor_id})" if attempt.anchor_id else ""
    if attempt.outcome is Outcome.VERIFIED:
        title, level = f"5-hour window started{anchor}", Level.OK
        body = attempt.detail or "Verified: the 5-hour window is open."
    elif attempt.outcome in (Outcome.NOT_OPENED, Outcome.FAILED):
        title, level = f"The 5-hour window did not open{anchor}", Level.WARNING
        body = attempt.detail or "The start did not open a window"
        if attempt.outcome is Outcome.NOT_OPENED and BILLING not in body:
            body += f" ({BILLING})"
        if demoted:
            body += ". This anchor reminds you from now on, until a start is verified."
    elif attempt.outcome is Outcome.REFUSED:
        title, level = "Not started", Level.OK
        body = attempt.detail or "The guard refused the start"
    else:
        return None
    return Alert(
        key=f"schedule-start:{key}",
        kind=AlertKind.WINDOW_START,
        window_id="five_hour",
        window_label="5-hour",
        utilization=0.0,
        level=level,
        created_at=now,
        title=title,
        body=body,
        extra={"anchor_id": attempt.anchor_id or "", "outcome": attempt.outcome.value},
    )
