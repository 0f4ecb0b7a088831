"""Claude Code's background jobs: ``claude agents --json`` where it exists, else the jobs folder.

Since 2.1.143 ``claude agents --json`` lists the live sessions the daemon knows (background jobs
and interactive sessions; ``--all`` adds finished ones) without a terminal. Older versions, a
missing executable, a failure, a timeout or output we cannot parse fall back to reading
``<config dir>/jobs/<id>/state.json`` directly. Both formats are undocumented: every field is
parsed on its own, unknown ones are ignored, and nothing here is ever fatal.

Blocking (spawns a child process, reads files): callers run :func:`read_jobs` on the io lane.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from trayapp.core.sessions import JobRecord
from trayapp.sources import claude_version
from trayapp.sources.session_registry import RegistryFileError, load_json, load_object, text_field
from trayapp.statusline.parse import epoch
from trayapp.store.files import read_capped

log = logging.getLogger(__name__)

AGENTS_SINCE = (2, 1, 143)  # first version with ``claude agents --json``
MAX_OUTPUT = 4 * 1024 * 1024
MAX_STATE_BYTES = 1024 * 1024  # state.json carries the job's final output
MAX_JOBS = 2000  # job folders read per config dir (newest first)
RETRY_AFTER = 60.0  # seconds without the CLI after it failed (a hanging CLI costs a lane slot)
_FINISHED = frozenset({"done", "stopped", "failed", "error"})

_failed_at: dict[str, float] = {}  # executable -> monotonic time of its last failure
_versions: dict[tuple[str, int], str | None] = {}  # (executable, mtime) -> its --version


class AgentsError(RuntimeError):
    """``claude agents --json`` did not give a usable list (the message says why)."""


def read_jobs(
    config_dirs: Sequence[Path],
    *,
    claude: str | None = None,
    timeout: float = 5.0,
    include_done: bool = False,
) -> list[JobRecord]:
    """Every job (and agents-listed session) under the given config dirs; finished ones only with
    ``include_done``. ``claude``: the executable to ask (default: ``claude`` on PATH, its version
    from ``claude_version``'s day-long cache)."""
    exe = shutil.which(claude or "claude")
    use_cli = exe is not None and _cli_usable(exe, explicit=claude is not None, timeout=timeout)
    jobs: list[JobRecord] = []
    for directory in dict.fromkeys(Path(d) for d in config_dirs):
        if use_cli and exe is not None:
            try:
                jobs.extend(run_agents(exe, directory, timeout=timeout, include_done=include_done))
                continue
            except AgentsError as exc:
                log.debug("claude agents --json for %s failed (%s): reading the jobs folder", directory, exc)
                _failed_at[exe] = time.monotonic()
        jobs.extend(read_job_dir(directory, include_done=include_done))
    return jobs


def supports_agents(version: str | None) -> bool:
    return version is not None and claude_version.version_tuple(version) >= AGENTS_SINCE


def forget_failures() -> None:
    """Drop the remembered CLI failures and versions (tests; a settings change)."""
    _failed_at.clear()
    _versions.clear()


def _cli_usable(exe: str, *, explicit: bool, timeout: float) -> bool:
    failed = _failed_at.get(exe)
    if failed is not None and time.monotonic() - failed < RETRY_AFTER:
        return False
    if not explicit:
        return supports_agents(claude_version.detect_version(datetime.now(UTC)))
    try:
        key = (exe, os.stat(exe).st_mtime_ns)
    except OSError:
        return False
    if key not in _versions:
        _versions[key] = _probe_version(exe, timeout)
    return supports_agents(_versions[key])


def _probe_version(exe: str, timeout: float) -> str | None:
    try:
        out = _run([exe, "--version"], env=None, timeout=timeout, cap=4096)
    except AgentsError:
        return None
    return claude_version.parse_version(out.decode("utf-8", "replace"))


def run_agents(exe: str, config_dir: Path, *, timeout: float, include_done: bool) -> list[JobRecord]:
    """``claude agents --json [--all]`` with ``CLAUDE_CONFIG_DIR`` set to ``config_dir``."""
    argv = [exe, "agents", "--json", *(["--all"] if include_done else [])]
    env = {**os.environ, "CLAUDE_CONFIG_DIR": str(config_dir)}
    return parse_agents(_run(argv, env=env, timeout=timeout, cap=MAX_OUTPUT), config_dir)


def _run(argv: list[str], *, env: dict[str, str] | None, timeout: float, cap: int) -> bytes:
    """A child's stdout (no shell, no stdin, stderr dropped), at most ``cap`` bytes, killed when it
    runs past ``timeout``. The output goes to a temporary file so a flood never sits in memory."""
    with tempfile.TemporaryFile() as out:
        try:
            proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.DEVNULL, env=env
            )
        except OSError as exc:
            raise AgentsError(f"cannot run: {exc.strerror or exc}") from None
        deadline = time.monotonic() + timeout
        while proc.poll() is None:
            late = time.monotonic() > deadline
            if late or os.fstat(out.fileno()).st_size > cap:
                proc.kill()  # the child only: a daemon it started serves the user's sessions
                proc.wait()
                raise AgentsError("timed out" if late else "output too large")
            time.sleep(0.01)
        if proc.returncode != 0:
            raise AgentsError(f"exit status {proc.returncode}")
        out.seek(0)
        data = out.read(cap + 1)
    if len(data) > cap:
        raise AgentsError("output too large")
    return data


