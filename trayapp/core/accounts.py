"""Accounts: several Claude Code logins side by side, each one a Claude Code config folder.

An account is ``{label, config_dir, key}``. The default account is ``$CLAUDE_CONFIG_DIR`` (its
first entry) or ``~/.claude``; it is always there, labelled "default" unless the user named it.
Everything Claude Watch knows about an account is read from its folder, read-only: credentials,
identity (``.claude.json``), transcripts (``projects/``), live sessions (``sessions/``). Claude
Watch never stores an account's tokens and never switches the user's login.

``key`` is what the stores file an account's rows under: "default" for the default account (so
history recorded before accounts existed belongs to it) and the label an account was added
with otherwise; a rename changes the label, never the key, so no history is orphaned.

Pure: no I/O (the folders are resolved and the file read by :mod:`trayapp.store.accounts_repo`).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from trayapp.core.models import AccountState

DEFAULT_KEY = "default"
DEFAULT_LABEL = "default"
MAX_LABEL = 32
MAX_ACCOUNTS = 16


class AccountError(ValueError):
    """A label or folder that cannot be an account (the message says why, for the user)."""


@dataclass(frozen=True, slots=True)
class Account:
    """One Claude Code login: its label, its config folder and the key its rows are filed under."""

    label: str
    config_dir: Path
    key: str

    @property
    def is_default(self) -> bool:
        return self.key == DEFAULT_KEY


def validate_label(label: str) -> str:
    """The label, stripped, or :class:`AccountError`: short, printable, no path or control marks."""
    text = label.strip() if isinstance(label, str) else ""
    if not text:
        raise AccountError("an account label cannot be empty")
    if len(text) > MAX_LABEL:
        raise AccountError(f"an account label is at most {MAX_LABEL} characters")
    for ch in text:
        if unicodedata.category(ch)[0] == "C":  # Cc, Cf, Cs, Co, Cn: control and invisible marks
            raise AccountError("an account label cannot hold control characters")
    if "/" in text or "\\" in text:
        raise AccountError("an account label cannot hold / or \\")
    return text


def same_label(a: str, b: str) -> bool:
    """Labels are unique without regard to case ("Work" and "work" would be confusing)."""
    return a.casefold() == b.casefold()


def find(accounts: Iterable[Account], label: str) -> Account | None:
    return next((a for a in accounts if same_label(a.label, label)), None)


def check_new(accounts: Sequence[Account], label: str, config_dir: Path) -> str:
    """The validated label for a new account of ``config_dir``, or :class:`AccountError`."""
    text = validate_label(label)
    if len(accounts) >= MAX_ACCOUNTS:
        raise AccountError(f"at most {MAX_ACCOUNTS} accounts")
    if find(accounts, text) is not None:
        raise AccountError(f"there is already an account named {text!r}")
    if any(same_label(a.key, text) for a in accounts):
        # The key of a renamed account keeps its old label: a new one must not share its rows.
        raise AccountError(f"{text!r} was the name of an account still present; pick another")
    for a in accounts:
        if a.config_dir == config_dir:
            raise AccountError(f"{config_dir} is already the folder of account {a.label!r}")
    return text


def account_of_path(accounts: Sequence[Account], path: Path) -> Account | None:
    """The account whose config folder holds ``path`` (the deepest folder wins)."""
    best: Account | None = None
    for a in accounts:
        if path == a.config_dir or a.config_dir in path.parents:
            if best is None or len(a.config_dir.parts) > len(best.config_dir.parts):
                best = a
    return best


# --- several accounts' states ---------------------------------------------------------------------


def binding_label(states: Mapping[str, AccountState], order: Sequence[str]) -> str | None:
    """The account whose binding limit is the tightest (it decides how the user must pace);
    the first in ``order`` when none has a reading. Ties go to the earlier account."""
    best: tuple[float, str] | None = None
    for label in order:
        state = states.get(label)
        if state is None or state.binding is None:
            continue
        util = state.binding.window.utilization
        if best is None or util > best[0]:
            best = (util, label)
    if best is not None:
        return best[1]
    return order[0] if order else None


def headroom_hint(states: Mapping[str, AccountState], current: str, *, min_left: float = 20.0) -> str | None:
    """ "Personal has 62% weekly left": the other account with the most weekly room, when the
    current one is the tighter. None with one account or when no other has ``min_left``."""
    mine = _weekly_left(states.get(current))
    best: tuple[float, str] | None = None
    for label, state in states.items():
        if same_label(label, current):
            continue
        left = _weekly_left(state)
        if left is None or left < min_left or (mine is not None and left <= mine):
            continue
        if best is None or left > best[0]:
            best = (left, label)
    if best is None:
        return None
    return f"{best[1]} has {best[0]:.0f}% weekly left"


def _weekly_left(state: AccountState | None) -> float | None:
    if state is None or state.snapshot is None or state.stale:
        return None
    weekly = [ws.window for ws in state.windows if ws.window.id == "seven_day"]
    if not weekly:
        return None
    return max(0.0, 100.0 - weekly[0].utilization)


def account_title(label: str, title: str, *, several: bool) -> str:
    """An alert's title for one of several accounts ("Work: 5-hour at 90%"); unchanged alone."""
    return f"{label}: {title}" if several else title


