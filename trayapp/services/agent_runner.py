"""The local executor of agent tasks: runs ``claude`` on this machine, and stops what it ran.

- HEADLESS: ``claude -p PROMPT --output-format stream-json --verbose --session-id UUID [--model M]
  [--permission-mode MODE] [--max-turns N] [--max-budget-usd X] [--resume SESSION]`` in the task's
  folder (a git worktree made under the data folder when asked), as our own child in its own
  process group (:mod:`trayapp.platform.process_group`), stdin a pipe closed at once: since
  2.1.50 ``claude -p`` waits for its input to end before it starts, even with the prompt as an
  argument (ebibibi/ebi-agent-chat-relay issue 162, ruvnet/ruflo issue 1111). Its stdout and
  stderr are pipes read in batches by one :class:`~trayapp.services.pipe_pump.PipePump` for all
  children (a loop wake per round, not per write: on POSIX; Windows keeps asyncio's pipes) and
  handed on as lines (capped; a runaway line is cut); the queue parses them.
- BACKGROUND: ``claude --bg -n NAME [-w NAME] [--model M] [--permission-mode MODE] PROMPT``;
  Claude Code owns that process. The printed ``backgrounded · <id>`` gives the job id; the
  sessions service's job observation follows it from then on.

Stopping: a background session with ``claude stop ID``; our child with stdin EOF (given at the
start already; ``eof_grace`` seconds for a child whose input is still open), SIGTERM to the group,
``term_grace`` seconds, SIGKILL to the group, and a last SIGKILL for anything of the group still
there, so no helper survives. A run that ends by itself has its
leftovers (helpers it started) ended the same way. A process found after a restart of Claude
Watch (no pipe) is stopped through its recorded group.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from trayapp import paths
from trayapp.core.agents import RunKind, Task
from trayapp.core.stream_json import MAX_LINE
from trayapp.platform.process_group import (
    group_alive,
    pid_alive,
    popen_group_kwargs,
    signal_group,
    start_ticks,
)
from trayapp.runtime import run_blocking
from trayapp.services.pipe_pump import PipePump
from trayapp.services.window_start import find_claude

log = logging.getLogger(__name__)

CHUNK = 64 * 1024
MAX_STDERR = 4096
_BG_ID = re.compile(r"backgrounded\s*\S?\s*([0-9a-f]{8,64})\b")

OnLine = Callable[[bytes], None]
OnExit = Callable[[int | None, str], None]


class RunError(RuntimeError):
    """A task could not start; the message is for people (it names what to do)."""


class Executor(Protocol):
    """Where tasks run: ``run`` starts one and returns it with what the start recorded (pid,
    container id, ...), then hands output lines to ``on_line`` and the end to ``on_exit(code,
    stderr tail)``; ``stop`` ends it and returns once it has ended. Both raise
    :class:`~trayapp.services.agent_runner.RunError` with a message for people."""

    async def run(self, task: Task, on_line: OnLine, on_exit: OnExit) -> Task: ...

    async def stop(self, task: Task) -> None: ...


@dataclass(frozen=True, slots=True)
class RunnerConfig:
    """How the local executor runs ``claude``; tests shorten the waits."""

    claude: str | None = None  # the executable; None: found on PATH or where installers put it
    eof_grace: float = 3.0  # seconds after stdin EOF before SIGTERM to the group
    term_grace: float = 5.0  # seconds after SIGTERM before SIGKILL
    tick: float = 0.05
    read_interval: float = 0.1  # seconds between reads of the children's output (POSIX)
    command_timeout: float = 30.0  # ``claude --bg`` / ``claude stop`` / ``claude --help``
    worktrees: Path | None = None  # where task worktrees go; None: data/agents/worktrees
    env: dict[str, str] = field(default_factory=dict)  # extra environment for the children


def headless_argv(exe: str, task: Task, *, budget_flag: bool) -> list[str]:
    """The ``claude -p`` command line of a headless task (``--resume`` when it restarts one)."""
    spec = task.spec
    argv = [exe, "-p", spec.prompt, "--output-format", "stream-json", "--verbose"]
    if task.restarted_from is not None and task.session_id is not None:
        argv += ["--resume", task.session_id]
    elif task.session_id is not None:
        argv += ["--session-id", task.session_id]
    argv += _common(task)
    if spec.max_turns is not None:
        argv += ["--max-turns", str(spec.max_turns)]
    if spec.budget_usd is not None and budget_flag:
        argv += ["--max-budget-usd", f"{spec.budget_usd:g}"]
    return argv


def background_argv(exe: str, task: Task) -> list[str]:
    spec = task.spec
    name = spec.name or task.id
    argv = [exe, "--bg", "-n", name]
    if spec.worktree:
        argv += ["-w", name]
    if task.restarted_from is not None and task.session_id is not None:
        argv += ["--resume", task.session_id]  # a restart goes on in the same conversation
    return [*argv, *_common(task), spec.prompt]


def _common(task: Task) -> list[str]:
    out: list[str] = []
    if task.spec.model:
        out += ["--model", task.spec.model]
    if task.spec.permission_mode.value != "default":
        out += ["--permission-mode", task.spec.permission_mode.value]
    return out


def _close(*fds: int) -> None:
    for fd in fds:
        with contextlib.suppress(OSError):
            os.close(fd)


def parse_background_id(text: str) -> str | None:
    """The job id in ``claude --bg``'s ``backgrounded · 1a2b3c4d``."""
    found = _BG_ID.search(text)
    return found.group(1) if found else None