def parse_agents(raw: bytes, config_dir: Path) -> list[JobRecord]:
    """The rows of ``agents --json``: a JSON list of objects (or an object holding one under
    ``agents``, ``sessions`` or ``jobs``). Rows that are not objects or have no id are skipped."""
    try:
        data = load_json(raw)
    except RegistryFileError as exc:
        raise AgentsError(str(exc)) from None
    if isinstance(data, dict):
        data = next((data[k] for k in ("agents", "sessions", "jobs") if isinstance(data.get(k), list)), None)
    rows = data if isinstance(data, list) else None
    if rows is None:
        raise AgentsError("no list of agents")
    jobs = (
        _job(row, str(config_dir), text_field(row.get("id"), 128)) for row in rows if isinstance(row, dict)
    )
    return [job for job in jobs if job is not None]


def read_job_dir(config_dir: Path, *, include_done: bool = False) -> list[JobRecord]:
    """``<config dir>/jobs/<id>/state.json`` for each job folder; unreadable ones skipped."""
    try:
        with os.scandir(Path(config_dir) / "jobs") as it:
            folders = [Path(e.path) for e in it if e.is_dir(follow_symlinks=False)]
    except OSError:
        return []
    jobs: list[JobRecord] = []
    for folder in sorted(folders, key=_mtime, reverse=True)[:MAX_JOBS]:
        try:
            data = load_object(read_capped(folder / "state.json", MAX_STATE_BYTES))
        except (OSError, RegistryFileError) as exc:
            log.debug("jobs: skipped %s: %s", folder, exc)
            continue
        job = _job(data, str(config_dir), text_field(folder.name, 128))
        if job is not None and (include_done or (job.state or "").lower() not in _FINISHED):
            jobs.append(job)
    return jobs


def _job(data: dict[str, Any], config_dir: str, job_id: str | None) -> JobRecord | None:
    session_id = text_field(data.get("sessionId"), 128)
    job_id = job_id or session_id
    if job_id is None:
        return None
    pid = data.get("pid")
    return JobRecord(
        job_id=job_id,
        config_dir=config_dir,
        session_id=session_id,
        pid=pid if type(pid) is int and pid > 0 else None,
        name=text_field(data.get("name")),
        cwd=text_field(data.get("cwd"), 4096),
        state=text_field(data.get("state"), 64),
        status=text_field(data.get("status"), 64),
        detail=text_field(data.get("detail")),
        started_at=_when(data.get("startedAt", data.get("createdAt"))),
        updated_at=_when(data.get("updatedAt")),
        kind=text_field(data.get("kind"), 64),
    )


def _when(value: Any) -> datetime | None:
    """Epoch seconds or milliseconds, or ISO-8601 text."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    seconds = epoch(value)
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