def account_key(key: str, alert_key: str) -> str:
    """An alert key for an account's alert; the default account keeps today's keys, so alerts
    sent before accounts existed are never repeated."""
    return alert_key if key == DEFAULT_KEY else f"account:{key}:{alert_key}"


# --- staggered polling ------------------------------------------------------------------------


def stagger_offsets(labels: Sequence[str], interval: timedelta) -> dict[str, timedelta]:
    """Where each account's first poll goes: spread evenly over one interval, in order."""
    n = max(1, len(labels))
    return {label: interval * i / n for i, label in enumerate(labels)}


def min_gap(count: int, interval: timedelta) -> timedelta:
    """The least time between two polls of different accounts: a fraction of the even spacing
    (so a burst of due accounts is spread out), at most a minute, never zero."""
    if count <= 1:
        return timedelta(0)
    return max(timedelta(seconds=1), min(timedelta(minutes=1), interval / (2 * count)))


def next_turn(
    due: Mapping[str, datetime | None], last_poll: datetime | None, gap: timedelta
) -> tuple[str, datetime] | None:
    """Which account polls next and when: the earliest due (None: stopped until its credentials
    change, skipped), never closer than ``gap`` to the last poll of any account."""
    ready = [(at, label) for label, at in due.items() if at is not None]
    if not ready:
        return None
    at, label = min(ready, key=lambda item: item[0])
    if last_poll is not None and at < last_poll + gap:
        at = last_poll + gap
    return label, at


# --- the ledger by account ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LedgerShare:
    """One account's part of the local ledger: de-duplicated requests, their tokens and cost."""

    entries: int = 0
    tokens: int = 0
    cost: float = 0.0


def file_account(accounts: Sequence[Account], default_roots: Sequence[Path], path: Path) -> str | None:
    """The key of the account a transcript file belongs to (see :func:`ledger_by_account`)."""
    owner = account_of_path([a for a in accounts if not a.is_default], path)
    if owner is not None:
        return owner.key
    if any(root == path or root in path.parents for root in default_roots):
        return DEFAULT_KEY
    return None


def ledger_by_account(
    accounts: Sequence[Account], default_roots: Sequence[Path], rows: Iterable[Sequence[object]]
) -> dict[str, LedgerShare]:
    """Totals per account key from ``(path, entries, tokens, cost)`` rows per transcript file.

    A file's account is its root: under an added account's folder, that account; else under one of
    the default roots (Claude Code's own lookup, which is every transcript a ledger filled before
    accounts existed saw), the default account; else nobody's (a removed account's: its rows stay
    in the ledger, and in no account's total). Each file counts once, so adding or removing an
    account moves a file's rows, never copies or drops them."""
    out: dict[str, LedgerShare] = {}
    for path, entries, tokens, cost in rows:
        key = file_account(accounts, default_roots, Path(str(path)))
        if key is None:
            continue
        prev = out.get(key, LedgerShare())
        out[key] = LedgerShare(
            prev.entries + int(entries),  # type: ignore[call-overload]
            prev.tokens + int(tokens or 0),  # type: ignore[call-overload]
            prev.cost + float(cost or 0.0),  # type: ignore[arg-type]
        )
    return out
