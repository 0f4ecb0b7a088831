"""One typed error for a full disk, whatever layer noticed it.

A full data disk shows up in many disguises: ``OSError`` with ``ENOSPC`` (or ``EDQUOT``, a quota)
from a file write; ``sqlite3.OperationalError`` "database or disk is full" (``SQLITE_FULL``) from
an insert; "disk I/O error" (an ``SQLITE_IOERR_*``) when SQLite cannot size the ``-shm`` file of
a WAL database it opens; and, after SQLite rolled a failed transaction back by itself, "cannot
rollback - no transaction is active" from our own ``ROLLBACK``, which hid the cause (the write
paths now roll back only an open transaction). :func:`as_disk_full` recognises them all (an I/O
error only when the file's file system really has no room left) and :class:`DiskFull` is what the
CLI and the services catch: reads are still served from what is committed, writes are retried
later, and the user reads "disk full" instead of a traceback.

Imported by the report's warm path through ``store.db``: nothing heavy at the top.
"""

from __future__ import annotations

import errno
import os
import sqlite3

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (warm-start cost)
if TYPE_CHECKING:
    from pathlib import Path

_FULL_ERRNOS = frozenset({errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)})
_SQLITE_IOERR = 10
_SQLITE_FULL = 13
# Free bytes below which an SQLite I/O error is taken for a full disk: SQLite needs a few pages
# (the -shm file alone is 32 KiB) and a file system reserves some blocks for root.
_NEARLY_FULL = 256 * 1024


class DiskFull(OSError):
    """The disk holding ``path`` has no room left; what is already committed is still readable.

    An ``OSError`` with ``errno.ENOSPC``, so code that already handles ``OSError`` on a write
    (atomic file writes, logs) treats it as the write failure it is."""

    def __init__(self, path: Path | str | None = None, detail: str = "") -> None:
        super().__init__(errno.ENOSPC, "disk full", str(path) if path is not None else None)
        self.path = str(path) if path is not None else None
        self.detail = detail

    def __str__(self) -> str:
        where = f" (writing {self.path})" if self.path else ""
        return f"disk full: no space left on the device{where}"

    def __reduce__(self) -> tuple[object, ...]:  # OSError's own would pass (errno, strerror, ...)
        return (DiskFull, (self.path, self.detail))


def as_disk_full(exc: BaseException, path: Path | str | None = None) -> DiskFull | None:
    """``exc`` as a :class:`DiskFull` when it means the disk is full, else None."""
    if isinstance(exc, DiskFull):
        return exc
    if isinstance(exc, OSError) and exc.errno in _FULL_ERRNOS:
        return DiskFull(path or exc.filename, exc.strerror or "")
    if not isinstance(exc, sqlite3.Error):
        return None
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    text = str(exc)
    if primary == _SQLITE_FULL or "database or disk is full" in text:
        return DiskFull(path, text)
    if (primary == _SQLITE_IOERR or text == "disk I/O error") and path is not None and _no_room(path):
        return DiskFull(path, text)
    return None


def _no_room(path: Path | str) -> bool:
    """Whether the file system that holds ``path`` (or its nearest existing parent) is full."""
    probe = os.fspath(path)
    while probe and not os.path.exists(probe):
        parent = os.path.dirname(probe)
        if parent == probe:
            break
        probe = parent
    try:
        st = os.statvfs(probe or ".")
    except (OSError, AttributeError):  # no statvfs (Windows): an I/O error stays an I/O error
        return False
    return st.f_bavail * st.f_frsize < _NEARLY_FULL


class WriteGuard:
    """``with WriteGuard(path): ...`` turns any full-disk error raised inside into :class:`DiskFull`
    (chained to the original); other errors pass unchanged. A class, not ``contextlib``: every
    command opens a database and contextlib costs start-up time."""

    __slots__ = ("path",)

    def __init__(self, path: Path | str | None) -> None:
        self.path = path

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        if exc is None or isinstance(exc, DiskFull):
            return
        full = as_disk_full(exc, self.path)
        if full is not None:
            raise full from exc
