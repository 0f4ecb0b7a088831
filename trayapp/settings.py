"""Declarative settings: one schema drives defaults, validation, the CLI and the settings dialog.

User settings live in a human-readable TOML file (``paths.settings_file()``), with dotted keys
mapped to tables (``poll.interval_minutes`` -> ``[poll] interval_minutes``). App state (alert
history, cooldowns, scan offsets) lives elsewhere, never here. Secrets never live here.

Reading never fails: an unknown key, a wrong type or an out-of-range value produces a warning
and the default, and the file's other values still apply. Unknown keys are preserved on write,
so a newer version's settings survive a round-trip through an older one.

The schema (every setting, its type, range and help, and validation) is in
:mod:`trayapp.settings_schema`; its names are re-exported here.

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
from trayapp.settings_schema import (
    BY_KEY,
    SCHEMA,
    STATUSLINE_SEGMENTS,
    Setting,
)
from trayapp.settings_values import (
    SettingEffectError,
    SettingsError,
    format_value,
    parse_text,
    parse_value,
)
from trayapp.settings_values import _check as _check
from trayapp.store import settings_file
from trayapp.store.settings_file import SettingsFileError as SettingsFileError

__all__ = [
    "BY_KEY",
    "SCHEMA",
    "STATUSLINE_SEGMENTS",
    "Setting",
    "SettingEffectError",
    "Settings",
    "SettingsError",
    "SettingsFileError",
    "commit",
    "format_value",
    "load",
    "parse_text",
    "parse_value",
    "start_at_login",
]

# Every command loads the settings, so this module keeps its start-up cost low: tomllib, tomli_w
# and fcntl are imported where they are used (store/settings_file.py). typing.TYPE_CHECKING
# without importing typing; mypy treats any name TYPE_CHECKING as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from typing import Any

    Callback = Callable[[list[str], "Settings"], None]


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
