"""Install and uninstall ``claude-watch statusline`` in Claude Code's ``settings.json``.

Rules: a backup is written before any change; every other key (and the key order, and the
file's indentation) is kept; installing twice changes nothing; a file that is not a valid JSON
object is never overwritten. A ``statusLine`` that was already there is kept by chaining: our
command records the capture, runs the original with the same stdin and prints its output. The
original ``statusLine`` value is stored verbatim in a sidecar file next to the settings
(``claude-watch-statusline.json``) so that uninstalling restores it exactly. Used by the CLI
(``--install``/``--uninstall``/``--status``) and by the settings dialog. The careful file
handling (strict reading, backup, indentation, mode, symlinks) is ``store/claude_settings``.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trayapp.store import claude_settings
from trayapp.store.claude_settings import InvalidSettings as InvalidSettings  # re-exported

SIDECAR_NAME = "claude-watch-statusline.json"
_OURS_RE = re.compile(r"(claude-watch|-m trayapp)\S*[\"']?\s+statusline\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Result:
    """Outcome of an install action: exit code, a message for the user, what happened."""

    code: int
    message: str
    changed: bool = False
    installed: bool = False
    chained: str | None = None
    backup: Path | None = None


def settings_path(explicit: str | None = None) -> Path:
    """``--settings PATH``, or ``settings.json`` in the first Claude Code config directory."""
    return claude_settings.settings_path(explicit)


def sidecar_for(settings: Path) -> Path:
    return settings.parent / SIDECAR_NAME


def _quote(value: str) -> str:
    if sys.platform == "win32":
        # Claude Code runs the command in Git Bash or PowerShell; forward slashes work in both.
        value = value.replace("\\", "/")
        return f'"{value}"' if " " in value else value
    import shlex

    return shlex.quote(value)


def base_command() -> str:
    """The command line that runs our statusline from this installation: the installed launcher
    (:func:`trayapp.platform.launcher.launcher_command`: the AppImage, ``/usr/bin/claude-watch``,
    the console exe on Windows, this install's ``claude-watch`` script, or ``python -m trayapp``)
    with ``statusline``. Raises ``NoStableLauncher`` (an OSError) from a temporary mount."""
    from trayapp.platform.launcher import launcher_command

    return " ".join([*(_quote(part) for part in launcher_command()), "statusline"])


def is_ours(value: Any, sidecar: dict[str, Any] | None = None) -> bool:
    """Whether a ``statusLine`` value is one we installed."""
    if not isinstance(value, dict) or not isinstance(value.get("command"), str):
        return False
    command: str = value["command"]
    if sidecar and sidecar.get("command") == command:
        return True
    return bool(_OURS_RE.search(command))


def install(settings: Path, command: str | None = None) -> Result:
    """Make Claude Code run our statusline command (chaining any existing one)."""
    try:
        base = command or base_command()
    except OSError as exc:  # launcher.NoStableLauncher: nothing to point Claude Code at
        return Result(2, f"error: {exc}")
    try:
        data, text = claude_settings.read(settings)
    except InvalidSettings as exc:
        return Result(2, f"error: {exc}")
    data = {} if data is None else data
    current = data.get("statusLine")
    sidecar = claude_settings.read_sidecar(sidecar_for(settings))
    if is_ours(current, sidecar):
        original = (sidecar or {}).get("original")
        had_original = bool((sidecar or {}).get("had_original"))
    else:
        original, had_original = current, "statusLine" in data
    chained = original.get("command") if isinstance(original, dict) else None
    chained = chained if isinstance(chained, str) and chained.strip() else None
    wanted = base
    if chained:
        wanted += f" --chain {_quote(str(sidecar_for(settings).resolve()))}"
    if is_ours(current, sidecar) and isinstance(current, dict) and current.get("command") == wanted:
        return Result(0, f"already installed in {settings}", installed=True, chained=chained)
    new_value: dict[str, Any] = dict(original) if isinstance(original, dict) else {"padding": 0}
    if isinstance(current, dict) and is_ours(current, sidecar):
        new_value = dict(current)  # keep what the user tuned since (padding, refreshInterval)
    new_value["type"] = "command"
    new_value["command"] = wanted
    data["statusLine"] = new_value
    new_text = claude_settings.render(data, text)
    # Lets uninstall put back the pre-install bytes when nothing else changed meanwhile.
    fresh = sidecar is None or not is_ours(current, sidecar)
    pre_install = text if fresh else (sidecar or {}).get("pre_install_text")
    record = {"command": wanted, "had_original": had_original, "original": original}
    backup = claude_settings.commit_install(settings, sidecar_for(settings), new_text, pre_install, record)
    message = f"installed in {settings}"
    if chained:
        message += f"\nyour previous status line still runs and is shown: {chained}"
    if backup:
        message += f"\nbackup: {backup}"
    return Result(0, message, changed=True, installed=True, chained=chained, backup=backup)


def uninstall(settings: Path) -> Result:
    """Remove our statusline command and put back whatever was there before."""
    try:
        data, text = claude_settings.read(settings)
    except InvalidSettings as exc:
        return Result(2, f"error: {exc}")
    sidecar = claude_settings.read_sidecar(sidecar_for(settings))
    if data is None or not is_ours(data.get("statusLine"), sidecar):
        return Result(0, f"not installed in {settings}; nothing changed")
    restored = ""
    if sidecar and sidecar.get("had_original"):
        data["statusLine"] = sidecar.get("original")
        restored = "\nthe previous statusLine was restored"
    else:
        del data["statusLine"]
    # Untouched since install: the very bytes come back.
    backup = claude_settings.commit_uninstall(settings, sidecar_for(settings), sidecar, text, data)
    message = f"uninstalled from {settings}{restored}"
    if backup:
        message += f"\nbackup: {backup}"
    return Result(0, message, changed=True, backup=backup)


def status(settings: Path) -> Result:
    """Whether our command is installed in ``settings`` (and what it chains)."""
    try:
        data, _ = claude_settings.read(settings)
    except InvalidSettings as exc:
        return Result(2, f"error: {exc}")
    current = (data or {}).get("statusLine")
    sidecar = claude_settings.read_sidecar(sidecar_for(settings))
    if not is_ours(current, sidecar):
        other = current.get("command") if isinstance(current, dict) else None
        extra = f" (statusLine runs: {other})" if other else ""
        return Result(0, f"not installed in {settings}{extra}")
    original = (sidecar or {}).get("original")
    chained = original.get("command") if isinstance(original, dict) else None
    message = f"installed in {settings}: {current.get('command') if isinstance(current, dict) else ''}"
    if chained:
        message += f"\nchained: {chained}"
    return Result(0, message, installed=True, chained=chained if isinstance(chained, str) else None)
