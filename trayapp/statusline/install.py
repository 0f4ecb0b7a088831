"""Install and uninstall ``claude-watch statusline`` in Claude Code's ``settings.json``.

Rules: a backup is written before any change; every other key (and the key order, and the
file's indentation) is kept; installing twice changes nothing; a file that is not a valid JSON
object is never overwritten. A ``statusLine`` that was already there is kept by chaining: our
command records the capture, runs the original with the same stdin and prints its output. The
original ``statusLine`` value is stored verbatim in a sidecar file next to the settings
(``claude-watch-statusline.json``) so that uninstalling restores it exactly. Used by the CLI
(``--install``/``--uninstall``/``--status``) and by the settings dialog.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trayapp.store.files import atomic_write

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
    if explicit:
        return Path(explicit).expanduser()
    from trayapp import paths

    return paths.claude_config_dirs()[0] / "settings.json"


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
    """The command line that runs our statusline from this installation.

    A frozen app runs its own executable; a pip or venv install uses the absolute path of the
    ``claude-watch`` script (``sys.argv[0]`` or the one on PATH); otherwise this interpreter
    runs the package with ``-m trayapp``.
    """
    if getattr(sys, "frozen", False):
        return f"{_quote(os.path.abspath(sys.executable))} statusline"
    argv0 = sys.argv[0] if sys.argv else ""
    if os.path.basename(argv0).lower().startswith("claude-watch") and os.path.isfile(argv0):
        return f"{_quote(os.path.abspath(argv0))} statusline"
    found = shutil.which("claude-watch")
    if found:
        return f"{_quote(os.path.abspath(found))} statusline"
    return f"{_quote(os.path.abspath(sys.executable))} -m trayapp statusline"


def is_ours(value: Any, sidecar: dict[str, Any] | None = None) -> bool:
    """Whether a ``statusLine`` value is one we installed."""
    if not isinstance(value, dict) or not isinstance(value.get("command"), str):
        return False
    command: str = value["command"]
    if sidecar and sidecar.get("command") == command:
        return True
    return bool(_OURS_RE.search(command))


class InvalidSettings(Exception):
    pass


def _read(settings: Path) -> tuple[dict[str, Any] | None, str]:
    """(object, raw text) of the settings file; (None, "") when it does not exist."""
    try:
        text = settings.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, ""
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidSettings(f"cannot read {settings}: {exc}") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise InvalidSettings(
            f"{settings} is not valid JSON ({exc}); it was left untouched. Fix it, or pass another "
            "file with --settings."
        ) from None
    if not isinstance(data, dict):
        raise InvalidSettings(f"{settings} does not hold a JSON object; it was left untouched.")
    return data, text


def _indent(text: str) -> str | int:
    match = re.search(r"\n([ \t]+)\S", text)
    if not match:
        return 2
    lead = match.group(1)
    return "\t" if lead.startswith("\t") else len(lead)


def _backup(settings: Path) -> Path | None:
    if not settings.exists():
        return None
    stamp = time.strftime("%Y%m%d-%H%M%S")
    backup = settings.with_name(f"{settings.name}.claude-watch-backup-{stamp}")
    n = 1
    while backup.exists():
        n += 1
        backup = settings.with_name(f"{settings.name}.claude-watch-backup-{stamp}-{n}")
    shutil.copy2(settings, backup)
    return backup


def _digest(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _write_settings(
    settings: Path, data: dict[str, Any], original_text: str, exact: str | None = None
) -> str:
    """Write ``data`` in the file's own indentation (or ``exact`` text); returns the text."""
    if exact is None:
        indent = _indent(original_text) if original_text else 2
        text = json.dumps(data, indent=indent, ensure_ascii=False)
        if not original_text or original_text.endswith("\n"):
            text += "\n"
    else:
        text = exact
    mode = 0o644  # what Claude Code itself would create; an existing file keeps its own mode
    try:
        mode = os.stat(settings).st_mode & 0o7777
    except FileNotFoundError:
        pass
    # Written through a symlink (a settings.json kept in a dotfiles repository stays a symlink).
    atomic_write(os.path.realpath(settings), text, mode)
    return text


def _read_sidecar(settings: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(sidecar_for(settings).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def install(settings: Path, command: str | None = None) -> Result:
    """Make Claude Code run our statusline command (chaining any existing one)."""
    base = command or base_command()
    try:
        data, text = _read(settings)
    except InvalidSettings as exc:
        return Result(2, f"error: {exc}")
    data = {} if data is None else data
    current = data.get("statusLine")
    sidecar = _read_sidecar(settings)
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
    backup = _backup(settings)
    data["statusLine"] = new_value
    indent = _indent(text) if text else 2
    new_text = json.dumps(data, indent=indent, ensure_ascii=False) + (
        "\n" if not text or text.endswith("\n") else ""
    )
    record = {
        "schema": 1,
        "settings": str(settings),
        "command": wanted,
        "had_original": had_original,
        "original": original,
        "installed_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        # Lets uninstall put back the pre-install bytes when nothing else changed meanwhile.
        "pre_install_text": text
        if sidecar is None or not is_ours(current, sidecar)
        else (sidecar or {}).get("pre_install_text"),
        "written_sha256": _digest(new_text),
    }
    # 0600: the copy of the settings text may hold env values the user considers private.
    record_text = json.dumps(record, indent=2, ensure_ascii=False) + "\n"
    atomic_write(os.path.realpath(sidecar_for(settings)), record_text, 0o600)
    _write_settings(settings, data, text, exact=new_text)
    message = f"installed in {settings}"
    if chained:
        message += f"\nyour previous status line still runs and is shown: {chained}"
    if backup:
        message += f"\nbackup: {backup}"
    return Result(0, message, changed=True, installed=True, chained=chained, backup=backup)


def uninstall(settings: Path) -> Result:
    """Remove our statusline command and put back whatever was there before."""
    try:
        data, text = _read(settings)
    except InvalidSettings as exc:
        return Result(2, f"error: {exc}")
    sidecar = _read_sidecar(settings)
    if data is None or not is_ours(data.get("statusLine"), sidecar):
        return Result(0, f"not installed in {settings}; nothing changed")
    backup = _backup(settings)
    restored = ""
    if sidecar and sidecar.get("had_original"):
        data["statusLine"] = sidecar.get("original")
        restored = "\nthe previous statusLine was restored"
    else:
        del data["statusLine"]
    exact = None
    before = (sidecar or {}).get("pre_install_text")
    if isinstance(before, str) and before and (sidecar or {}).get("written_sha256") == _digest(text):
        try:
            if json.loads(before) == data:
                exact = before  # untouched since install: restore the very bytes
        except ValueError:
            pass
    _write_settings(settings, data, text, exact=exact)
    sidecar_for(settings).unlink(missing_ok=True)
    message = f"uninstalled from {settings}{restored}"
    if backup:
        message += f"\nbackup: {backup}"
    return Result(0, message, changed=True, backup=backup)


def status(settings: Path) -> Result:
    """Whether our command is installed in ``settings`` (and what it chains)."""
    try:
        data, _ = _read(settings)
    except InvalidSettings as exc:
        return Result(2, f"error: {exc}")
    current = (data or {}).get("statusLine")
    sidecar = _read_sidecar(settings)
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
