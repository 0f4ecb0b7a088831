"""The settings schema: every user setting with its default, type, range, label and help, and the
rules that turn text or TOML values into valid ones.

One declaration drives defaults, validation, ``claude-watch config``, the Settings dialog and the
README table. The file itself, loading, saving and change notification are in
:mod:`trayapp.settings`.
"""

from __future__ import annotations

# Every command loads the settings, so this module keeps its start-up cost low: re is imported
# where it is used, and the records are plain ``__slots__`` classes rather than dataclasses
# (about a millisecond each to define). typing.TYPE_CHECKING without importing typing; mypy
# treats any name TYPE_CHECKING as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    Validator = Callable[[Any], str | None]


class Setting:
    """One user setting (read-only by convention). ``type`` is one of bool, int, float, str, list (of
    ``item_type``)."""

    __slots__ = ("key", "type", "default", "label", "section", "help", "minimum", "maximum", "choices",
                 "item_type", "validator", "choice_labels")  # fmt: skip

    def __init__(
        self,
        key: str,
        type: type,
        default: Any,
        label: str,
        section: str = "General",
        help: str = "",
        minimum: float | None = None,
        maximum: float | None = None,
        choices: tuple[str, ...] | None = None,
        item_type: type | None = None,
        validator: Validator | None = None,
        choice_labels: dict[str, str] | None = None,
    ) -> None:
        self.key = key
        self.type = type
        self.default = default
        self.label = label
        self.section = section
        self.help = help
        self.minimum = minimum
        self.maximum = maximum
        # A text setting's readable names are its choices (the file keeps the raw values).
        self.choices = tuple(choice_labels) if choices is None and choice_labels and type is str else choices
        self.item_type = item_type
        self.validator = validator
        self.choice_labels = choice_labels  # for the Settings dialog; `config` shows the raw values

    def __repr__(self) -> str:
        return f"Setting({self.key!r}, {self.type.__name__}, default={self.default!r})"


_QUIET_PATTERN = r"^\s*$|^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$"


def _quiet_hours(value: Any) -> str | None:
    import re

    if not isinstance(value, str) or not re.match(_QUIET_PATTERN, value):
        return "use HH:MM-HH:MM (for example 22:00-07:00), or empty for none"
    return None


def _thresholds(value: Any) -> str | None:
    if any(not 1 <= v <= 100 for v in value):
        return "thresholds are percentages from 1 to 100"
    return None


def _web_address(value: Any) -> str | None:
    if not str(value).startswith(("https://", "http://")):
        return "an http:// or https:// address"
    return None


def _listen_address(value: Any) -> str | None:
    if not str(value).strip():
        return None
    from trayapp.core.prom_metrics import parse_listen

    try:
        parse_listen(str(value))
    except ValueError as exc:
        return str(exc)
    return None


def _timezone(value: Any) -> str | None:
    if value == "":
        return None
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(value)
    except Exception:
        return f"unknown time zone {value!r} (use an IANA name such as Europe/Berlin, or empty for local)"
    return None


def _price_overrides(value: Any) -> str | None:
    from trayapp.core.pricing import parse_override

    for item in value:
        try:
            parse_override(item)
        except ValueError as exc:
            return str(exc)
    return None


def _container_slots(value: Any) -> str | None:
    from trayapp.core.container_slots import parse_slots

    try:
        parse_slots(value)
    except ValueError as exc:
        return str(exc)
    return None


# Readable names of raw values, for the Settings dialog (``config`` and the file keep the raw ones).
_THEMES = {"system": "Follow the system", "light": "Light", "dark": "Dark"}
_RANGES = {"24h": "Last 24 hours", "7d": "Last 7 days"}
_CLOSE = {"ask": "Ask each time", "quit": "Quit Claude Watch", "background": "Keep running in the background"}
_TRAY_ACCOUNTS = {
    "binding": "One icon: the account nearest its limit",
    "each": "One icon per account (up to 4)",
}
_COST = {
    "auto": "Automatic (use Claude Code's cost when present)",
    "calculate": "Calculate from token prices",
    "display": "Claude Code's recorded cost only",
}
_SEGMENTS = {"model": "Model", "five_hour": "5-hour window %", "seven_day": "Weekly window %"}
_SEGMENTS |= {"session_cost": "Session cost", "context": "Context used", "today_cost": "Today's cost"}
STATUSLINE_SEGMENTS = tuple(_SEGMENTS)

