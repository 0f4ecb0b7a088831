"""Declarative settings: one schema drives defaults, validation, the CLI and the settings dialog.

User settings live in a human-readable TOML file (``paths.settings_file()``), with dotted keys
mapped to tables (``poll.interval_minutes`` -> ``[poll] interval_minutes``). App state (alert
history, cooldowns, scan offsets) lives elsewhere, never here. Secrets never live here.

Reading never fails: an unknown key, a wrong type or an out-of-range value produces a warning
and the default, and the file's other values still apply. Unknown keys are preserved on write,
so a newer version's settings survive a round-trip through an older one.

The file is the one source of truth, shared by the app, ``claude-watch config`` and the user's
editor. Writers never dump their copy in memory: :meth:`Settings.update` re-reads the file under
a lock, changes only the keys it was given and writes the result atomically, and it refuses (the
file left byte for byte as it was) when the file does not parse (the file format and the merge
are in ``store/settings_file.py``). :func:`commit` is the one way the
dialog and the CLI save, with the effects outside the file (the autostart entry for
``app.start_at_login``). The running app re-reads the file when it changes
(:meth:`Settings.reload`, driven by ``services/settings_watcher.py``), and the parts that depend
on settings learn what changed through :meth:`Settings.subscribe`.
"""

from __future__ import annotations

from pathlib import Path

from trayapp import paths
from trayapp.store import settings_file
from trayapp.store.settings_file import SettingsFileError as SettingsFileError

# Every command loads the settings, so this module keeps its start-up cost low: tomllib, tomli_w,
# fcntl and re are imported where they are used, and the records are plain ``__slots__``
# classes rather than dataclasses (about a millisecond each to define). typing.TYPE_CHECKING
# without importing typing; mypy treats any name TYPE_CHECKING as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from typing import Any

    Validator = Callable[[Any], str | None]
    Callback = Callable[[list[str], "Settings"], None]


class Setting:
    """One user setting (read-only by convention). ``type`` is one of bool, int, float, str, list (of
    ``item_type``)."""

    __slots__ = ("key", "type", "default", "label", "section", "help", "minimum", "maximum", "choices",
                 "item_type", "validator")  # fmt: skip

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
    ) -> None:
        self.key = key
        self.type = type
        self.default = default
        self.label = label
        self.section = section
        self.help = help
        self.minimum = minimum
        self.maximum = maximum
        self.choices = choices
        self.item_type = item_type
        self.validator = validator

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


STATUSLINE_SEGMENTS = ("model", "five_hour", "seven_day", "session_cost", "context", "today_cost")

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
        "history.retention_days", int, 90, "Keep usage history for (days)", "Usage", minimum=1, maximum=3650
    ),
    # --- tray, popup and timeline
    Setting("ui.theme", str, "system", "Theme", "Appearance", choices=("system", "light", "dark")),
    Setting("ui.timeline_range", str, "24h", "Timeline range", "Appearance", choices=("24h", "7d")),
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
    Setting(
        "tracking.cost_mode", str, "auto", "Cost mode", "Tracking", choices=("auto", "calculate", "display")
    ),
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
)

BY_KEY: dict[str, Setting] = {s.key: s for s in SCHEMA}


class SettingsError(ValueError):
    """A value given on the command line or in the dialog is not acceptable."""


