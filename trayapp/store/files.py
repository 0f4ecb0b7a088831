"""Small files written whole: one safe way to replace a file's contents.

:func:`atomic_write` writes to a unique temporary name in the same folder (so two writers, in
different processes or threads, never share a temp file) and moves it over the target with
``os.replace``: a reader sees the old contents or the new ones, never half a file, and a crash
mid-write leaves the old file in place. The file gets exactly ``mode`` (private by default;
the umask does not apply, so a caller keeping a user's file mode keeps it).

Every file the app writes whole goes through here (the table in :mod:`trayapp.paths` lists
them). The statusline command uses it on its hot path, so this module imports nothing beyond
``os`` and the built-in ``_thread``: no pathlib, no threading, no tempfile.
"""

from __future__ import annotations

import os
from _thread import get_ident

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path


def atomic_write(path: Path | str, data: bytes | str, mode: int = 0o600, *, parents: bool = True) -> None:
    """Replace ``path`` with ``data`` (text is written as UTF-8).

    Args:
        path: the file to replace; a symlink there is replaced by a regular file (resolve it
            first to write through it).
        data: the whole new contents.
        mode: permission bits of the new file, applied exactly.
        parents: create missing parent folders (mode 0o700); without it a missing folder
            raises ``FileNotFoundError`` (a path the user typed, say).
    """
    target = os.fspath(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    folder, name = os.path.split(target)
    tmp = os.path.join(folder, f".{name}.{os.getpid()}.{get_ident()}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(tmp, flags, mode)
    except FileNotFoundError:
        if not folder or not parents:
            raise
        os.makedirs(folder, mode=0o700, exist_ok=True)  # only on a first write: no extra calls
        fd = os.open(tmp, flags, mode)
    try:
        try:
            if hasattr(os, "fchmod"):
                os.fchmod(fd, mode)  # exact, whatever the umask (or a stale temp file) said
            view = memoryview(payload)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


class UnsafeFileError(OSError):
    """A file that must not be read whole: not a regular file (a FIFO would hang the reader,
    ``/dev/zero`` would never end) or larger than the caller's cap."""


def read_capped(path: Path | str, cap: int) -> bytes:
    """The whole contents of the regular file ``path``, at most ``cap`` bytes.

    Opened without blocking (a FIFO's open never waits for a writer), checked to be a regular file
    (symlinks to one are fine), and refused with :class:`UnsafeFileError` when it is anything else
    or holds more than ``cap`` bytes. ``FileNotFoundError`` and other ``OSError`` pass through."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        info = os.fstat(fd)
        if info.st_mode & 0o170000 != 0o100000:  # S_IFMT != S_IFREG, without importing stat
            raise UnsafeFileError(f"{os.fspath(path)} is not a regular file")
        if info.st_size > cap:
            raise UnsafeFileError(f"{os.fspath(path)} is larger than {cap} bytes")
        chunks: list[bytes] = []
        total = 0
        while total <= cap:  # the size can grow after fstat: read at most cap + 1
            block = os.read(fd, min(1 << 20, cap + 1 - total))
            if not block:
                break
            chunks.append(block)
            total += len(block)
        if total > cap:
            raise UnsafeFileError(f"{os.fspath(path)} is larger than {cap} bytes")
        return b"".join(chunks)
    finally:
        os.close(fd)
