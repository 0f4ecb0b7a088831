"""Login freshness: how long Claude Code's login lasts, and which warning is due. Pure.

The login deadline is ``refreshTokenExpiresAt`` in Claude Code's credentials: 27-30 days after
sign-in, and no refresh extends it. It is never mixed up with the short-lived access token
(``expiresAt``, about 8 h), which Claude Code refreshes by itself on its next request.

Warnings come at :data:`THRESHOLDS` (7, 3 and 1 days left), once per threshold per login: the
memory is keyed by account and by a hash of the deadline, so a new login (a new deadline) re-arms
them. The account is its stable key (:attr:`~trayapp.core.accounts.Account.key`, "default" for the
default login, so a memory file written before accounts existed still holds), never its label, so
a rename repeats nothing. With several accounts each status carries its label and every text
names it ("Work: Login renews in 3 days"). A jump over several thresholds (the app was off for a
week) gives one warning, for the nearest. A warning held back (alerts off or paused) is not marked
as sent, so the next check delivers it. At the deadline itself nothing more is sent here: Claude
Code's refresh then fails, and the alert policy's one "signed out" notification per episode takes over.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Any

from trayapp.core.accounts import account_title
from trayapp.core.models import Alert, AlertKind, Level

THRESHOLDS: tuple[int, ...] = (7, 3, 1)
DEFAULT_ACCOUNT = "default"
SIGN_IN_COMMAND = "claude auth login"
DAILY_CHECK_AT = time(9, 0)  # local time of the daily check
# Wall time moving this much further than monotonic time means the machine slept (or the clock moved).
SLEEP_GAP = timedelta(minutes=2)
SIGN_IN_ACTION = "login.sign_in"  # the notification button's name (desktop channel actions)


@dataclass(frozen=True, slots=True)
class LoginStatus:
    """One account's login as the app sees it: signed in or not, and until when.

    ``account`` is the account's key (what the memory files warnings under); ``label`` its name
    now (empty: the key), ``several`` whether there are other accounts (texts then name it), and
    ``command`` the sign-in command to show (an added account's names its config folder)."""

    account: str
    signed_in: bool
    deadline: datetime | None  # refreshTokenExpiresAt; None when unknown
    now: datetime
    reason: str = ""  # why signed out, in the user's words
    label: str = ""
    several: bool = False
    command: str = SIGN_IN_COMMAND

    @property
    def name(self) -> str:
        return self.label or self.account

    @property
    def left(self) -> timedelta | None:
        return None if self.deadline is None else self.deadline - self.now

    @property
    def lapsed(self) -> bool:
        left = self.left
        return left is not None and left <= timedelta(0)

    @property
    def days_left(self) -> int | None:
        """Whole days left (rounded down; 0 in the last day and after the deadline)."""
        left = self.left
        if left is None:
            return None
        return max(0, math.floor(left / timedelta(days=1)))

    @property
    def ok(self) -> bool:
        return self.signed_in and not self.lapsed


def deadline_key(deadline: datetime) -> str:
    """A short stable hash of the deadline (to the millisecond, as Claude Code writes it)."""
    ms = int(deadline.astimezone(UTC).timestamp() * 1000)
    return hashlib.sha256(str(ms).encode()).hexdigest()[:12]


def _day(d: datetime, tz: tzinfo | None) -> str:
    local = d.astimezone(tz)
    return f"{local.day} {local.strftime('%b')}"


def _left_words(left: timedelta) -> str:
    days = math.floor(left / timedelta(days=1))
    if days >= 1:
        return f"{days} day{'s' if days != 1 else ''}"
    hours = max(1, math.floor(left / timedelta(hours=1)))
    return f"{hours} hour{'s' if hours != 1 else ''}"


def _named(status: LoginStatus, text: str) -> str:
    return account_title(status.name, text, several=status.several)


def status_text(status: LoginStatus, tz: tzinfo | None = None) -> str:
    """The popup's line: "Login renews in 12 days (run `claude auth login` before 15 Dec)"; with
    several accounts it starts with the account's label ("Work: ...")."""
    return _named(status, _status_words(status, tz))


def _status_words(status: LoginStatus, tz: tzinfo | None) -> str:
    command = status.command
    if not status.signed_in:
        return f"Signed out: run `{command}`"
    if status.deadline is None:
        return "Login deadline unknown (Claude Code did not record one)"
    if status.lapsed:
        return f"Login lapsed on {_day(status.deadline, tz)}: run `{command}`"
    left = status.left
    assert left is not None
    return f"Login renews in {_left_words(left)} (run `{command}` before {_day(status.deadline, tz)})"


def tooltip_line(status: LoginStatus) -> str | None:
    """The tray tooltip's short line ("Login renews in 12 days"; "Work: Login renews in 3 days"
    with several accounts), or None when nothing to say."""
    left = status.left
    if not status.signed_in:
        text = f"Signed out: run `{status.command}`"
    elif left is None:
        return None
    elif left <= timedelta(0):
        text = f"Login lapsed: run `{status.command}`"
    else:
        text = f"Login renews in {_left_words(left)}"
    return _named(status, text)


def compact_text(status: LoginStatus, tz: tzinfo | None = None) -> str:
    """A line among several accounts' (the popup; the sign-in command is on its button):
    "Work: Login renews in 2 days (before 5 Dec)", "Lab: Signed out"."""
    if not status.signed_in:
        return _named(status, "Signed out")
    words = f"Login {short_text(status, tz)}"
    if status.ok and status.deadline is not None:
        words += f" (before {_day(status.deadline, tz)})"
    return _named(status, words)


def short_text(status: LoginStatus, tz: tzinfo | None = None) -> str:
    """A few words for a list of accounts: "renews in 12 days", "signed out", "lapsed on 5 Dec"."""
    left = status.left
    if not status.signed_in:
        return "signed out"
    if status.deadline is None or left is None:
        return "deadline unknown"
    if left <= timedelta(0):
        return f"lapsed on {_day(status.deadline, tz)}"
    return f"renews in {_left_words(left)}"


def sign_in_env(config_dir: str | None) -> dict[str, str]:
    """The environment ``claude auth login`` needs for an account: an added account's folder as
    ``CLAUDE_CONFIG_DIR`` (None: the default login, Claude Code's own lookup)."""
    return {} if config_dir is None else {"CLAUDE_CONFIG_DIR": config_dir}


def sign_in_text(config_dir: str | None, home: str | None = None) -> str:
    """The sign-in command as shown to the user ("CLAUDE_CONFIG_DIR=~/.claude-work claude auth
    login" for an added account; ``home`` shortens the folder)."""
    if config_dir is None:
        return SIGN_IN_COMMAND
    if any(c.isspace() or c in "'\"$`\\;&|<>()*?[]#~" for c in config_dir):
        shown = "'" + config_dir.replace("'", "'\\''") + "'"  # quoted: no ~ shortening inside
    elif home and config_dir.startswith(home.rstrip("/") + "/"):
        shown = "~" + config_dir[len(home.rstrip("/")) :]
    else:
        shown = config_dir
    return f"CLAUDE_CONFIG_DIR={shown} {SIGN_IN_COMMAND}"


@dataclass(frozen=True, slots=True)
class LoginMemory:
    """Per account: the deadline hash of the login last warned about and the thresholds sent."""

    fired: dict[str, tuple[str, tuple[int, ...]]] = field(default_factory=dict)

    def sent(self, account: str, key: str) -> tuple[int, ...]:
        entry = self.fired.get(account)
        return entry[1] if entry is not None and entry[0] == key else ()

    def to_json(self) -> dict[str, Any]:
        return {
            "version": 1,
            "accounts": {a: {"deadline": k, "sent": list(t)} for a, (k, t) in self.fired.items()},
        }

    @classmethod
    def from_json(cls, data: Any) -> LoginMemory:
        """Strict but forgiving: malformed entries are dropped (at worst a warning comes again)."""
        accounts = data.get("accounts") if isinstance(data, dict) else None
        if not isinstance(accounts, dict):
            return cls()
        fired: dict[str, tuple[str, tuple[int, ...]]] = {}
        for account, entry in accounts.items():
            if not isinstance(account, str) or not isinstance(entry, dict):
                continue
            key, sent = entry.get("deadline"), entry.get("sent")
            if not isinstance(key, str) or not isinstance(sent, list):
                continue
            fired[account] = (key, tuple(t for t in sent if isinstance(t, int) and not isinstance(t, bool)))
        return cls(fired)


def due_threshold(status: LoginStatus, memory: LoginMemory) -> int | None:
    """The threshold to warn about now (the nearest crossed and unsent), or None."""
    left = status.left
    if not status.signed_in or left is None or left <= timedelta(0) or status.deadline is None:
        return None
    sent = memory.sent(status.account, deadline_key(status.deadline))
    crossed = [t for t in THRESHOLDS if left <= timedelta(days=t)]
    unsent = [t for t in crossed if t not in sent]
    return min(unsent) if unsent else None


def warning_alert(status: LoginStatus, threshold: int, tz: tzinfo | None = None) -> Alert:
    assert status.deadline is not None
    left = status.left or timedelta(0)
    label = "Claude login" if status.account == DEFAULT_ACCOUNT else f"{status.name} login"
    return Alert(
        key=f"login:{status.account}:{deadline_key(status.deadline)}:{threshold}",
        kind=AlertKind.LOGIN_EXPIRING,
        window_id="account",
        window_label=label,
        utilization=0.0,
        level=Level.CRITICAL if threshold <= 1 else Level.WARNING,
        created_at=status.now,
        title=_named(status, f"Claude Code login lapses in {_left_words(left)}"),
        body=(
            f"Your Claude Code login lapses on {_day(status.deadline, tz)}. Run `{status.command}` "
            "before then: Claude Code does not renew it by itself."
        ),
        threshold=threshold,
        extra={"account": status.account, "actions": f"{SIGN_IN_ACTION}=Open sign-in"},
    )


def evaluate(
    status: LoginStatus, memory: LoginMemory, *, held: bool = False, tz: tzinfo | None = None
) -> tuple[Alert | None, LoginMemory]:
    """The warning to send now (if any) and the new memory. ``held``: alerts are off or paused,
    so nothing is sent and nothing is marked (the next check after the hold delivers it)."""
    threshold = due_threshold(status, memory)
    if threshold is None or held:
        return None, memory
    assert status.deadline is not None
    key = deadline_key(status.deadline)
    left = status.left or timedelta(0)
    crossed = tuple(
        sorted({*memory.sent(status.account, key), *(t for t in THRESHOLDS if left <= timedelta(days=t))})
    )
    fired = {**memory.fired, status.account: (key, crossed)}
    return warning_alert(status, threshold, tz), replace(memory, fired=fired)


def next_daily_check(now: datetime, tz: tzinfo | None = None, at: time = DAILY_CHECK_AT) -> datetime:
    """The next daily check after ``now``: ``at`` local time today, or tomorrow if that passed."""
    local = now.astimezone(tz)
    target = local.replace(hour=at.hour, minute=at.minute, second=0, microsecond=0)
    if target <= local:
        target = (local + timedelta(days=1)).replace(hour=at.hour, minute=at.minute, second=0, microsecond=0)
    return target.astimezone(UTC)


def slept(wall_before: datetime, mono_before: float, wall_now: datetime, mono_now: float) -> bool:
    """Whether wall time ran ahead of monotonic time by more than :data:`SLEEP_GAP` (a suspend:
    monotonic time stops while asleep on Linux and macOS; or the clock was set forward)."""
    drift = (wall_now - wall_before) - timedelta(seconds=mono_now - mono_before)
    return abs(drift) > SLEEP_GAP
