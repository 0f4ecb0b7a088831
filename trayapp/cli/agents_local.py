"""``claude-watch agents`` without the tray app: a task run in the foreground, the store read
directly, a foreground run stopped from another terminal, and a log followed.

- **Foreground run** (``agents run --wait``): the app's own queue and runner
  (:class:`~trayapp.services.agent_queue.AgentQueue`, ``LocalExecutor``) in this process, on an
  asyncio loop, knowing only this task (the store's other tasks wait for the app), so it is
  recorded in ``data/agents.sqlite3`` like any other, with its pid, process group and start time.
  Ctrl+C (or SIGTERM) stops it with the runner's sequence (stdin EOF, SIGTERM to the group,
  SIGKILL), so nothing is left behind.
- **Stop from another terminal** (``agents stop ID``): the recorded group is signalled only while
  the recorded pid is still the process that was started (same start time, Linux ``/proc``): a
  pid reused by another program is never signalled. A marker file (``data/agents/ID.stop``) tells
  the foreground run that its end was a stop, not a failure.
- **Follow** (``agents logs ID -f``): the log file as it grows (through a rotation to ``.1``),
  until the task has finished and the last lines were flushed.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from trayapp.core.agents import ACTIVE, FINISHED, RunKind, Task, TaskSpec, TaskState
from trayapp.store.agents_repo import AgentsRepo

if TYPE_CHECKING:
    from trayapp.services.agent_queue import AgentQueue

FOLLOW_POLL = 0.2  # seconds between looks at a quiet log
FLUSH_GRACE = 0.8  # seconds a finished task's last lines may take to reach the file
STOP_TERM_GRACE = 5.0  # seconds after SIGTERM before SIGKILL
STORE_GRACE = 5.0  # seconds the foreground run has to record its end after a stop


def repo() -> AgentsRepo:
    return AgentsRepo()


def load_tasks() -> list[Task]:
    store = repo()
    try:
        return store.load()
    finally:
        store.close()


def get_task(task_id: str) -> Task | None:
    store = repo()
    try:
        return store.get(task_id)
    finally:
        store.close()


def log_file(task_id: str) -> Path:
    from trayapp.services.agent_logs import log_path

    return log_path(task_id)


def stop_marker(task_id: str) -> Path:
    return log_file(task_id).with_suffix(".stop")


# --- following a log ------------------------------------------------------------------------------


async def follow(path: Path, finished: Callable[[], bool], write: Callable[[bytes], None]) -> None:
    """Hand every complete line of ``path`` to ``write`` as it is appended, from the start; reopen
    after a rotation; return once ``finished()`` and no line came for :data:`FLUSH_GRACE`."""
    fh = None
    inode = None
    pending = b""
    quiet_since: float | None = None
    try:
        while True:
            if fh is None:
                try:
                    fh = open(path, "rb")  # closed in finally / on rotation
                    inode = os.fstat(fh.fileno()).st_ino
                except FileNotFoundError:
                    fh = None
            chunk = fh.read(256 * 1024) if fh is not None else b""
            if chunk:
                quiet_since = None
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    write(line)
                continue
            try:
                rotated = fh is not None and os.stat(path).st_ino != inode
            except FileNotFoundError:
                rotated = False
            if rotated and fh is not None:
                fh.close()
                fh = None
                continue
            now = time.monotonic()
            if finished():
                quiet_since = quiet_since or now
                if now - quiet_since >= FLUSH_GRACE:
                    if pending:
                        write(pending)
                    return
            await asyncio.sleep(FOLLOW_POLL)
    finally:
        if fh is not None:
            fh.close()


# --- stop from another terminal -------------------------------------------------------------------


def stop_by_group(task: Task, *, force: bool) -> tuple[int, str]:
    """Stop a task run by another ``agents run --wait`` (no app); returns (exit code, message)."""
    from trayapp.platform.process_group import group_alive, signal_group
    from trayapp.services.agent_stream import still_ours

    if task.state in FINISHED:
        return 0, f"{task.id} has already ended ({task.state.value})"
    if not task.ours and not force:
        return 2, f"{task.id} was not started by Claude Watch; add --force to stop it anyway"
    if task.spec.kind is RunKind.BACKGROUND and task.state in ACTIVE:
        return _stop_background(task)
    if task.container_id and task.state in ACTIVE:
        return _stop_container(task)
    if task.state not in ACTIVE:
        return 2, f"{task.id} is {task.state.value}: start the tray app (claude-watch) to manage its queue"
    if task.pgid is None or task.pid is None:
        return 2, f"{task.id} has no recorded process group to stop"
    if not still_ours(task):
        _record_end(task, TaskState.LOST, "its process was gone when it was asked to stop")
        return 0, f"{task.id}: its process has already ended (a reused pid is never signalled)"
    _mark_stopping(task)
    signal_group(task.pgid, hard=False)
    deadline = time.monotonic() + STOP_TERM_GRACE
    while group_alive(task.pgid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if group_alive(task.pgid):
        signal_group(task.pgid, hard=True)
        deadline = time.monotonic() + 2.0
        while group_alive(task.pgid) and time.monotonic() < deadline:
            time.sleep(0.05)
    if group_alive(task.pgid):
        return 1, f"{task.id}: some processes of group {task.pgid} survived SIGKILL"
    _await_recorded(task)
    return 0, f"{task.id} stopped"


def _mark_stopping(task: Task) -> None:
    """The marker that tells the foreground run its end is a stop (not a crash)."""
    marker = stop_marker(task.id)
    marker.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    marker.touch(mode=0o600)


def _await_recorded(task: Task) -> bool:
    """Wait :data:`STORE_GRACE` for the foreground run to record the stopped task's end; with
    nobody following it (that terminal was closed) record it here. True: the run recorded it."""
    deadline = time.monotonic() + STORE_GRACE
    while time.monotonic() < deadline:
        latest = get_task(task.id)
        if latest is None or latest.state in FINISHED:
            return True
        time.sleep(0.1)
    _record_end(task, TaskState.STOPPED, "stopped from another terminal")
    stop_marker(task.id).unlink(missing_ok=True)  # nobody left to read it
    return False


def _stop_container(task: Task) -> tuple[int, str]:
    """A task in a container (run by another ``agents run --wait``): the engine stops it (SIGTERM,
    then its SIGKILL), the foreground run sees its end and records it; with nobody following it
    (that terminal was closed), it is recorded here and its container removed."""
    from trayapp.platform import docker_engine as de

    cid = task.container_id or ""
    _mark_stopping(task)

    async def stop(remove: bool) -> str | None:
        engine = de.DockerEngine()
        try:
            if remove:
                await engine.remove(cid, force=True)
                return None
            await engine.stop(cid, int(STOP_TERM_GRACE))
            state = await engine.inspect(cid)
            if state is not None and state.running:
                await engine.kill(cid)
        except de.DockerError as exc:
            return str(exc)
        finally:
            await engine.aclose()
        return None

    failed = asyncio.run(stop(remove=False))
    if failed is not None:
        return 1, f"{task.id}: its container {cid[:12]} could not be stopped: {failed}"
    if not _await_recorded(task):
        asyncio.run(stop(remove=True))  # the run that would have removed it is gone
    return 0, f"{task.id} stopped (container {cid[:12]})"


def _stop_background(task: Task) -> tuple[int, str]:
    """A Claude Code background session is Claude Code's: ``claude stop JOB``."""
    from trayapp.services.window_start import find_claude

    exe = find_claude()
    if task.job_id is None or exe is None:
        return 2, f"{task.id}: no job id or no claude to stop it with"
    try:
        done = subprocess.run(
            [exe, "stop", task.job_id], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return 1, f"{task.id}: claude stop {task.job_id} failed ({exc})"
    if done.returncode != 0:
        return 1, f"{task.id}: claude stop {task.job_id} failed: {(done.stderr or done.stdout).strip()[:200]}"
    _record_end(task, TaskState.STOPPED, "stopped with claude stop")
    return 0, f"{task.id} stopped (claude stop {task.job_id})"


def _record_end(task: Task, state: TaskState, note: str) -> None:
    """Write the end of a task whose runner is gone (only while the store still says it runs)."""
    latest = get_task(task.id) or task
    if latest.state in FINISHED:
        return
    now = datetime.now(UTC)
    store = repo()
    try:
        store.save([replace(latest, state=state, finished_at=now, note=note)], now)
    finally:
        store.close()


# --- the foreground run ---------------------------------------------------------------------------


class _ThisRunOnly(AgentsRepo):
    """The store as the foreground queue sees it: it saves there but loads only the tasks it is
    given (the one restarted), so the app's other queued tasks are not started by this command."""

    def __init__(self, known: list[Task]) -> None:
        super().__init__()
        self.known = known

    def load(self, limit: int = 2000) -> list[Task]:
        return list(self.known)


Starter = Callable[["AgentQueue"], Awaitable[Task]]


def run_foreground(start: Starter, write: Callable[[str], None], known: list[Task] | None = None) -> int:
    """Run one task here until it ends (``start`` submits or restarts it on the queue); 0 done,
    1 failed or stopped, 130 interrupted (it was stopped). A refusal raises the queue's error."""
    return asyncio.run(_foreground(start, write, known or []))


async def _foreground(start: Starter, write: Callable[[str], None], known: list[Task]) -> int:
    from trayapp.services.agent_queue import AgentQueue

    queue = AgentQueue(_ThisRunOnly(known))
    detach = _with_containers(queue)
    await queue.start()
    try:
        return await _follow_run(queue, start, write)
    finally:
        if detach is not None:
            await detach()


def _with_containers(queue: AgentQueue) -> Callable[[], Awaitable[None]] | None:
    """The container slots of the settings, as the app has them (``--slot docker:NAME``), or None
    with none configured. No clean-up of leftovers here: another terminal's run may be one."""
    from trayapp import settings as st
    from trayapp.services.agent_containers import attach_containers, slots_from_settings

    settings = st.load()
    if not slots_from_settings(settings.get):
        return None
    return attach_containers(queue, settings)


async def _follow_run(queue: AgentQueue, start: Starter, write: Callable[[str], None]) -> int:
    from trayapp.cli.agents_render import human_lines, render_task
    from trayapp.services.agent_queue import AgentError

    try:
        task = await start(queue)
    except AgentError as exc:
        await queue.stop_all()
        print(f"claude-watch agents: {exc}", file=sys.stderr)
        return 2
    write(
        f"{task.id} started in the foreground (stop it with Ctrl+C or `claude-watch agents stop {task.id}`)"
    )
    done = asyncio.Event()
    interrupted: list[int] = []

    def seen(t: Task) -> None:
        if t.id == task.id and t.state in FINISHED:
            done.set()

    queue.subscribe(seen)
    seen(queue.get(task.id) or task)
    loop = asyncio.get_running_loop()

    def interrupt(signum: int) -> None:
        if not interrupted:
            write("stopping…")
            loop.create_task(_stop_quietly(queue, task.id))
        interrupted.append(signum)

    for signum in (signal.SIGINT, signal.SIGTERM):
        if sys.platform != "win32":
            loop.add_signal_handler(signum, interrupt, signum)

    def show(raw: bytes) -> None:
        for line in human_lines(raw):
            write(line)

    try:
        await follow(queue.log_path(task.id), done.is_set, show)
    finally:
        await queue.stop_all()
        for signum in (signal.SIGINT, signal.SIGTERM):
            if sys.platform != "win32":
                loop.remove_signal_handler(signum)
    final = queue.get(task.id) or task
    marker = stop_marker(task.id)
    if marker.exists():
        marker.unlink(missing_ok=True)
        if final.state is not TaskState.STOPPED:
            final = replace(final, state=TaskState.STOPPED, note="stopped from another terminal")
            _save(final)
    write(render_task(final, datetime.now(UTC)))
    if interrupted:
        return 130
    return 0 if final.state is TaskState.DONE else 1


def start_background(spec: TaskSpec, write: Callable[[str], None]) -> int:
    """Start a Claude Code background session here (no app): Claude Code owns it from then on; it
    is recorded with its job id. 0 started, 1 it could not start, 2 refused."""
    return asyncio.run(_background(spec, write))


async def _background(spec: TaskSpec, write: Callable[[str], None]) -> int:
    from trayapp.cli.agents_render import render_task
    from trayapp.services.agent_queue import AgentError, AgentQueue

    queue = AgentQueue(_ThisRunOnly([]))
    await queue.start()
    try:
        task = await queue.submit(spec)
    except AgentError as exc:
        await queue.stop_all()
        print(f"claude-watch agents: {exc}", file=sys.stderr)
        return 2
    while (
        (latest := queue.get(task.id)) is not None and latest.job_id is None and latest.state not in FINISHED
    ):
        await asyncio.sleep(0.05)
    await queue.stop_all()  # saves it; a background session keeps running
    final = queue.get(task.id) or task
    write(render_task(final, datetime.now(UTC)))
    return 0 if final.job_id else 1


async def _stop_quietly(queue: AgentQueue, task_id: str) -> None:
    try:
        await queue.stop(task_id)
    except Exception as exc:  # the task ended meanwhile, or the runner could not stop it
        print(f"could not stop {task_id}: {exc}", file=sys.stderr)


def _save(task: Task) -> None:
    store = repo()
    try:
        store.save([task], datetime.now(UTC))
    finally:
        store.close()
