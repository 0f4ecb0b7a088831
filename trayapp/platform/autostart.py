"""Start Claude Watch at login: XDG autostart on Linux, a LaunchAgent on macOS, the HKCU Run
key on Windows.

Each platform has the same three calls, :func:`is_enabled`, :func:`enable`, :func:`disable`
(and :func:`set_enabled`). The command started is the installed launcher
(:func:`trayapp.platform.launcher.launcher_command`): the AppImage, ``/usr/bin/claude-watch``,
the windowed exe on Windows, this install's ``claude-watch`` script, or ``python -m trayapp``.
"""

from __future__ import annotations

import os
import plistlib
import shlex
import sys
from pathlib import Path
from typing import Any

from trayapp.platform.launcher import launcher_command
from trayapp.store.files import atomic_write

LABEL = "com.claudewatch.app"
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
RUN_VALUE = "Claude Watch"


def launch_command() -> list[str]:
    """The installed tray launcher (see :mod:`trayapp.platform.launcher`; the windowed exe on
    Windows). Raises ``launcher.NoStableLauncher`` (an OSError) from a temporary mount."""
    return launcher_command(gui=True)


# ----- Linux / BSD: XDG autostart
def xdg_autostart_file() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "autostart" / "claude-watch.desktop"


def _desktop_entry(command: list[str]) -> str:
    return (
        "[Desktop Entry]\n"
        "Type=Application\n"
        "Name=Claude Watch\n"
        "Comment=Your Claude Pro/Max limits in the tray\n"
        f"Exec={shlex.join(command)}\n"
        "Icon=claude-watch\n"
        "Terminal=false\n"
        "X-GNOME-Autostart-enabled=true\n"
        "X-GNOME-Autostart-Delay=5\n"
    )


# ----- macOS: LaunchAgent
def launch_agent_file() -> Path:
    return Path.home() / "Library" / "LaunchAgents" / f"{LABEL}.plist"


# ----- Windows: HKCU Run
def _winreg() -> Any:
    import winreg  # type: ignore[import-not-found,unused-ignore]

    return winreg


def is_enabled() -> bool:
    if sys.platform == "win32":
        reg = _winreg()
        try:
            with reg.OpenKey(reg.HKEY_CURRENT_USER, RUN_KEY) as key:
                reg.QueryValueEx(key, RUN_VALUE)
            return True
        except OSError:
            return False
    if sys.platform == "darwin":
        return launch_agent_file().is_file()
    path = xdg_autostart_file()
    if not path.is_file():
        return False
    text = path.read_text(encoding="utf-8", errors="replace")
    return "Hidden=true" not in text and "X-GNOME-Autostart-enabled=false" not in text


def enable(command: list[str] | None = None) -> Path | str:
    """Register the app to start at login; returns the file or registry value written."""
    command = command or launch_command()
    if sys.platform == "win32":
        reg = _winreg()
        with reg.CreateKey(reg.HKEY_CURRENT_USER, RUN_KEY) as key:
            line = subprocess_line(command)
            reg.SetValueEx(key, RUN_VALUE, 0, reg.REG_SZ, line)
        return f"HKCU\\{RUN_KEY}\\{RUN_VALUE}"
    if sys.platform == "darwin":
        path = launch_agent_file()
        data = {"Label": LABEL, "ProgramArguments": command, "RunAtLoad": True, "ProcessType": "Interactive"}
        atomic_write(path, plistlib.dumps(data), mode=0o644)  # launchd reads it; it holds no secret
        return path
    path = xdg_autostart_file()
    atomic_write(path, _desktop_entry(command), mode=0o644)  # the usual mode of a .desktop entry
    return path


def disable() -> None:
    if sys.platform == "win32":
        reg = _winreg()
        try:
            with reg.OpenKey(reg.HKEY_CURRENT_USER, RUN_KEY, 0, reg.KEY_SET_VALUE) as key:
                reg.DeleteValue(key, RUN_VALUE)
        except OSError:
            pass
        return
    path = launch_agent_file() if sys.platform == "darwin" else xdg_autostart_file()
    path.unlink(missing_ok=True)


def set_enabled(on: bool) -> None:
    if on:
        enable()
    else:
        disable()


def subprocess_line(command: list[str]) -> str:
    """A Windows command line with each part quoted as needed."""
    import subprocess

    return subprocess.list2cmdline(command)
