"""The values that flow between sources, services and the UI. Frozen, typed, no behaviour
beyond small derived properties.

Percentages are 0-100 floats. Times are aware UTC datetimes. Window ids are stable strings:
``five_hour``, ``seven_day``, ``seven_day_opus``, ``seven_day_sonnet``, other ``seven_day_*``
keys as they come, and ``weekly_scoped:<display name>`` for scoped ``limits[]`` entries
without a flat twin.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum


class WindowKind(StrEnum):
    FIVE_HOUR = "five_hour"
    WEEKLY = "weekly"
    WEEKLY_SCOPED = "weekly_scoped"


class Source(StrEnum):
    """Where a snapshot's numbers came from."""

    API = "api"
    STATUSLINE = "statusline"
    AGENT = "agent"
    DEMO = "demo"


class Level(StrEnum):
    """How worried the user should be; drives icon colour and popup accents."""

    OK = "ok"
    WARNING = "warning"
    CRITICAL = "critical"
    AT_LIMIT = "at_limit"
    STALE = "stale"
    ERROR = "error"


def level_for(utilization: float) -> Level:
    """Colour level of a utilization percentage (the stale/error states are decided elsewhere)."""
    if utilization >= 100:
        return Level.AT_LIMIT
    if utilization >= 90:
        return Level.CRITICAL
    if utilization >= 75:
        return Level.WARNING
    return Level.OK


@dataclass(frozen=True, slots=True)
class Window:
    id: str
    label: str
    kind: WindowKind
    utilization: float
    resets_at: datetime | None
    # Length of the window, for burn-rate math: 5 h or 7 days.
    length: timedelta = timedelta(hours=5)

    @property
    def starts_at(self) -> datetime | None:
        if self.resets_at is None:
            return None
        try:
            return self.resets_at - self.length
        except OverflowError:  # an absurd reset (year 1) must not take the app down
            return None


# The span of believable reset times. A reset outside it (year 1, year 9999) is corruption: window
# math on it overflows. Inside it, a reset far from the reading (a machine whose clock is off by
# months) is still shown as it is: refusing it would stop monitoring on such machines for good.
EARLIEST_RESET = datetime(2020, 1, 1, tzinfo=UTC)
LATEST_RESET = datetime(2100, 1, 1, tzinfo=UTC)


def reset_is_plausible(resets_at: datetime | None) -> bool:
    """Whether a window's reset time is believable (None, "no reset known", is)."""
    if resets_at is None:
        return True
    try:
        return EARLIEST_RESET <= resets_at < LATEST_RESET
    except TypeError:  # a naive datetime cannot be compared: not ours to guess
        return False


@dataclass(frozen=True, slots=True)
class ExtraUsage:
    """Pay-as-you-go usage credits. Money is in minor units (cents) of ``currency``."""

    is_enabled: bool
    monthly_limit_minor: float | None
    used_minor: float | None
    utilization: float | None
    currency: str = "USD"
    decimal_places: int = 2

    @property
    def used(self) -> float | None:
        return None if self.used_minor is None else self.used_minor / 10**self.decimal_places

    @property
    def monthly_limit(self) -> float | None:
        return (
            None if self.monthly_limit_minor is None else self.monthly_limit_minor / 10**self.decimal_places
        )


@dataclass(frozen=True, slots=True)
class UsageSnapshot:
    """One consistent reading of the account's limits."""

    fetched_at: datetime
    source: Source
    windows: tuple[Window, ...]
    extra_usage: ExtraUsage | None = None
    # Claude Code version seen with this reading (statusline captures carry it).
    client_version: str | None = None

    def window(self, window_id: str) -> Window | None:
        for w in self.windows:
            if w.id == window_id:
                return w
        return None


class ErrorKind(StrEnum):
    RATE_LIMITED = "rate_limited"
    AUTH = "auth"
    NETWORK = "network"
    SERVER = "server"
    BAD_RESPONSE = "bad_response"
    NO_CREDENTIALS = "no_credentials"
    # A bug or an unexpected failure inside Claude Watch (logged, counted, shown in `doctor`).
    INTERNAL = "internal"
    # The data disk is full: the last stored reading is shown, nothing new can be saved.
    DISK_FULL = "disk_full"