class SettingEffectError(SettingsError):
    """A setting's effect outside the file failed (``key``: the setting); nothing was saved."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


def _check(setting: Setting, value: Any) -> Any:
    """Return ``value`` coerced to the setting's type, or raise SettingsError saying why."""
    t = setting.type
    if t is bool:
        if not isinstance(value, bool):
            raise SettingsError(f"{setting.key} must be true or false")
    elif t is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise SettingsError(f"{setting.key} must be a whole number")
    elif t is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise SettingsError(f"{setting.key} must be a number")
        value = float(value)
    elif t is str:
        if not isinstance(value, str):
            raise SettingsError(f"{setting.key} must be text")
    elif t is list:
        if not isinstance(value, list):
            raise SettingsError(f"{setting.key} must be a list")
        item = setting.item_type or str
        for v in value:
            if item is int and (isinstance(v, bool) or not isinstance(v, int)):
                raise SettingsError(f"{setting.key} must be a list of whole numbers")
            if item is str and not isinstance(v, str):
                raise SettingsError(f"{setting.key} must be a list of text values")
        value = sorted(set(value)) if item is int else list(value)
    if setting.minimum is not None and value < setting.minimum:
        raise SettingsError(f"{setting.key} must be at least {setting.minimum:g}")
    if setting.maximum is not None and value > setting.maximum:
        raise SettingsError(f"{setting.key} must be at most {setting.maximum:g}")
    if setting.choices is not None and value not in setting.choices:
        raise SettingsError(f"{setting.key} must be one of: {', '.join(setting.choices)}")
    if setting.validator is not None:
        problem = setting.validator(value)
        if problem:
            raise SettingsError(f"{setting.key}: {problem}")
    return value


def parse_text(key: str, text: str) -> Any:
    """Turn command-line text into a value for ``key`` (validated)."""
    setting = BY_KEY.get(key)
    if setting is None:
        raise SettingsError(f"unknown setting {key!r}; `claude-watch config list` shows them all")
    t = setting.type
    raw: Any
    if t is bool:
        low = text.strip().lower()
        if low in ("1", "true", "yes", "on"):
            raw = True
        elif low in ("0", "false", "no", "off"):
            raw = False
        else:
            raise SettingsError(f"{key} must be true or false")
    elif t is int:
        try:
            raw = int(text.strip())
        except ValueError:
            raise SettingsError(f"{key} must be a whole number") from None
    elif t is float:
        try:
            raw = float(text.strip())
        except ValueError:
            raise SettingsError(f"{key} must be a number") from None
    elif t is list:
        parts = [p.strip() for p in text.replace(";", ",").split(",") if p.strip()]
        if setting.item_type is int:
            try:
                raw = [int(p) for p in parts]
            except ValueError:
                raise SettingsError(f"{key} must be a comma-separated list of whole numbers") from None
        else:
            raw = parts
    else:
        raw = text
    return _check(setting, raw)


def format_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


def _interpret(flat: dict[str, Any], name: str) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """(valid values, unknown keys, warnings) of a flattened file."""
    values: dict[str, Any] = {}
    unknown: dict[str, Any] = {}
    warnings: list[str] = []
    for key, value in flat.items():
        setting = BY_KEY.get(key)
        if setting is None:
            unknown[key] = value
            warnings.append(f"unknown setting {key!r} in {name} ignored")
            continue
        try:
            values[key] = _check(setting, value)
        except SettingsError as exc:
            warnings.append(f"{exc}; using the default {format_value(setting.default)}")
    return values, unknown, warnings


def _under(key: str, prefix: str) -> bool:
    return key == prefix or key.startswith(prefix + ".")


class _Subscription:
    __slots__ = ("prefixes", "callback")

    def __init__(self, prefixes: tuple[str, ...], callback: Callback) -> None:
        self.prefixes = prefixes
        self.callback = callback