def _run_command(
    argv: list[str], cwd: Path | None, env: dict[str, str], timeout: float
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout, check=False
    )


class _Lines:
    """A run's output cut into lines, each handed to ``on_line``; a line over :data:`MAX_LINE`
    is handed on as its first 200 bytes and " [line cut]", the rest of it dropped."""

    def __init__(self, on_line: OnLine) -> None:
        self.on_line = on_line
        self.pending = b""
        self.cut = False  # inside a line over MAX_LINE: dropped to its end

    def feed(self, chunk: bytes) -> None:
        *lines, rest = (self.pending + chunk).split(b"\n")
        for line in lines:
            if self.cut:
                self.cut = False
                continue
            self.on_line(line)
        if self.cut:
            rest = b""
        elif len(rest) > MAX_LINE:
            self.on_line(rest[:200] + b" [line cut]")
            rest, self.cut = b"", True
        self.pending = rest

    def finish(self) -> None:
        if self.pending and not self.cut:
            self.on_line(self.pending)
        self.pending = b""


class _Tail:
    """The last :data:`MAX_STDERR` bytes of a stream."""

    def __init__(self) -> None:
        self.kept = b""

    def feed(self, chunk: bytes) -> None:
        self.kept = (self.kept + chunk)[-MAX_STDERR:]

    def text(self) -> str:
        return self.kept.decode("utf-8", "replace")


async def _drain(stream: asyncio.StreamReader, feed: Callable[[bytes], None]) -> None:
    while chunk := await stream.read(CHUNK):
        feed(chunk)


