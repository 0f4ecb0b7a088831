"""Values for settings: the errors, and turning command-line text or TOML values into valid,
normalised values for a key of :data:`trayapp.settings_schema.SCHEMA` (split from the schema so the
table of settings has room to grow).
"""

from __future__ import annotations

from trayapp.settings_schema import BY_KEY, Setting

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up cost)
if TYPE_CHECKING:
    from typing import Any


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


def parse_value(key: str, value: Any) -> Any:
    """``value`` validated (and normalised) for ``key``; raises SettingsError."""
    setting = BY_KEY.get(key)
    if setting is None:
        raise SettingsError(f"unknown setting {key!r}; `claude-watch config list` shows them all")
    return _check(setting, value)
