"""The installed Claude Code version, for the usage request's ``User-Agent``.

The usage endpoint puts clients that do not identify as ``claude-code/<version>`` into a much
stricter rate-limit bucket, so we send the installed version (``claude --version``), cached in
the cache dir for a day because spawning ``claude`` costs hundreds of milliseconds. Without
Claude Code on PATH we fall back to ``2.1.0``; a newer version seen in statusline captures can
be passed in and wins.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

from trayapp import paths
from trayapp.store.files import atomic_write

FALLBACK_VERSION = "2.1.0"
CACHE_NAME = "claude-version.json"
CACHE_TTL = timedelta(days=1)
_VERSION_RE = re.compile(r"(\d+)\.(\d+)\.(\d+)")


def parse_version(text: str) -> str | None:
    """``2.1.220 (Claude Code)`` -> ``2.1.220``."""
    match = _VERSION_RE.search(text or "")
    return ".".join(match.groups()) if match else None


def version_tuple(version: str) -> tuple[int, ...]:
    match = _VERSION_RE.search(version)
    return tuple(int(x) for x in match.groups()) if match else (0, 0, 0)


def newest(*versions: str | None) -> str:
    """The highest of the given versions (None and unparsable ones ignored), else the fallback."""
    valid = [v for v in (parse_version(v or "") for v in versions) if v]
    return max(valid, key=version_tuple) if valid else FALLBACK_VERSION


def user_agent(version: str) -> str:
    return f"claude-code/{version}"


def run_claude_version(timeout: float = 5.0) -> str | None:
    """Ask the installed ``claude`` for its version; None if it is missing or misbehaves."""
    exe = shutil.which("claude")
    if exe is None:
        return None
    try:
        proc = subprocess.run(
            [exe, "--version"], capture_output=True, timeout=timeout, check=False, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if proc.returncode != 0:
        return None
    return parse_version(proc.stdout.decode("utf-8", "replace"))


def detect_version(
    now: datetime, *, cache_dir: Path | None = None, seen: str | None = None, probe: bool = True
) -> str:
    """The Claude Code version to announce. Blocking (may spawn ``claude``): use a worker thread.

    Args:
        now: current time, for the cache's age.
        cache_dir: where the day-long cache lives (default: the app cache dir).
        seen: a version seen elsewhere (statusline captures); used when newer.
        probe: run ``claude --version`` when the cache is stale (False: cache or fallback only).
    """
    cache = (cache_dir or paths.cache_dir()) / CACHE_NAME
    cached: str | None = None
    fresh = False
    try:
        data = json.loads(cache.read_text("utf-8"))
        cached = parse_version(str(data.get("version", "")))
        checked = datetime.fromisoformat(str(data["checked_at"]))
        fresh = timedelta(0) <= now - checked < CACHE_TTL
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    if not fresh and probe:
        found = run_claude_version()
        cached = found or cached
        _write_cache(cache, found, now)
    return newest(cached, seen)


def _write_cache(cache: Path, version: str | None, now: datetime) -> None:
    try:
        atomic_write(cache, json.dumps({"version": version, "checked_at": now.isoformat()}))
    except OSError:
        pass  # a cache we cannot write only costs a re-probe tomorrow
