"""Directory and settings lookups for the statusline command without the heavy imports.

``trayapp.paths.app_dirs()`` imports platformdirs (about 10 ms) when ``CLAUDE_WATCH_HOME`` is
unset, and ``trayapp.settings`` pulls in dataclasses, tempfile and re (about 20 ms together);
either alone would eat most of the statusline's time budget. This module computes the same
directories as strings (Linux and macOS by hand, following platformdirs' rules including the
XDG variables; Windows falls back to platformdirs) and reads the two settings the command needs
straight from the TOML file. Unit tests compare both against the real implementations.
"""

from __future__ import annotations

import os
import sys

APP_ID = "claude-watch"  # trayapp.APP_ID; a test keeps them equal
HOME_ENV = "CLAUDE_WATCH_HOME"

# trayapp.settings.STATUSLINE_SEGMENTS and the default of ``statusline.segments``; tests keep them equal.
SEGMENTS = ("model", "five_hour", "seven_day", "session_cost", "context", "today_cost")
DEFAULT_SEGMENTS = ("model", "five_hour", "seven_day", "session_cost")


def _xdg(var: str) -> str | None:
    # platformdirs ignores a relative XDG value.
    value = os.environ.get(var, "")
    return value if value.startswith("/") else None


def _home(sub: str) -> str:
    expanded = os.path.expanduser(sub)
    if not expanded.startswith("/"):
        raise RuntimeError("no absolute home directory")
    return expanded


def _platform_dirs(platform: str) -> dict[str, str]:
    if platform.startswith("linux") or platform.startswith(("freebsd", "openbsd", "netbsd")):
        config = os.path.join(_xdg("XDG_CONFIG_HOME") or _home("~/.config"), APP_ID)
        state = os.path.join(_xdg("XDG_STATE_HOME") or _home("~/.local/state"), APP_ID)
        return {"config": config, "state": state, "logs": os.path.join(state, "log")}
    if platform == "darwin":
        support = os.path.join(_home("~/Library/Application Support"), APP_ID)
        config = os.path.join(xdg, APP_ID) if (xdg := _xdg("XDG_CONFIG_HOME")) else support
        state = os.path.join(xdg, APP_ID) if (xdg := _xdg("XDG_STATE_HOME")) else support
        return {"config": config, "state": state, "logs": os.path.join(_home("~/Library/Logs"), APP_ID)}
    raise NotImplementedError(platform)


def app_dirs(platform: str | None = None) -> dict[str, str]:
    """``config``, ``state`` and ``logs`` directories, identical to ``trayapp.paths.app_dirs()``."""
    home = os.environ.get(HOME_ENV)
    if home:
        root = os.path.expanduser(home)
        return {
            "config": os.path.join(root, "config"),
            "state": os.path.join(root, "state"),
            "logs": os.path.join(root, "logs"),
        }
    try:
        return _platform_dirs(platform or sys.platform)
    except (NotImplementedError, RuntimeError):
        from trayapp import paths  # Windows, or an odd HOME: the slow but authoritative way

        d = paths.app_dirs()
        return {"config": str(d.config), "state": str(d.state), "logs": str(d.logs)}


def read_settings(config_dir: str) -> tuple[tuple[str, ...], str, list[str]]:
    """Return (segments, tracking time zone, problems) from the settings file.

    Mirrors ``trayapp.settings.load()`` for these two keys: a missing file means defaults, a bad
    value means the default plus a problem message (logged by the caller, never printed).
    """
    path = os.path.join(config_dir, "settings.toml")
    from trayapp.store.files import UnsafeFileError, read_capped

    try:
        raw = read_capped(path, 1 << 20)  # never a FIFO (it would hang Claude Code's status line)
    except UnsafeFileError as exc:
        return DEFAULT_SEGMENTS, "", [f"settings file not read: {exc}"]
    except OSError:
        return DEFAULT_SEGMENTS, "", []
    import tomllib

    problems: list[str] = []
    try:
        table = tomllib.loads(raw.decode("utf-8", errors="replace"))
    except tomllib.TOMLDecodeError as exc:
        return DEFAULT_SEGMENTS, "", [f"settings file is not valid TOML: {exc}"]
    except RecursionError:
        return DEFAULT_SEGMENTS, "", ["settings file is nested too deeply"]
    segments = DEFAULT_SEGMENTS
    section = table.get("statusline")
    if isinstance(section, dict) and "segments" in section:
        value = section["segments"]
        if isinstance(value, list) and all(isinstance(s, str) and s in SEGMENTS for s in value):
            segments = tuple(value)
        else:
            problems.append("statusline.segments is invalid; using the default")
    tz = ""
    tracking = table.get("tracking")
    if isinstance(tracking, dict) and isinstance(tracking.get("timezone"), str):
        tz = tracking["timezone"]
    return segments, tz, problems