class Settings:
    """The effective settings: schema defaults overlaid with the valid values from the file.

    ``get`` reads the copy in memory. :meth:`update` (or :meth:`set` then :meth:`save`) writes
    through to the file, merged with what the file holds now; :meth:`reload` picks up what others
    wrote. Both tell the subscribers (:meth:`subscribe`) which keys changed.
    """

    def __init__(
        self,
        path: Path,
        values: dict[str, Any] | None = None,
        unknown: dict[str, Any] | None = None,
        warnings: list[str] | None = None,
    ) -> None:
        self.path = path
        self.values: dict[str, Any] = {} if values is None else values
        self.unknown: dict[str, Any] = {} if unknown is None else unknown
        self.warnings: list[str] = [] if warnings is None else warnings
        # Why the file was not used when last read (unreadable, not TOML); None when it was.
        self.file_error: str | None = None
        self._disk: bytes | None = None  # the file's bytes as last read or written; None: no file
        self._staged: set[str] = set()  # keys changed by set()/reset() and not saved yet
        self._announced: dict[str, Any] = dict(self.values)  # what the subscribers were last told
        self._subscriptions: list[_Subscription] = []

    def __repr__(self) -> str:
        return f"Settings(path={self.path!r}, values={self.values!r}, warnings={self.warnings!r})"

    def get(self, key: str) -> Any:
        if key in self.values:
            return self.values[key]
        return BY_KEY[key].default

    def is_default(self, key: str) -> bool:
        return key not in self.values

    def set(self, key: str, value: Any) -> None:
        """Validate and set ``key`` in memory; :meth:`save` writes the keys set since the last
        read or write (prefer :meth:`update`, which does both)."""
        setting = BY_KEY.get(key)
        if setting is None:
            raise SettingsError(f"unknown setting {key!r}")
        self.values[key] = _check(setting, value)
        self._staged.add(key)

    def reset(self, key: str) -> None:
        """Return ``key`` to its default in memory; :meth:`save` writes it."""
        self.values.pop(key, None)
        self._staged.add(key)

    def items(self) -> Iterable[tuple[Setting, Any]]:
        for s in SCHEMA:
            yield s, self.get(s.key)

    # ----- writing
    def save(self) -> list[str]:
        """Write the keys changed with :meth:`set` and :meth:`reset` since the file was last read
        or written, merged into the file as it is now (see :meth:`update`)."""
        changes = {k: self.values[k] for k in self._staged if k in self.values}
        return self.update(changes, reset=[k for k in self._staged if k not in self.values])

    def update(self, changes: Mapping[str, Any] | None = None, reset: Iterable[str] = ()) -> list[str]:
        """Save ``changes`` (key -> value) and return the ``reset`` keys to their defaults.

        Re-reads the file under a lock, applies only these keys, validates them and writes the
        result atomically (private mode): unknown keys and every other value in the file, even
        one this version cannot use, stay as they are. Changes made by others since the last read
        are taken in too. Returns the keys whose effective value changed, after telling the
        subscribers.

        Raises:
            SettingsError: an unknown key or an unacceptable value (nothing written).
            SettingsFileError: the file cannot be read or does not parse (left untouched).
            OSError: the file cannot be written.
        """
        checked: dict[str, Any] = {}
        for key, value in (changes or {}).items():
            setting = BY_KEY.get(key)
            if setting is None:
                raise SettingsError(f"unknown setting {key!r}")
            checked[key] = _check(setting, value)
        resets = list(reset)
        for key in resets:
            if key not in BY_KEY:
                raise SettingsError(f"unknown setting {key!r}")
        raw, merged = settings_file.merge(self.path, checked, resets)
        self._adopt(raw, merged)
        return self._announce()

    # ----- reading what others wrote
    def reload(self) -> list[str]:
        """Re-read the file; returns the keys whose effective value changed, after telling the
        subscribers. Unsaved :meth:`set` changes are dropped.

        Raises:
            SettingsFileError: the file cannot be read or does not parse; the settings in memory
                (the last good ones) stay as they are.
        """
        raw, flat = settings_file.read(self.path)
        if raw == self._disk and self.file_error is None:
            return []  # our own write, a touch, or still no file
        self._adopt(raw, flat)
        return self._announce()

    def _adopt(self, raw: bytes | None, flat: dict[str, Any]) -> None:
        self.values, self.unknown, self.warnings = _interpret(flat, self.path.name)
        self._disk = raw
        self.file_error = None
        self._staged = set()

    # ----- change notification
    def subscribe(self, prefixes: str | Iterable[str], callback: Callback) -> Callable[[], None]:
        """Call ``callback(keys, settings)`` whenever a reload or a save changes the effective
        value of keys under one of ``prefixes`` (a key such as ``ui.theme``, or a dotted prefix
        such as ``ui`` or ``tracking``); ``keys`` are the changed ones under those prefixes, in
        schema order. Returns a function that ends the subscription.

        Raises:
            SettingsError: a prefix that matches no setting (a typo fails here, at start-up,
                rather than never firing).
        """
        wanted = (prefixes,) if isinstance(prefixes, str) else tuple(prefixes)
        if not wanted:
            raise SettingsError("subscribe to at least one setting or prefix")
        wanted = tuple(p.rstrip(".") for p in wanted)
        for prefix in wanted:
            if not any(_under(key, prefix) for key in BY_KEY):
                raise SettingsError(
                    f"no setting matches {prefix!r}; `claude-watch config list` shows them all"
                )
        subscription = _Subscription(wanted, callback)
        self._subscriptions.append(subscription)

        def unsubscribe() -> None:
            self._subscriptions = [s for s in self._subscriptions if s is not subscription]

        return unsubscribe

    def _announce(self) -> list[str]:
        before, self._announced = self._announced, dict(self.values)
        changed = [s.key for s in SCHEMA if before.get(s.key, s.default) != self.values.get(s.key, s.default)]
        if changed:
            for sub in list(self._subscriptions):
                mine = [k for k in changed if any(_under(k, p) for p in sub.prefixes)]
                if not mine:
                    continue
                try:
                    sub.callback(mine, self)
                except Exception:  # one broken listener must not keep the others from the change
                    import logging

                    logging.getLogger(__name__).exception("settings listener %r failed", sub.callback)
        return changed


