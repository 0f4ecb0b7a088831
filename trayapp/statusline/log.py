"""A tiny size-capped log for the statusline command (``<log dir>/statusline.log``).

Claude Code shows the command's stdout and ignores stderr, and a user who wants to know why
the line looks odd needs somewhere to look: problems go here, one line each. The ``logging``
package is not used because importing it costs more than this whole command should. Writing
the log never raises; if even that fails, the problem is dropped silently.
"""

from __future__ import annotations

import os
import time

MAX_BYTES = 256 * 1024  # one rotated generation (statusline.log.1) is kept next to it


def write(log_dir: str, messages: list[str]) -> None:
    """Append ``messages`` (one line each, with time and pid) to the log, rotating when big."""
    if not messages:
        return
    try:
        os.makedirs(log_dir, mode=0o700, exist_ok=True)
        path = os.path.join(log_dir, "statusline.log")
        try:
            if os.stat(path).st_size > MAX_BYTES:
                os.replace(path, path + ".1")
        except FileNotFoundError:
            pass
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        pid = os.getpid()
        lines = "".join(
            f"{stamp} [{pid}] {m[:500].replace(chr(10), ' ').replace(chr(13), ' ')}\n" for m in messages
        )
        # One O_APPEND write per run, so lines from parallel sessions never interleave mid-line.
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, lines.encode("utf-8", errors="replace"))
        finally:
            os.close(fd)
    except Exception:
        pass
