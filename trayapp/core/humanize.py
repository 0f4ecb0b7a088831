"""Words and numbers for people: countdowns, data age, pace and projection sentences, money,
tooltips. Pure functions over values and an explicit ``now``, so the tray, the popup, the alert
policy and the tests all agree on one wording.

Clock times are shown in the local zone unless a ``tz`` is given (tests pass UTC).
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from trayapp.core.models import AccountState, ErrorKind, ExtraUsage, FetchError, WindowState

_CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "AUD": "A$", "CAD": "C$", "INR": "₹"}


def format_countdown(delta: timedelta | None) -> str:
    """A compact countdown: ``2 d 4 h``, ``1 h 12 min``, ``45 min``, ``30 s``, ``now``."""
    if delta is None:
        return "—"
    total = int(delta.total_seconds())
    if total <= 0:
        return "now"
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min"
    return f"{seconds} s"


def format_age(seconds: float | None) -> str:
    """How old the data is: ``updated just now``, ``updated 3 min ago``, ``updated 2 h ago``."""
    if seconds is None:
        return "not updated yet"
    if seconds < 45:
        return "updated just now"
    if seconds < 3600:
        return f"updated {max(1, round(seconds / 60))} min ago"
    if seconds < 86400:
        return f"updated {seconds / 3600:.0f} h ago"
    return f"updated {seconds / 86400:.0f} d ago"


def format_clock(when: datetime, now: datetime, tz: tzinfo | None = None) -> str:
    """``14:20`` today, ``Fri 14:20`` within a week, ``12 Aug 14:20`` beyond."""
    local = when.astimezone(tz)
    local_now = now.astimezone(tz)
    if local.date() == local_now.date():
        return local.strftime("%H:%M")
    if abs((local.date() - local_now.date()).days) < 7:
        return local.strftime("%a %H:%M")
    return local.strftime("%d %b %H:%M").lstrip("0")


def format_percent(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.0f}%"


def format_money(amount: float | None, currency: str = "USD", decimals: int = 2) -> str:
    """``$12.34``, ``€5.00``, ``12.34 CHF`` for currencies without a common symbol."""
    if amount is None:
        return "—"
    symbol = _CURRENCY_SYMBOLS.get(currency.upper())
    text = f"{amount:,.{decimals}f}"
    return f"{symbol}{text}" if symbol else f"{text} {currency.upper()}"


def extra_usage_text(extra: ExtraUsage) -> str:
    """``$12.34 of $50.00 this month`` or why there is nothing to show."""
    if not extra.is_enabled:
        return "Extra usage is off"
    used = format_money(extra.used or 0.0, extra.currency, extra.decimal_places)
    if extra.monthly_limit is None:
        return f"{used} used this month (no limit)"
    limit = format_money(extra.monthly_limit, extra.currency, extra.decimal_places)
    return f"{used} of {limit} this month"


def reset_text(ws: WindowState, now: datetime, tz: tzinfo | None = None) -> str:
    """``resets in 1 h 12 min · 14:00`` (the countdown measured from ``now``, not the snapshot)."""
    resets_at = ws.window.resets_at
    if resets_at is None:
        return "no active window"
    left = resets_at - now
    if left.total_seconds() <= 0:
        return "reset due now"
    return f"resets in {format_countdown(left)} · {format_clock(resets_at, now, tz)}"


def pace_text(ws: WindowState, now: datetime, tz: tzinfo | None = None) -> str:
    """The projection in words.

    ``at this pace: 100% at 14:20, 40 min before reset`` when the pace runs out first, otherwise
    ``on track: about 72% at reset``; empty when there is no pace to speak of.
    """
    resets_at = ws.window.resets_at
    if ws.window.utilization >= 100:
        return "limit reached: wait for the reset" if resets_at else "limit reached"
    if ws.projected_full_at is not None and resets_at is not None and ws.projected_full_at < resets_at:
        early = resets_at - ws.projected_full_at
        return (
            f"at this pace: 100% at {format_clock(ws.projected_full_at, now, tz)}, "
            f"{format_countdown(early)} before reset"
        )
    if ws.projected_at_reset is not None and ws.burn_rate_per_hour:
        return f"on track: about {min(ws.projected_at_reset, 100):.0f}% at reset"
    return ""


def burn_text(ws: WindowState) -> str:
    """``+6.5%/h`` or empty when the window is idle or unknown."""
    rate = ws.burn_rate_per_hour
    if rate is None or rate <= 0.05:
        return ""
    return f"+{rate:.1f}%/h" if rate < 10 else f"+{rate:.0f}%/h"


_FIXES: dict[ErrorKind, str] = {
    ErrorKind.AUTH: "Login expired: open Claude Code once to sign in again",
    ErrorKind.NO_CREDENTIALS: "No Claude Code login found: run `claude` and sign in",
    ErrorKind.RATE_LIMITED: "The usage endpoint is rate-limiting: showing the last reading",
    ErrorKind.NETWORK: "Offline or the usage endpoint is unreachable: check your connection",
    ErrorKind.SERVER: "Anthropic's usage endpoint is having trouble: retrying",
    ErrorKind.BAD_RESPONSE: "The usage endpoint answered in an unexpected format: retrying",
    ErrorKind.INTERNAL: "Claude Watch hit an unexpected error reading your usage: retrying later",
}


def error_fix(error: FetchError) -> str:
    """The headline of the error banner: what happened and what to do."""
    return _FIXES.get(error.kind, error.message or "Could not read your usage")


def banner_text(state: AccountState, now: datetime, tz: tzinfo | None = None) -> str:
    """The stale/error banner's text, or empty when all is well."""
    if state.error is not None:
        text = error_fix(state.error)
        if state.error.retry_at is not None and state.error.retry_at > now:
            text += f" (next try in {format_countdown(state.error.retry_at - now)})"
        return text
    if state.stale:
        return f"Data is stale ({format_age(state.age_seconds)}): waiting for a fresh reading"
    return ""


def tooltip_text(state: AccountState, now: datetime, tz: tzinfo | None = None) -> str:
    """The tray tooltip: every window with its % and reset countdown, one per line."""
    lines = ["Claude Watch"]
    if state.snapshot is None:
        if state.error is not None:
            lines.append(error_fix(state.error))
        else:
            lines.append("Waiting for the first reading…")
        return "\n".join(lines)
    for ws in state.windows:
        left = ws.window.resets_at - now if ws.window.resets_at else None
        countdown = f", resets in {format_countdown(left)}" if left is not None else ""
        lines.append(f"{ws.window.label}: {format_percent(ws.window.utilization)}{countdown}")
    extra = state.snapshot.extra_usage
    if extra is not None and extra.is_enabled:
        lines.append(f"Extra usage: {extra_usage_text(extra)}")
    if state.error is not None:
        lines.append(error_fix(state.error))
    elif state.stale:
        lines.append(f"Stale: {format_age(state.age_seconds)}")
    return "\n".join(lines)
