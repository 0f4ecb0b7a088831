"""The settings file on disk: read it strictly, and change some of its keys without losing the rest.

``settings.toml`` is shared by the app, ``claude-watch config`` and the user's editor, so nobody
writes back a copy held in memory. :func:`merge` takes an advisory lock (so two writers never
interleave), re-reads the file, changes only the given keys and replaces the file atomically with
:func:`~trayapp.store.files.atomic_write`. A file that cannot be read or does not parse raises
:class:`SettingsFileError` and is left byte for byte as it was. Keys are dotted
(``poll.interval_minutes``) and map to TOML tables (``[poll] interval_minutes``).

This module knows the file format, not the schema (that is :mod:`trayapp.settings`). Every
command reads the settings, so it imports only ``os`` at start-up.
"""

from __future__ import annotations

import os
import sys

from trayapp.store.files import UnsafeFileError, read_capped

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from pathlib import Path
    from typing import Any

MAX_SETTINGS_BYTES = 1 << 20  # a settings file is a few hundred bytes; anything near this is not one
HEADER = b"# Claude Watch settings. `claude-watch config list` explains every key.\n"


class SettingsFileError(ValueError):
    """The settings file cannot be read or does not parse (it was left untouched)."""


def flatten(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"poll": {"interval_minutes": 5}}`` -> ``{"poll.interval_minutes": 5}``."""
    flat: dict[str, Any] = {}
    for k, v in table.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            flat.update(flatten(v, key + "."))
        else:
            flat[key] = v
    return flat


def nest(flat: dict[str, Any]) -> dict[str, Any]:
    """The inverse of :func:`flatten`; raises SettingsFileError when a key's table is a value."""
    root: dict[str, Any] = {}
    for key, value in flat.items():
        node = root
        *parents, leaf = key.split(".")
        for i, p in enumerate(parents):
            node = node.setdefault(p, {})
            if not isinstance(node, dict):
                where = ".".join(parents[: i + 1])
                raise SettingsFileError(f"{where!r} is a value in the settings file, not a table of settings")
        node[leaf] = value
    return root


def read(path: Path) -> tuple[bytes | None, dict[str, Any]]:
    """The file's bytes and its flattened table; ``(None, {})`` when there is no file.

    Raises:
        SettingsFileError: it cannot be read, is not UTF-8 or is not valid TOML.
    """
    try:
        raw = read_capped(path, MAX_SETTINGS_BYTES)
    except FileNotFoundError:
        return None, {}
    except UnsafeFileError as exc:
        raise SettingsFileError(f"cannot read {exc}") from None
    except OSError as exc:
        raise SettingsFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    import tomllib  # only when there is a file: the common no-settings start skips it

    try:
        table = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise SettingsFileError(f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsFileError(f"{path} is not valid TOML ({exc})") from None
    except RecursionError:  # tables or arrays nested thousands deep
        raise SettingsFileError(f"{path} is nested too deeply to be a settings file") from None
    return raw, flatten(table)


def merge(
    path: Path, changes: Mapping[str, Any], remove: Iterable[str] = ()
) -> tuple[bytes | None, dict[str, Any]]:
    """Set ``changes`` and remove the ``remove`` keys in the file as it is now; every other key
    and value stays as written. Nothing is written when nothing changes. Returns the file's bytes
    and flattened table afterwards, as :func:`read` would.

    A symlinked file is written through (it stays a symlink). New and replaced files are private.

    Raises:
        SettingsFileError: the file cannot be read or does not parse (left untouched).
        OSError: it cannot be written.
    """
    from pathlib import Path

    target = Path(os.path.realpath(path))
    with _Locked(target):
        raw, flat = read(target)
        merged = dict(flat)
        for key in remove:
            merged.pop(key, None)
        merged.update(changes)
        if merged != flat or (raw is None and merged):
            import tomli_w

            from trayapp.store.files import atomic_write

            raw = HEADER + tomli_w.dumps(nest(merged)).encode("utf-8")
            atomic_write(target, raw, mode=0o600)
    return raw, merged


class _Locked:
    """An advisory lock on ``.settings.toml.lock`` next to the file, held for a read-merge-write."""

    def __init__(self, path: Path) -> None:
        self.path = path.with_name(f".{path.name}.lock")
        self.fd = -1

    def __enter__(self) -> _Locked:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if sys.platform == "win32":
                import msvcrt

                msvcrt.locking(self.fd, msvcrt.LK_LOCK, 1)  # retries for about 10 s, then OSError
            else:
                import fcntl

                fcntl.flock(self.fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(self.fd)
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if sys.platform == "win32":
                import msvcrt

                os.lseek(self.fd, 0, os.SEEK_SET)
                msvcrt.locking(self.fd, msvcrt.LK_UNLCK, 1)
        finally:
            os.close(self.fd)  # closing the descriptor releases a flock
