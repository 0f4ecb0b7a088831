"""Small files written whole: one safe way to replace a file's contents.

:func:`atomic_write` writes to a unique temporary name in the same folder (so two writers, in
different processes or threads, never share a temp file) and moves it over the target with
``os.replace``: a reader sees the old contents or the new ones, never half a file, and a crash
mid-write leaves the old file in place. New files get ``mode`` (private by default).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path


def atomic_write(path: Path | str, data: bytes | str, mode: int = 0o600) -> None:
    """Replace ``path`` with ``data`` (text is written as UTF-8); creates the parent folder."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        try:
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