@dataclass(frozen=True, slots=True)
class FetchError:
    """Why the latest attempt failed, in words a user can act on."""

    kind: ErrorKind
    message: str
    retry_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AccountInfo:
    """Who is signed in to Claude Code (from its credentials and ``.claude.json``)."""

    email: str | None = None
    organization: str | None = None
    subscription_type: str | None = None  # pro | max | team | enterprise
    rate_limit_tier: str | None = None  # e.g. default_claude_max_20x
    access_token_expires_at: datetime | None = None
    login_expires_at: datetime | None = None  # refreshTokenExpiresAt

    @property
    def plan(self) -> str | None:
        """Human plan label: "Max 20x", "Max 5x", "Pro", ..."""
        tier = (self.rate_limit_tier or "").lower()
        sub = (self.subscription_type or "").lower()
        if "max_20x" in tier:
            return "Max 20x"
        if "max_5x" in tier:
            return "Max 5x"
        if sub:
            return sub.capitalize() if sub != "max" else "Max"
        return None


@dataclass(frozen=True, slots=True)
class WindowState:
    """A window plus what the app derives from its history."""

    window: Window
    level: Level
    time_to_reset: timedelta | None
    burn_rate_per_hour: float | None  # percentage points per hour over the current window
    projected_at_reset: float | None  # percent at reset at the current pace
    projected_full_at: datetime | None  # when the pace reaches 100%, if before the reset


@dataclass(frozen=True, slots=True)
class AccountState:
    """Everything the tray, popup and alert policy need, in one value.

    ``snapshot`` is the last good reading (kept when later polls fail); ``error`` is the latest
    failure, if the latest attempt failed. ``stale`` is true when the snapshot is older than
    the staleness limit or the latest attempt failed.
    """

    snapshot: UsageSnapshot | None
    windows: tuple[WindowState, ...] = ()
    binding: WindowState | None = None
    error: FetchError | None = None
    stale: bool = False
    age_seconds: float | None = None
    account: AccountInfo | None = None
    # Human hints about credentials: "login expires in 2 days", "missing user:profile scope"...
    notices: tuple[str, ...] = ()

    @property
    def level(self) -> Level:
        if self.snapshot is None and self.error is not None:
            return Level.ERROR
        if self.stale:
            return Level.STALE
        if self.binding is None:
            return Level.OK
        return self.binding.level


class AlertKind(StrEnum):
    THRESHOLD = "threshold"
    PREDICTIVE = "predictive"
    FRESH_WINDOW = "fresh_window"
    # Claude Code sessions (core/session_alerts): ``window_id`` is "sessions" for these.
    SESSION_NEEDS_YOU = "session_needs_you"
    SESSION_FINISHED = "session_finished"
    SESSION_FAILED = "session_failed"
    SESSION_STARTED = "session_started"
    SIGNED_OUT = "signed_out"  # Claude Code's login expired: monitoring is paused until a new login
    # The window scheduler (services/scheduler_service): ``window_id`` is "five_hour".
    WINDOW_REMINDER = "window_reminder"  # "Start your 5-hour window now?" with Start now / Skip
    WINDOW_START = "window_start"  # how an automatic (or button) start ended: verified or not
    # Claude Code's login nears its deadline (core/login_freshness): 7, 3 and 1 days before.
    LOGIN_EXPIRING = "login_expiring"
    # Achievements unlocked (core/achievements; opt-in): one alert for everything new at once.
    ACHIEVEMENT = "achievement"
    # Agents started by Claude Watch (features/agents): ``window_id`` is "agents", the key names the
    # task, so a restart (of the task or the app) never repeats one.
    AGENT_STARTED = "agent_started"
    AGENT_DONE = "agent_done"
    AGENT_FAILED = "agent_failed"


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert decided by the alert policy, ready for any channel.

    ``key`` is unique per window instance and threshold (window id + resets_at + what), so a
    channel can de-duplicate and a restart never repeats it.
    """

    key: str
    kind: AlertKind
    window_id: str
    window_label: str
    utilization: float
    level: Level
    created_at: datetime
    title: str
    body: str
    threshold: int | None = None
    resets_at: datetime | None = None
    burn_rate_per_hour: float | None = None
    projected_full_at: datetime | None = None
    critical: bool = False
    extra: dict[str, str] = field(default_factory=dict)