def load(path: Path | None = None) -> Settings:
    """Read the settings file; never raises for bad content (warnings say what was ignored, and
    ``file_error`` why a file that exists was not used)."""
    settings = Settings(path=path or paths.settings_file())
    try:
        raw, flat = settings_file.read(settings.path)
    except SettingsFileError as exc:
        settings.file_error = str(exc)
        settings.warnings.append(f"{exc}; using defaults")
        return settings
    settings._adopt(raw, flat)
    settings._announced = dict(settings.values)
    return settings


def start_at_login(on: bool) -> None:
    """Create or remove the platform's autostart entry (the effect of ``app.start_at_login``)."""
    from trayapp.platform import autostart

    autostart.set_enabled(on)


def commit(
    settings: Settings,
    changes: Mapping[str, Any] | None = None,
    reset: Iterable[str] = (),
    *,
    set_autostart: Callable[[bool], None] | None = start_at_login,
) -> list[str]:
    """Save settings the way the Settings dialog and ``claude-watch config`` both do: validate,
    make sure the file parses, apply the effects outside the file, then :meth:`Settings.update`.

    The one effect today: whenever ``app.start_at_login`` is among the keys saved (or reset),
    ``set_autostart(value)`` creates or removes the autostart entry, even when the value is
    unchanged, so saving it again repairs a missing entry. ``set_autostart=None`` skips it.

    Raises:
        SettingsError, SettingsFileError, OSError: as :meth:`Settings.update` (no effect applied).
        SettingEffectError: the effect failed; nothing was saved.
    """
    checked = {key: parse_value(key, value) for key, value in (changes or {}).items()}
    resets = list(reset)
    key = "app.start_at_login"
    if set_autostart is not None and (key in checked or key in resets):
        settings_file.read(settings.path)  # a file that does not parse: refuse before touching anything
        on = bool(checked[key]) if key in checked else bool(BY_KEY[key].default)
        try:
            set_autostart(on)
        except OSError as exc:
            raise SettingEffectError(key, f"could not change start at login: {exc}") from exc
    return settings.update(checked, resets)


def parse_value(key: str, value: Any) -> Any:
    """``value`` validated (and normalised) for ``key``; raises SettingsError."""
    setting = BY_KEY.get(key)
    if setting is None:
        raise SettingsError(f"unknown setting {key!r}; `claude-watch config list` shows them all")
    return _check(setting, value)
