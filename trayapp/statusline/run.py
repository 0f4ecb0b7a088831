"""One run of ``claude-watch statusline``: read stdin, record it, print the line, exit 0.

Whatever happens (garbage on stdin, an unwritable state directory, a broken settings file, a
chained command that hangs) the command prints a non-empty line and returns 0, because a
failing statusline command blanks Claude Code's status bar. Problems go to the size-capped log
(``<log dir>/statusline.log``), never to stderr.
"""

from __future__ import annotations

import os
import sys
import time

from trayapp.statusline import capture as cap_mod
from trayapp.statusline import fastpaths, log, parse, render

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, BinaryIO

CHAIN_TIMEOUT = 10.0  # seconds for a chained (pre-existing) statusline command
STDIN_TIMEOUT = 2.0  # seconds to wait for stdin to be closed


def read_stdin(stream: BinaryIO | None, problems: list[str], timeout: float = STDIN_TIMEOUT) -> bytes:
    """Up to ``MAX_STDIN + 1`` bytes of stdin; nothing when it is a terminal or closed.

    Claude Code writes the JSON and closes the pipe at once; a caller that keeps it open gets
    whatever arrived within ``timeout`` seconds, because this command must never hang.
    """
    if stream is None:
        return b""
    try:
        if stream.isatty():
            return b""
        fd = stream.fileno()
    except (OSError, ValueError, AttributeError):  # BytesIO in tests, a closed stream
        fd = -1
    try:
        if fd < 0 or sys.platform == "win32":  # select() does not work on Windows pipes
            return stream.read(parse.MAX_STDIN + 1) or b""
        import select

        deadline = time.monotonic() + timeout
        chunks: list[bytes] = []
        total = 0
        while total <= parse.MAX_STDIN:
            left = deadline - time.monotonic()
            ready = select.select([fd], [], [], max(0.0, left))[0] if left > 0 else []
            if not ready:
                problems.append(f"stdin still open after {timeout:g} s; used what had arrived")
                break
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        return b"".join(chunks)
    except (OSError, ValueError):
        return b""


def run_chain(sidecar_path: str, raw: bytes, problems: list[str]) -> bytes | None:
    """Run the statusline command that was there before ours, with the same stdin.

    Returns its stdout, or None when it is missing, fails, times out or prints nothing (our
    own line is shown then, and the reason is logged).
    """
    sidecar = cap_mod.read_json(sidecar_path)
    original = sidecar.get("original") if sidecar else None
    command = original.get("command") if isinstance(original, dict) else None
    if not isinstance(command, str) or not command.strip():
        problems.append(f"chained statusline command not found in {sidecar_path}")
        return None
    import subprocess

    try:
        done = subprocess.run(
            command,
            shell=True,
            input=raw,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            timeout=CHAIN_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        problems.append(f"chained statusline command timed out after {CHAIN_TIMEOUT:g} s")
        return None
    except OSError as exc:
        problems.append(f"chained statusline command failed to start: {exc}")
        return None
    if done.returncode != 0:
        problems.append(f"chained statusline command exited {done.returncode}")
    return done.stdout if done.stdout.strip() else None


def record_and_render(
    raw: bytes, now: float, dirs: dict[str, str], *, colour: bool, problems: list[str]
) -> tuple[str, dict[str, Any] | None]:
    """Parse ``raw``, store the capture, and return (line, capture)."""
    segments, tz, setting_problems = fastpaths.read_settings(dirs["config"])
    problems.extend(setting_problems)
    data = parse.decode(raw, problems)
    capture = parse.normalize(data, now, problems) if data else None
    state = dirs["state"]
    day, day_start = cap_mod.local_day(now, tz)
    if capture is not None:
        try:
            if capture.get("session_id"):
                cap_mod.write_session(state, capture, day, day_start)
            cap_mod.update_latest(state, capture)
        except OSError as exc:
            problems.append(f"cannot write capture under {state}: {exc}")
    latest = None
    if not (capture and capture.get("rate_limits")) and ("five_hour" in segments or "seven_day" in segments):
        latest = cap_mod.read_latest(state)
    today = cap_mod.today_cost(state, day, day_start) if "today_cost" in segments else None
    try:
        width = int(os.environ.get("COLUMNS") or 0)  # set by Claude Code 2.1.153+
    except ValueError:
        width = 0
    line = render.render(capture, segments, now, colour=colour, latest=latest, today=today, width=width)
    cap_mod.prune(state, now)
    return line, capture


def combine(theirs: bytes, ours: str) -> bytes:
    """The chained status line and ours: on one row (theirs first) where both fit the terminal's
    ``COLUMNS``, else theirs and then ours on a line of its own (Claude Code shows several)."""
    their_text = theirs.decode("utf-8", "replace").rstrip("\r\n")
    try:
        width = int(os.environ.get("COLUMNS") or 0)
    except ValueError:
        width = 0
    joined = f"{their_text}{render.SEPARATOR}{ours}"
    if "\n" not in their_text and width > 0 and render.visible_len(joined) <= width:
        return (joined + "\n").encode("utf-8", "replace")
    return (f"{their_text}\n{ours}\n").encode("utf-8", "replace")


def main(argv: list[str], stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> int:
    """Run once; ``argv`` may hold ``--chain SIDECAR`` and ``--no-color``. Always returns 0."""
    problems: list[str] = []
    out = stdout if stdout is not None else getattr(sys.stdout, "buffer", None)
    line = render.FALLBACK
    dirs: dict[str, str] | None = None
    payload: bytes | None = None
    try:
        now = time.time()
        raw = read_stdin(stdin if stdin is not None else getattr(sys.stdin, "buffer", None), problems)
        dirs = fastpaths.app_dirs()
        colour = not os.environ.get("NO_COLOR") and "--no-color" not in argv
        line, _ = record_and_render(raw, now, dirs, colour=colour, problems=problems)
        if "--chain" in argv:
            i = argv.index("--chain")
            if i + 1 < len(argv):
                payload = run_chain(argv[i + 1], raw, problems)
    except BaseException as exc:  # never break Claude Code's status bar
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            problems.append(f"interrupted: {type(exc).__name__}")
        else:
            problems.append(f"internal error: {type(exc).__name__}: {exc}")
    try:
        if out is not None:
            out.write(
                combine(payload, line) if payload is not None else (line + "\n").encode("utf-8", "replace")
            )
            out.flush()
    except (OSError, ValueError):
        pass  # Claude Code cancelled this run and closed the pipe
    if problems:
        try:
            log_dir = (dirs or fastpaths.app_dirs())["logs"]
        except Exception:
            log_dir = ""
        if log_dir:
            log.write(log_dir, problems)
    return 0
