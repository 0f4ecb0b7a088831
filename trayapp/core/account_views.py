"""How several accounts are shown: the popup's account cards, the tray tooltip's line per account,
which accounts get a tray icon of their own, and which account the popup shows.

The views (``ui/account_strip.py``, ``ui/account_trays.py``) only paint what these return, so the
wording and the choices are tested here without Qt. A card speaks of the 5-hour and weekly windows
(the two every plan has); a login the endpoint refused (401) or whose credentials are gone is
"signed out", whatever its last numbers were: they are no longer being updated.

Pure: no I/O, no Qt.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from trayapp import APP_NAME
from trayapp.core import humanize
from trayapp.core.models import AccountState, ErrorKind, Level, WindowState

MAX_TRAY_ICONS = 4  # one icon per account, at most this many (a panel has little room)
TRAY_BINDING = "binding"  # one icon: the tightest account's
TRAY_EACH = "each"  # one icon per account
SIGNED_OUT_KINDS = (ErrorKind.AUTH, ErrorKind.NO_CREDENTIALS)
FIVE_HOUR = "five_hour"
WEEKLY = "seven_day"


def signed_out(state: AccountState | None) -> bool:
    """The latest attempt found no usable login (a 401, or credentials missing or emptied)."""
    return state is not None and state.error is not None and state.error.kind in SIGNED_OUT_KINDS


def window_of(state: AccountState | None, window_id: str) -> WindowState | None:
    if state is None:
        return None
    return next((ws for ws in state.windows if ws.window.id == window_id), None)


@dataclass(frozen=True, slots=True)
class Card:
    """One account's row in the popup's strip: its label, its 5-hour and weekly percentages with
    their colour levels (stale: grey), when the 5-hour window resets, and what is wrong, if
    anything ("signed out" is shown in the error colour, other notes muted)."""

    label: str
    five_hour: float | None
    five_level: Level
    weekly: float | None
    weekly_level: Level
    reset: str
    signed_out: bool
    note: str


def card(label: str, state: AccountState | None, now: datetime) -> Card:
    """The card of account ``label`` for ``state`` (None: not polled yet)."""
    five, week = window_of(state, FIVE_HOUR), window_of(state, WEEKLY)
    stale = state is None or state.stale

    def level(ws: WindowState | None) -> Level:
        return Level.STALE if ws is None or stale else ws.level

    reset = ""
    if five is not None and five.window.resets_at is not None:
        left = five.window.resets_at - now
        countdown = humanize.format_countdown(left, compact=True)  # a card has little room
        reset = "reset due" if left.total_seconds() <= 0 else f"resets in {countdown}"
    out = signed_out(state)
    if out:
        note = "signed out"
    elif state is None or state.snapshot is None:
        note = "no reading yet" if state is not None and state.error is not None else "waiting…"
    elif state.stale:
        note = humanize.format_ago(state.age_seconds)
    else:
        note = ""
    return Card(
        label,
        five.window.utilization if five else None,
        level(five),
        week.window.utilization if week else None,
        level(week),
        reset,
        out,
        note,
    )


def tooltip_line(label: str, state: AccountState | None) -> str:
    """``Work: 5h 42% · week 61%`` (or why there are no numbers)."""
    if signed_out(state):
        return f"{label}: signed out"
    if state is None or state.snapshot is None:
        return f"{label}: waiting for the first reading"
    five, week = window_of(state, FIVE_HOUR), window_of(state, WEEKLY)
    bits = []
    if five is not None:
        bits.append(f"5h {humanize.format_percent(five.window.utilization)}")
    if week is not None:
        bits.append(f"week {humanize.format_percent(week.window.utilization)}")
    text = f"{label}: {' · '.join(bits) or 'no limits reported'}"
    return f"{text} (stale)" if state.stale else text


def several_tooltip(states: Mapping[str, AccountState]) -> str:
    """The single tray icon's tooltip with several accounts: the app's name, one line each."""
    return "\n".join([APP_NAME, *(tooltip_line(label, state) for label, state in states.items())])


def account_tooltip(label: str, state: AccountState | None, now: datetime) -> str:
    """An account's own tray icon's tooltip: the usual one, headed by the account's label."""
    if state is None:
        return f"{label} · {APP_NAME}\nWaiting for the first reading…"
    body = humanize.tooltip_text(state, now).split("\n", 1)
    return f"{label} · {APP_NAME}" + (f"\n{body[1]}" if len(body) > 1 else "")


def tray_accounts(order: Sequence[str], mode: str) -> list[str]:
    """The accounts that get a tray icon of their own, in order (empty: the one binding icon).
    With one account the option changes nothing."""
    if mode != TRAY_EACH or len(order) < 2:
        return []
    return list(order[:MAX_TRAY_ICONS])


def shown_label(chosen: str | None, order: Sequence[str], binding: str) -> str:
    """The account the popup shows: the one the user chose while it is still there, else the
    binding (tightest) account."""
    return chosen if chosen is not None and chosen in order else binding
