"""Careful edits of Claude Code's ``settings.json``, shared by every installer that touches it.

Claude Code's settings file belongs to the user (and to other tools): the status line installer
(``statusline/install.py``) and the hooks installer (``services/hooks_install.py``) change only
their own entries, through here. The rules: the file is read strictly (a file that is not a JSON
object, or holds ``NaN``, is never rewritten); a timestamped backup is copied before any change;
key order and the file's own indentation are kept; the new text is checked to parse before it is
written; the file keeps its mode and a symlinked file (a dotfiles repository) stays a symlink.
A sidecar file next to the settings remembers the bytes before the first install, so uninstalling
restores them exactly when nothing else changed meanwhile (:func:`exact_restore`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import time
from pathlib import Path
from typing import Any

from trayapp.store.files import atomic_write


class InvalidSettings(Exception):
    """The settings file cannot be read as a JSON object; it was left untouched."""


def settings_path(explicit: str | None = None) -> Path:
    """``--settings PATH``, or ``settings.json`` in the first Claude Code config directory."""
    if explicit:
        return Path(explicit).expanduser()
    from trayapp import paths

    return paths.claude_config_dirs()[0] / "settings.json"


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse(text: str) -> Any:
    """``json.loads`` without Python's ``NaN``/``Infinity`` extension (Claude Code refuses them)."""
    return json.loads(text, parse_constant=_no_constants)


def read(settings: Path) -> tuple[dict[str, Any] | None, str]:
    """(object, raw text) of the settings file; (None, "") when it does not exist.

    Raises:
        InvalidSettings: unreadable, not JSON, or not a JSON object.
    """
    try:
        text = settings.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, ""
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidSettings(f"cannot read {settings}: {exc}") from None
    try:
        data = parse(text)
    except (ValueError, RecursionError) as exc:
        raise InvalidSettings(
            f"{settings} is not valid JSON ({exc}); it was left untouched. Fix it, or pass another "
            "file with --settings."
        ) from None
    if not isinstance(data, dict):
        raise InvalidSettings(f"{settings} does not hold a JSON object; it was left untouched.")
    return data, text


def indent_of(text: str) -> str | int:
    """The indentation the file uses (a tab or a number of spaces; 2 when it cannot tell)."""
    match = re.search(r"\n([ \t]+)\S", text)
    if not match:
        return 2
    lead = match.group(1)
    return "\t" if lead.startswith("\t") else len(lead)


def render(data: dict[str, Any], original_text: str) -> str:
    """``data`` as text in the original file's indentation and trailing-newline habit."""
    indent = indent_of(original_text) if original_text else 2
    text = json.dumps(data, indent=indent, ensure_ascii=False, allow_nan=False)
    if not original_text or original_text.endswith("\n"):
        text += "\n"
    return text


def backup(settings: Path) -> Path | None:
    """Copy the file to ``<name>.claude-watch-backup-<stamp>`` (None when there is no file)."""
    if not settings.exists():
        return None
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = settings.with_name(f"{settings.name}.claude-watch-backup-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = settings.with_name(f"{settings.name}.claude-watch-backup-{stamp}-{n}")
    shutil.copy2(settings, target)
    return target


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def write(settings: Path, text: str) -> None:
    """Replace the settings file with ``text``, which must parse as a JSON object.

    The file keeps its mode (a new one gets 0644, what Claude Code itself creates) and is written
    through a symlink, so a settings file kept in a dotfiles repository stays a symlink.
    """
    if not isinstance(parse(text), dict):  # never write what Claude Code could not read
        raise ValueError("refusing to write settings that are not a JSON object")
    mode = 0o644
    try:
        mode = os.stat(settings).st_mode & 0o7777
    except FileNotFoundError:
        pass
    atomic_write(os.path.realpath(settings), text, mode)


def read_sidecar(path: Path) -> dict[str, Any] | None:
    """A sidecar record, or None when missing or unreadable (treated as "no record")."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def write_sidecar(path: Path, record: dict[str, Any]) -> None:
    """Write a sidecar record, 0600: it may copy settings text the user considers private."""
    text = json.dumps(record, indent=2, ensure_ascii=False) + "\n"
    atomic_write(os.path.realpath(path), text, 0o600)


def exact_restore(sidecar: dict[str, Any] | None, current_text: str, data: dict[str, Any]) -> str | None:
    """The pre-install bytes, when the file is still what we wrote and they parse to ``data``.

    ``sidecar`` holds ``pre_install_text`` and ``written_sha256`` (the digest of the last text an
    install wrote); anything else changed since means the caller writes ``data`` normally.
    """
    before = (sidecar or {}).get("pre_install_text")
    if not isinstance(before, str) or not before:
        return None
    if (sidecar or {}).get("written_sha256") != digest(current_text):
        return None
    try:
        return before if parse(before) == data else None
    except (ValueError, RecursionError):
        return None


def commit_install(
    settings: Path, sidecar: Path, new_text: str, pre_install_text: str | None, record: dict[str, Any]
) -> Path | None:
    """The end of every install: back the file up, remember what uninstall needs in the sidecar
    (``record`` plus the pre-install bytes and the digest of what is written now), then write.
    Returns the backup's path (None when there was no file)."""
    taken = backup(settings)
    write_sidecar(
        sidecar,
        {
            "schema": 1,
            "settings": str(settings),
            "installed_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            **record,
            "pre_install_text": pre_install_text,
            "written_sha256": digest(new_text),
        },
    )
    write(settings, new_text)
    return taken


def commit_uninstall(
    settings: Path, sidecar_path: Path, sidecar: dict[str, Any] | None, text: str, data: dict[str, Any]
) -> Path | None:
    """The end of every uninstall: back the file up, write ``data`` (the pre-install bytes exactly
    when nothing else changed since the install), forget the sidecar. Returns the backup's path."""
    taken = backup(settings)
    exact = exact_restore(sidecar, text, data)
    write(settings, exact if exact is not None else render(data, text))
    sidecar_path.unlink(missing_ok=True)
    return taken