class LocalExecutor:
    """The ``local`` slot's executor (see the module docstring)."""

    name = "local"

    def __init__(self, config: RunnerConfig | None = None) -> None:
        self.config = config or RunnerConfig()
        self._procs: dict[str, asyncio.subprocess.Process] = {}
        self._readers: dict[str, asyncio.Task[None]] = {}
        self._budget_flag: bool | None = None
        self._pump: PipePump | None = None  # made on the loop at the first run

    def _exe(self) -> str:
        exe = self.config.claude or find_claude()
        if exe is None:
            raise RunError("claude was not found (install Claude Code, or put it on PATH)")
        return exe

    def _env(self) -> dict[str, str]:
        return {**os.environ, **self.config.env}

    async def run(self, task: Task, on_line: OnLine, on_exit: OnExit) -> Task:
        """Start ``task``; returns it with what the start recorded (pids, ids, folder). Lines come
        through ``on_line``; ``on_exit(code, stderr tail)`` once a headless child has ended (never
        for a background session: Claude Code owns it). Raises :class:`RunError`."""
        exe = self._exe()
        if task.spec.kind is RunKind.BACKGROUND:
            return await self._run_background(exe, task)
        folder = Path(task.spec.folder)
        if task.spec.worktree:
            folder = await run_blocking(self._worktree, folder, task.id)
        if not folder.is_dir():
            raise RunError(f"the folder {folder} does not exist")
        if task.session_id is None:
            task = replace(task, session_id=str(uuid.uuid4()))
        if task.spec.budget_usd is not None and self._budget_flag is None:
            self._budget_flag = await run_blocking(self._help_lists, exe, "--max-budget-usd")
        argv = headless_argv(exe, task, budget_flag=bool(self._budget_flag))
        pumped = sys.platform != "win32"
        out_r, out_w = os.pipe() if pumped else (-1, asyncio.subprocess.PIPE)
        err_r, err_w = os.pipe() if pumped else (-1, asyncio.subprocess.PIPE)
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                cwd=folder,
                env=self._env(),
                stdin=asyncio.subprocess.PIPE,
                stdout=out_w,
                stderr=err_w,
                **popen_group_kwargs(),
            )
        except OSError as exc:
            if pumped:
                _close(out_r, err_r)
            raise RunError(f"claude could not be started: {exc}") from None
        finally:
            if pumped:
                _close(out_w, err_w)  # the child holds its own copies: our ends close at its exit
        if proc.stdin is not None:
            proc.stdin.close()  # the end of input: claude -p starts only then
        self._procs[task.id] = proc
        reading = (
            self._read_pumped(proc, out_r, err_r, on_line) if pumped else self._read_streams(proc, on_line)
        )
        self._readers[task.id] = asyncio.get_running_loop().create_task(
            self._read(task.id, proc, reading, on_exit), name=f"agent-read-{task.id}"
        )
        # The child leads its group: its pid is the group id (Windows: the root of its tree).
        return replace(
            task,
            pid=proc.pid,
            pgid=proc.pid,
            pid_start=start_ticks(proc.pid),
            slot=self.name,
            workdir=str(folder),
        )

    @property
    def budget_flag(self) -> bool | None:
        """Whether ``claude --help`` lists ``--max-budget-usd`` (None: not asked yet)."""
        return self._budget_flag

    async def _read(
        self, task_id: str, proc: asyncio.subprocess.Process, reading: Awaitable[str], on_exit: OnExit
    ) -> None:
        """Hand on the run's output until it ends, then its exit (code, stderr's tail)."""
        try:
            stderr = await reading
            code = await proc.wait()
        finally:
            self._procs.pop(task_id, None)
            await self._end_leftovers(proc.pid)
        on_exit(code, stderr)

    async def _read_pumped(
        self, proc: asyncio.subprocess.Process, out_fd: int, err_fd: int, on_line: OnLine
    ) -> str:
        if self._pump is None:
            self._pump = PipePump(self.config.read_interval)
        lines, tail = _Lines(on_line), _Tail()
        out = self._pump.add(out_fd, lines.feed)
        err = self._pump.add(err_fd, tail.feed)
        try:
            await out.done
            lines.finish()
            await proc.wait()
            await err.done
        finally:
            self._pump.discard(out)
            self._pump.discard(err)
        return tail.text()

    async def _read_streams(self, proc: asyncio.subprocess.Process, on_line: OnLine) -> str:
        assert proc.stdout is not None
        assert proc.stderr is not None
        lines, tail = _Lines(on_line), _Tail()
        err = asyncio.get_running_loop().create_task(_drain(proc.stderr, tail.feed))
        try:
            await _drain(proc.stdout, lines.feed)
            lines.finish()
            await proc.wait()
            await err
        finally:
            if not err.done():
                err.cancel()
        return tail.text()

    async def _end_leftovers(self, pgid: int) -> None:
        if sys.platform == "win32" or not group_alive(pgid):
            return
        signal_group(pgid, hard=False)
        await self._wait(lambda: group_alive(pgid), self.config.term_grace)
        signal_group(pgid, hard=True)

    async def _wait(self, alive: Callable[[], bool], seconds: float) -> bool:
        """Wait until ``alive()`` is false or ``seconds`` pass; returns whether it ended."""
        end = time.monotonic() + seconds
        while alive():
            if time.monotonic() >= end:
                return False
            await asyncio.sleep(self.config.tick)
        return True

    async def stop(self, task: Task) -> None:
        """Stop ``task``'s run (the sequence in the module docstring); returns once it has ended."""
        if task.spec.kind is RunKind.BACKGROUND:
            if task.job_id is None:
                raise RunError("this background session has no job id to stop")
            await self._claude_command(["stop", task.job_id])
            return
        proc = self._procs.get(task.id)
        pgid = task.pgid or (proc.pid if proc is not None else None)
        if proc is not None:
            open_input = proc.stdin is not None and not proc.stdin.is_closing()
            if open_input and proc.stdin is not None:
                proc.stdin.close()
            grace = self.config.eof_grace if open_input else 0.0
            if await self._wait(lambda: proc.returncode is None, grace):
                reader = self._readers.get(task.id)
                if reader is not None:
                    await asyncio.shield(reader)
                return
        if pgid is None:
            return
        pid = task.pid or pgid

        def alive() -> bool:
            if proc is not None:
                return proc.returncode is None
            return pid_alive(pid) and (task.pid_start is None or start_ticks(pid) == task.pid_start)

        if proc is None and not alive():
            return
        signal_group(pgid, hard=False, alive=True)
        if not await self._wait(alive, self.config.term_grace):
            signal_group(pgid, hard=True, alive=True)
            await self._wait(alive, self.config.term_grace)
        if group_alive(pgid):
            signal_group(pgid, hard=True)
        reader = self._readers.get(task.id)
        if reader is not None:
            await asyncio.shield(reader)

    def owns(self, task_id: str) -> bool:
        """Whether the child of ``task_id`` runs under this executor (with its pipe)."""
        return task_id in self._procs

    async def _run_background(self, exe: str, task: Task) -> Task:
        argv = background_argv(exe, task)
        out = await self._claude_command(argv[1:], cwd=Path(task.spec.folder))
        job = parse_background_id(out)
        if job is None:
            raise RunError(f"claude --bg did not say which session it started: {out.strip()[:200]!r}")
        return replace(task, job_id=job, slot=self.name)

    async def _claude_command(self, args: list[str], cwd: Path | None = None) -> str:
        exe = self._exe()
        try:
            done = await run_blocking(
                _run_command, [exe, *args], cwd, self._env(), self.config.command_timeout
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise RunError(f"claude {args[0]} failed: {exc}") from None
        text = done.stdout.decode("utf-8", "replace")
        if done.returncode != 0:
            tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
            raise RunError(f"claude {args[0]} exited with status {done.returncode}: {tail[0][:200]}")
        return text

    def _help_lists(self, exe: str, flag: str) -> bool:
        try:
            done = subprocess.run(
                [exe, "--help"], capture_output=True, timeout=self.config.command_timeout, check=False
            )
        except (OSError, subprocess.TimeoutExpired):
            return False
        return flag in done.stdout.decode("utf-8", "replace")

    def _worktree_dir(self) -> Path:
        return self.config.worktrees or paths.data_dir() / "agents" / "worktrees"

    def _worktree(self, folder: Path, task_id: str) -> Path:
        """``git worktree add -b claude-watch/<id> <data>/agents/worktrees/<id>`` from ``folder``."""
        target = self._worktree_dir() / task_id
        if target.is_dir():
            return target  # made for this task already (a restart of Claude Watch mid-start)
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        argv = ["git", "-C", str(folder), "worktree", "add", "-b", f"claude-watch/{task_id}", str(target)]
        try:
            done = subprocess.run(argv, capture_output=True, timeout=60, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise RunError(f"git worktree add failed: {exc}") from None
        if done.returncode != 0:
            why = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
            raise RunError(f"git worktree add failed in {folder}: {why[0][:200]}")
        return target
