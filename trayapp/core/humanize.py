"""Words and numbers for people: durations and countdowns, data age, money, token counts, pace and
projection sentences, tooltips. Pure functions over values and an explicit ``now``, so the tray,
the popup, the CLI, the alert policy, the quips and the tests all agree on one wording. One
function per concept; a ``compact=True`` style (``2h05m``, ``1.2M``, ``$123``) serves narrow
places (the statusline, the popup's local-usage figures), with the same rounding and units.

Clock times are shown in the local zone unless a ``tz`` is given (tests pass UTC).

The statusline command and the report's warm path import this module, so it imports nothing at
run time: the models and ``datetime`` are for type checking only (values arrive as objects), and
the error texts are keyed by ``ErrorKind`` values, which are strings. A test runs the import in a
fresh interpreter to keep it that way.
"""

from __future__ import annotations

from trayapp import APP_NAME

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing; mypy treats it as true
if TYPE_CHECKING:
    from datetime import datetime, timedelta, tzinfo

    from trayapp.core.models import AccountState, ExtraUsage, FetchError, WindowState

_CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "AUD": "A$", "CAD": "C$", "INR": "₹"}


def _seconds(value: timedelta | float) -> float:
    return value if isinstance(value, int | float) else value.total_seconds()


def format_duration(value: timedelta | float | None, *, compact: bool = False) -> str:
    """A span of time (a timedelta or seconds) in its two largest units, cut, not rounded.

    ``2 d 4 h``, ``2 d``, ``1 h 12 min``, ``1 h``, ``45 min``, ``30 s``; a unit that is zero is
    left out. Compact: ``2d4h``, ``2d``, ``1h05m``, ``1h``, ``45m``, ``<1m``. Negative spans
    count as zero; None is ``—``.
    """
    if value is None:
        return "—"
    total = max(0, int(_seconds(value)))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if compact:
        if days:
            return f"{days}d{hours}h" if hours else f"{days}d"
        if hours:
            return f"{hours}h{minutes:02d}m" if minutes else f"{hours}h"
        return f"{minutes}m" if minutes else "<1m"
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min"
    return f"{seconds} s"


def format_countdown(value: timedelta | float | None, *, compact: bool = False) -> str:
    """Time left until something: :func:`format_duration`, or ``now`` once it is due."""
    if value is None:
        return "—"
    if int(_seconds(value)) <= 0:
        return "now"
    return format_duration(value, compact=compact)


def format_ago(seconds: float | None) -> str:
    """How long ago, rounded to one unit: ``just now``, ``3 min ago``, ``2 h ago``, ``3 d ago``."""
    if seconds is None:
        return "never"
    if seconds < 45:
        return "just now"
    minutes = max(1, round(seconds / 60))
    if minutes < 60:
        return f"{minutes} min ago"
    hours = round(seconds / 3600)
    if hours < 24:
        return f"{hours} h ago"
    return f"{round(seconds / 86400)} d ago"


def format_age(seconds: float | None) -> str:
    """How old the data is: ``updated just now``, ``updated 3 min ago``, ``updated 2 h ago``."""
    if seconds is None:
        return "not updated yet"
    return f"updated {format_ago(seconds)}"


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


def format_money(
    amount: float | None,
    currency: str = "USD",
    decimals: int = 2,
    *,
    unpriced: bool = False,
    compact: bool = False,
) -> str:
    """``$1,234.56``, ``€5.00``, ``12.34 CHF`` for currencies without a common symbol.

    ``unpriced`` marks an estimate that left some usage out (a model without a price) with
    ``*``; ``compact`` drops the cents from 100 up (``$123``).
    """
    if amount is None:
        return "—"
    if compact and abs(amount) >= 100:
        decimals = 0
    symbol = _CURRENCY_SYMBOLS.get(currency.upper())
    text = f"{amount:,.{decimals}f}"
    text = f"{symbol}{text}" if symbol else f"{text} {currency.upper()}"
    return text + "*" if unpriced else text


def short_model_name(name: str) -> str:
    """``claude-sonnet-4-5-20250929`` -> ``sonnet-4.5``; ``claude-opus-4-8-fast`` -> ``opus-4.8-fast``.

    For tables that must fit a terminal: the family, the version with a dot, and any suffix that
    is not a date. Names of another shape come back without the ``claude-`` prefix."""
    parts = name.removeprefix("claude-").split("-")
    if parts and len(parts[-1]) == 8 and parts[-1].isdigit():
        parts = parts[:-1]  # the release date
    out: list[str] = []
    i = 0
    while i < len(parts):
        part = parts[i]
        if part.isdigit() and i + 1 < len(parts) and parts[i + 1].isdigit() and len(parts[i + 1]) <= 2:
            out.append(f"{part}.{parts[i + 1]}")
            i += 2
            continue
        out.append(part)
        i += 1
    return "-".join(out)


def format_tokens(count: int, *, compact: bool = False) -> str:
    """A token count: ``1,234,567``; compact ``1.2M``, ``5.6k``, ``999`` (never ``1000.0k``)."""
    if not compact or abs(count) < 1000:
        return f"{count:,}"
    for unit, size in (("k", 1e3), ("M", 1e6)):
        text = f"{count / size:.1f}"
        if abs(float(text)) < 1000:
            return text + unit
    return f"{count / 1e9:,.1f}B"


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
    ``on track: about 72% at reset``, or ``at this pace: over the limit by 20% at reset`` when the
    projection passes 100% without a time for it; empty when there is no pace to speak of.
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
        if ws.projected_at_reset > 100.5:  # never "about 100%" for a pace that runs out
            return f"at this pace: over the limit by {ws.projected_at_reset - 100:.0f}% at reset"
        return f"on track: about {ws.projected_at_reset:.0f}% at reset"
    return ""


def burn_text(ws: WindowState) -> str:
    """``+6.5%/h`` or empty when the window is idle or unknown."""
    rate = ws.burn_rate_per_hour
    if rate is None or rate <= 0.05:
        return ""
    return f"+{rate:.1f}%/h" if rate < 10 else f"+{rate:.0f}%/h"


# Keyed by ErrorKind's string values (a StrEnum member looks itself up), so this module needs
# no models import at run time; a test checks every kind has its fix.
_FIXES: dict[str, str] = {
    "auth": "Login expired: open Claude Code once to sign in again",
    "no_credentials": "No Claude Code login found: run `claude` and sign in",
    "rate_limited": "The usage endpoint is rate-limiting: showing the last reading",
    "network": "Offline or the usage endpoint is unreachable: check your connection",
    "server": "Anthropic's usage endpoint is having trouble: retrying",
    "bad_response": "The usage endpoint answered in an unexpected format: retrying",
    "internal": f"{APP_NAME} hit an unexpected error reading your usage: retrying later",
    "disk_full": "Disk full: new readings cannot be saved; showing the last one (free some space)",
}


def display_text(text: str) -> str:
    """Text for a GUI label or a desktop notification: the `code` marks the command line keeps
    (``run `claude` and sign in``) become quotes, since a label would show the backticks."""
    parts = text.split("`")
    if len(parts) < 3 or len(parts) % 2 == 0:  # none, or unbalanced: leave it alone
        return text
    return "".join(p if i % 2 == 0 else f"“{p}”" for i, p in enumerate(parts))


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
    lines = [APP_NAME]
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