# The schema. Areas keep their keys together; add a key to your area's block.
SCHEMA: tuple[Setting, ...] = (
    # --- usage polling and history (account-usage engine)
    Setting(
        "poll.interval_minutes",
        int,
        5,
        "Poll the usage endpoint every (minutes)",
        "Usage",
        "Never more often than every 2 minutes: the endpoint rate-limits hard.",
        minimum=2,
        maximum=120,
    ),
    Setting(
        "poll.endpoint",
        bool,
        True,
        "Ask the usage endpoint",
        "Usage",
        "Off: never call it; readings come only from Claude Code's status line (install it with "
        "claude-watch statusline --install) while a session runs.",
    ),
    Setting(
        "history.retention_days", int, 90, "Keep usage history for (days)", "Usage", minimum=1, maximum=3650
    ),
    # --- tray, popup and timeline
    Setting("ui.theme", str, "system", "Theme", "Appearance", choice_labels=_THEMES),
    Setting("ui.timeline_range", str, "24h", "Timeline range", "Appearance", choice_labels=_RANGES),
    Setting(
        "ui.close_action",
        str,
        "ask",
        "Closing the dashboard window (no tray)",
        "Appearance",
        "ask: choose each time; quit: stop Claude Watch; background: keep monitoring and alerting",
        choice_labels=_CLOSE,
    ),
    Setting(
        "tray.accounts",
        str,
        "binding",
        "Tray icons with several accounts",
        "Appearance",
        "binding: one icon showing the account whose limit is the tightest; each: one icon per "
        "account (at most 4, in account order). With one account there is always one icon.",
        choice_labels=_TRAY_ACCOUNTS,
    ),
    Setting("app.start_at_login", bool, False, "Start Claude Watch at login", "General"),
    # --- alerts
    Setting("alerts.enabled", bool, True, "Alerts", "Alerts"),
    Setting(
        "alerts.five_hour_thresholds",
        list,
        [50, 75, 90, 100],
        "5-hour window thresholds (%)",
        "Alerts",
        item_type=int,
        validator=_thresholds,
    ),
    Setting(
        "alerts.weekly_thresholds",
        list,
        [50, 75, 90, 100],
        "Weekly window thresholds (%)",
        "Alerts",
        item_type=int,
        validator=_thresholds,
    ),
    Setting(
        "alerts.predictive", bool, True, "Warn when the current pace reaches 100% before the reset", "Alerts"
    ),
    Setting("alerts.fresh_window", bool, True, "Tell me when a window I had used resets", "Alerts"),
    Setting(
        "alerts.quiet_hours",
        str,
        "",
        "Quiet hours (non-critical alerts wait)",
        "Alerts",
        "HH:MM-HH:MM, for example 22:00-07:00; empty for none.",
        validator=_quiet_hours,
    ),
    Setting("alerts.desktop", bool, True, "Desktop notifications", "Alerts"),
    Setting("alerts.desktop_quips", bool, False, "Witty quips in desktop notifications", "Alerts"),
    # --- local token and cost tracking
    Setting(
        "tracking.timezone",
        str,
        "",
        "Time zone for daily reports",
        "Tracking",
        "IANA name; empty means the system's local zone.",
        validator=_timezone,
    ),
    Setting("tracking.cost_mode", str, "auto", "Cost mode", "Tracking", choice_labels=_COST),
    Setting(
        "tracking.price_overrides",
        list,
        [],
        "Price overrides",
        "Tracking",
        "model=input/output[/cache_write_5m/cache_write_1h/cache_read] in USD per million tokens.",
        item_type=str,
        validator=lambda v: _price_overrides(v),
    ),
    # --- statusline
    Setting(
        "statusline.segments",
        list,
        ["model", "five_hour", "seven_day", "session_cost"],
        "Status line segments",
        "Status line",
        "Any of: " + ", ".join(STATUSLINE_SEGMENTS),
        item_type=str,
        validator=lambda v: (
            None
            if all(s in STATUSLINE_SEGMENTS for s in v)
            else "unknown segment; use " + ", ".join(STATUSLINE_SEGMENTS)
        ),
        choice_labels=_SEGMENTS,
    ),
    # --- alert channels (secrets live in the OS keyring, never here)
    Setting("telegram.enabled", bool, False, "Send alerts to Telegram", "Channels"),
    Setting(
        "telegram.chat_id", str, "", "Telegram chat id", "Channels", "Found by `claude-watch telegram link`."
    ),
    Setting("slack.enabled", bool, False, "Send alerts to Slack", "Channels"),
    Setting(
        "channels.max_per_hour",
        int,
        6,
        "At most this many Telegram/Slack messages an hour",
        "Channels",
        minimum=1,
        maximum=120,
    ),
    Setting("quips.enabled", bool, True, "Let Claude write the alert quips (your own API key)", "Channels"),
    Setting("quips.model", str, "claude-haiku-4-5", "Model for quips", "Channels"),
    Setting("sound.enabled", bool, False, "Sound effects", "Channels"),
    Setting("sound.volume", int, 60, "Sound volume (%)", "Channels", minimum=0, maximum=100),
    Setting("achievements.enabled", bool, False, "Achievements for good pacing (local only)", "Achievements"),
    Setting("achievements.remote", bool, False, "Also tell Telegram and Slack about unlocks", "Achievements"),
    # --- Claude Code sessions (services/sessions_service.py) and the hook receiver
    Setting(
        "sessions.notify_needs_you",
        bool,
        True,
        "Tell me when a Claude Code session needs me (permission, question)",
        "Sessions",
    ),
    Setting("sessions.notify_finished", bool, True, "Tell me when a long turn finishes", "Sessions"),
    Setting(
        "sessions.finished_min_seconds",
        int,
        60,
        "A turn is long after (seconds)",
        "Sessions",
        "Quicker replies finish without a notification.",
        minimum=0,
        maximum=86400,
    ),
    Setting("sessions.notify_failed", bool, True, "Tell me when a turn fails", "Sessions"),
    Setting("sessions.notify_new_session", bool, False, "Tell me when a new session starts", "Sessions"),
    Setting(
        "hooks.receiver",
        bool,
        True,
        "Receive Claude Code's hook events",
        "Sessions",
        "A loopback-only HTTP receiver; `claude-watch hooks --install` points Claude Code at it.",
    ),
    Setting(
        "agents.max_concurrent",
        int,
        2,
        "Agents running at once on this machine",
        "Agents",
        minimum=1,
        maximum=16,
    ),
    Setting(
        "agents.hold_above",
        float,
        85.0,
        "Hold queued agents above this usage (%)",
        "Agents",
        "Queued tasks wait while the binding limit is above this, or Claude Code reports a rate "
        "limit, and start again after the reset.",
        minimum=0.0,
        maximum=100.0,
    ),
    Setting(
        "agents.container_slots",
        list,
        [],
        "Container slots for agents (NAME=IMAGE:CAP, optionally @NETWORK)",
        "Agents",
        "Each runs up to CAP tasks in IMAGE (which needs claude on PATH) with the task's folder mounted, "
        "as slot docker:NAME; e.g. box=claude-box:latest:2. Needs Docker or Podman and the token from "
        "`claude setup-token`, stored with `claude-watch secrets set claude-oauth-token`.",
        item_type=str,
        validator=_container_slots,
    ),
    Setting(
        "api.enabled",
        bool,
        True,
        "Serve the local API (web dashboard, browser extension, status bars)",
        "Integrations",
        "Loopback only, on the hook receiver's port; every data route needs the API token "
        "(state/api-token) or a paired client's token.",
    ),
    Setting(
        "telemetry.receiver",
        bool,
        True,
        "Receive Claude Code's OpenTelemetry (live tokens and cost per session)",
        "Integrations",
        "OTLP/HTTP on the local server's port (/v1/logs, /v1/metrics), hook token only; "
        "`claude-watch telemetry --install` points Claude Code at it.",
    ),
    Setting(
        "metrics.listen",
        str,
        "",
        "Serve /metrics to other machines on (ADDRESS:PORT)",
        "Integrations",
        "Empty: Prometheus metrics only at /metrics on the loopback API port. ADDRESS:PORT (e.g. "
        "0.0.0.0:9464) also serves /metrics, and nothing else, there for a Prometheus on another "
        "machine; it still needs the API token (state/api-token). A warning is logged.",
        validator=_listen_address,
    ),
    # --- update check (services/update_check.py): never downloads or runs anything
    Setting(
        "updates.check",
        bool,
        False,
        "Check once a day whether a newer version is out",
        "Updates",
        "Fetches a small release note from the releases address and shows a notification with its link.",
    ),
    Setting(
        "updates.url",
        str,
        "https://api.github.com/repos/claude-watch/claude-watch/releases/latest",
        "Releases address",
        "Updates",
        'GitHub releases/latest JSON, a {"version", "url"} JSON or an Atom feed.',
        validator=_web_address,
    ),
)

BY_KEY: dict[str, Setting] = {s.key: s for s in SCHEMA}
