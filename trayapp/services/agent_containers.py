"""The ``docker`` executor of agent tasks: headless runs in containers, as slots of the queue.

Each slot of the setting ``agents.container_slots`` (:mod:`trayapp.core.container_slots`) becomes
the queue's slot ``docker:NAME`` with its own cap; the queue's :func:`~trayapp.core.agents.decide`
spreads tasks over the local slot and these (that is all "load balancing" means here: never across
accounts). A task on such a slot runs ``claude -p PROMPT --output-format stream-json --verbose
--session-id UUID ...`` (the local runner's command line) as the entrypoint of a fresh container of
the slot's image (or the task's own ``image``), through the Docker Engine API
(:mod:`trayapp.platform.docker_engine`; Podman's compatible socket works too):

- the task's folder (or its git worktree, with the repository's ``.git`` folder it points to) is
  bind-mounted read-write at the same path and is the working folder, so paths in the output mean
  the same inside and out; nothing else of the host is mounted;
- not privileged, a tiny init as PID 1, the slot's network (``bridge`` unless it says ``@none``),
  the host user's uid:gid (files written to the folder stay the user's);
- ``HOME`` is one folder in the data folder (``agents/container-home``) shared by every container
  slot, as a host's home is shared by its terminals, so Claude Code's sessions outlive the
  container and a restart's ``--resume`` finds its conversation on any container slot (it holds
  no credentials: the token comes by environment);
- labelled ``claude-watch.task=<id>``, ``claude-watch.slot=docker:NAME`` and
  ``claude-watch.owner`` (this user's mark: at start-up only its own leftovers are removed);
- authenticated by ``CLAUDE_CODE_OAUTH_TOKEN``: the long-lived, inference-only token the user made
  with ``claude setup-token`` and stored in our keyring (``claude-watch secrets set
  claude-oauth-token``). Never a copy of Claude Code's credentials file: its OAuth refresh token
  rotates on use, so a container refreshing it would invalidate the host's copy and log the host
  out. The token goes into the container's environment only; it is never logged, never part of a
  task record, and any engine message is scrubbed of it.

Output is the container's followed log (stdout lines to the queue, capped like the local runner's;
the stderr tail for the exit), then the exit status from ``wait``, then the container is removed.
Stop: the engine's stop (SIGTERM, then its own SIGKILL after ``stop_timeout`` seconds), a kill if
it still runs, and removal; it returns once the run has ended. Usage inside a container shows only
through the run's ``rate_limit_event`` (the token cannot read the usage endpoint).
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trayapp import paths
from trayapp.core.agents import RunKind, Slot, Task
from trayapp.core.container_slots import PREFIX, ContainerSlot, parse_slots
from trayapp.core.stream_json import MAX_LINE
from trayapp.platform import docker_engine as de
from trayapp.platform.secrets import SecretsError, SecretStore, default_store, redact
from trayapp.runtime import run_blocking
from trayapp.services.agent_runner import MAX_STDERR, LocalExecutor, OnExit, OnLine, RunError, headless_argv

if TYPE_CHECKING:
    from trayapp.services.agent_queue import AgentQueue
    from trayapp.settings import Settings

log = logging.getLogger(__name__)

TOKEN_SECRET = "claude-oauth-token"
TOKEN_ENV = "CLAUDE_CODE_OAUTH_TOKEN"
SLOT_LABEL = "claude-watch.slot"
OWNER_LABEL = "claude-watch.owner"  # whose Claude Watch made it (an engine may serve several users)
CHECK_LABEL = "claude-watch.check"
REAP_TIMEOUT = 15.0
NO_TOKEN = de.TokenMissing(
    "no Claude Code token for containers",
    "run `claude setup-token` and store it with `claude-watch secrets set claude-oauth-token`",
)


@dataclass(frozen=True, slots=True)
class ContainerConfig:
    """How containers run; tests shorten the waits."""

    stop_timeout: int = 10  # seconds between the engine's SIGTERM and its SIGKILL
    user: str | None = "host"  # "host": this user's uid:gid; None: the image's own user
    home: str = "/home/claude-watch"  # HOME inside the container (the shared folder mounted there)
    home_dir: Path | None = None  # the host folder mounted as HOME; None: data/agents/container-home
    socket: str | None = None  # None: DOCKER_HOST, else the default sockets
    end_wait: float = 30.0  # seconds stop waits for the output reader to finish after the kill


class LineSplitter:
    """Bytes in, complete lines out; a line over :data:`MAX_LINE` is cut to 200 bytes and marked,
    the rest of it dropped (as the local runner does)."""

    def __init__(self) -> None:
        self._pending = b""
        self._cut = False

    def feed(self, chunk: bytes) -> list[bytes]:
        self._pending += chunk
        *lines, self._pending = self._pending.split(b"\n")
        out: list[bytes] = []
        for line in lines:
            if self._cut:
                self._cut = False
                continue
            out.append(line)
        if len(self._pending) > MAX_LINE:
            out.append(self._pending[:200] + b" [line cut]")
            self._pending, self._cut = b"", True
        return out

    def end(self) -> list[bytes]:
        rest, self._pending = self._pending, b""
        return [rest] if rest and not self._cut else []


def owner() -> str:
    """This user's and data folder's mark on its containers (a digest: no path in labels)."""
    import hashlib

    uid = getattr(os, "getuid", lambda: 0)()
    return hashlib.sha256(f"{uid}:{paths.data_dir()}".encode()).hexdigest()[:16]


def host_user() -> str | None:
    getuid = getattr(os, "getuid", None)
    getgid = getattr(os, "getgid", None)
    return f"{getuid()}:{getgid()}" if getuid is not None and getgid is not None else None


def git_dir_of(folder: Path) -> Path | None:
    """The ``.git`` folder a git worktree's ``.git`` file points to (it must be mounted too)."""
    marker = folder / ".git"
    try:
        if not marker.is_file():
            return None
        text = marker.read_text("utf-8", "replace")[:4096]
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("gitdir:"):
            linked = Path(line.removeprefix("gitdir:").strip())
            # <repo>/.git/worktrees/<name>: the whole .git holds the objects the worktree uses.
            return linked.parents[1] if linked.parent.name == "worktrees" else linked
    return None


class ContainerExecutor:
    """The ``docker`` slots' executor (see the module docstring)."""

    name = PREFIX

    def __init__(
        self,
        slots: list[ContainerSlot] | None = None,
        *,
        secrets: SecretStore | None = None,
        engine: de.DockerEngine | None = None,
        config: ContainerConfig | None = None,
        local: LocalExecutor | None = None,
    ) -> None:
        self.config = config or ContainerConfig()
        self.secrets = secrets or default_store()
        self._engine = engine
        self._local = local  # makes git worktrees the same way the local runner does
        self._slots = {s.slot_name: s for s in slots or []}
        self._runs: dict[str, str] = {}  # task id -> container id
        self._readers: dict[str, asyncio.Task[None]] = {}
        self._checked: set[str] = set()  # images whose claude ran here (checked once per image)
        self._starting: set[str] = set()  # tasks inside run()
        self._cancelled: set[str] = set()  # tasks stopped while starting

    @property
    def engine(self) -> de.DockerEngine:
        if self._engine is None:
            self._engine = de.DockerEngine(self.config.socket)
        return self._engine

    def set_slots(self, slots: list[ContainerSlot]) -> None:
        self._slots = {s.slot_name: s for s in slots}

    def queue_slots(self) -> list[Slot]:
        return [s.slot() for s in self._slots.values()]

    def running(self) -> dict[str, str]:
        """Task id -> container id of the runs this executor is watching."""
        return dict(self._runs)

    async def aclose(self) -> None:
        if self._engine is not None:
            await self._engine.aclose()

    async def _token(self) -> str:
        try:
            token = await self.secrets.aget(TOKEN_SECRET)
        except SecretsError as exc:
            raise RunError(f"the Claude Code token for containers cannot be read: {exc}") from None
        if not token:
            raise RunError(str(NO_TOKEN))
        return token

    def _prepare(self, task: Task) -> tuple[Path, list[tuple[str, str]]]:
        """Blocking (io lane): the task's folder (its git worktree made when asked, the runner's
        way) and what to mount: the folder, a worktree's repository ``.git``, the shared HOME."""
        folder = Path(task.spec.folder)
        if task.spec.worktree:
            folder = (self._local or LocalExecutor())._worktree(folder, task.id)
        if not folder.is_dir():
            raise RunError(f"the folder {folder} does not exist")
        binds = [(str(folder), str(folder))]
        git_dir = git_dir_of(folder)
        if git_dir is not None:
            binds.append((str(git_dir), str(git_dir)))
        home = self.config.home_dir or paths.data_dir() / "agents" / "container-home"
        home.mkdir(parents=True, exist_ok=True, mode=0o700)
        binds.append((str(home), self.config.home))
        return folder, binds

    def container_spec(
        self, task: Task, slot: ContainerSlot, folder: Path, token: str, binds: list[tuple[str, str]]
    ) -> de.ContainerSpec:
        """The container of ``task`` (its session id already chosen; ``binds`` from :meth:`_prepare`)."""
        argv = headless_argv("claude", task, budget_flag=False)[1:]  # the queue enforces budgets
        user = host_user() if self.config.user == "host" else self.config.user
        return de.ContainerSpec(
            image=task.spec.image or slot.image,
            cmd=tuple(argv),
            workdir=str(folder),
            binds=tuple(binds),
            env=((TOKEN_ENV, token), ("HOME", self.config.home)),
            labels=((de.LABEL_TASK, task.id), (SLOT_LABEL, slot.slot_name), (OWNER_LABEL, owner())),
            network=slot.network,
            entrypoint=("claude",),
            user=user,
        )

    async def run(self, task: Task, on_line: OnLine, on_exit: OnExit) -> Task:
        """Start ``task`` in a container; returns it with the container id, slot, session id and
        folder. Lines come through ``on_line``, the end through ``on_exit(code, stderr tail)``.
        Raises :class:`RunError` with what to do (no engine, no image, no claude, no token)."""
        slot = self._slots.get(task.slot or "")
        if slot is None:
            raise RunError(f"no container slot named {task.slot!r} (see agents.container_slots)")
        if task.spec.kind is RunKind.BACKGROUND:
            raise RunError("background sessions run on this machine only; containers take headless tasks")
        if task.id in self._cancelled:
            self._cancelled.discard(task.id)
            return task
        self._starting.add(task.id)
        try:
            token = await self._token()
            folder, binds = await run_blocking(self._prepare, task)
            if task.session_id is None:
                task = replace(task, session_id=str(uuid.uuid4()))
            spec = self.container_spec(task, slot, folder, token, binds)
            cid: str | None = None
            if task.id in self._cancelled:
                self._cancelled.discard(task.id)
                return task
            try:
                if spec.image not in self._checked:
                    await self.check(spec.image)  # a clear error now rather than an exit status later
                cid = await self._create(spec, task.id)
                await self.engine.start(cid, spec.image)
            except de.DockerError as exc:
                if cid is not None:
                    await self._remove_quietly(cid)
                raise RunError(redact(str(exc), token)) from None
        finally:
            self._starting.discard(task.id)
        if task.id in self._cancelled:  # stopped while it was starting: it never runs
            self._cancelled.discard(task.id)
            await self._remove_quietly(cid)
            return task
        self._runs[task.id] = cid
        self._readers[task.id] = asyncio.get_running_loop().create_task(
            self._follow(task.id, cid, spec.image, on_line, on_exit, token), name=f"agent-container-{task.id}"
        )
        return replace(task, container_id=cid, slot=slot.slot_name, workdir=str(folder))

    async def _create(self, spec: de.ContainerSpec, task_id: str) -> str:
        name = f"claude-watch-{task_id}"
        try:
            return await self.engine.create(spec, name)
        except de.EngineError as exc:
            if exc.status != 409:  # 409: a container of that name is left from an earlier start
                raise
        await self.engine.remove(name)
        return await self.engine.create(spec, name)

    async def _follow(
        self, task_id: str, cid: str, image: str, on_line: OnLine, on_exit: OnExit, token: str
    ) -> None:
        lines = LineSplitter()
        stderr = b""
        code: int | None = None
        try:
            async for stream, payload in self.engine.logs(cid):
                if stream == de.STDERR:
                    stderr = (stderr + payload)[-MAX_STDERR:]
                    continue
                for line in lines.feed(payload):
                    on_line(line)
            for line in lines.end():
                on_line(line)
            code = await self.engine.wait(cid)
        except de.DockerError as exc:
            stderr += f"\nlost the container's output: {redact(str(exc), token)}".encode()
        except Exception:
            log.exception("agents: following container %s failed", cid[:12])
        finally:
            self._runs.pop(task_id, None)
            await self._remove_quietly(cid)
        text = redact(stderr[-MAX_STDERR:].decode("utf-8", "replace"), token)
        if code == 127 and de.says_no_claude(text):  # the image changed since it was checked
            self._checked.discard(image)
            text = str(de.claude_missing(image))
        on_exit(code, text)

    async def _remove_quietly(self, cid: str) -> None:
        try:
            await self.engine.remove(cid, force=True)
        except de.DockerError as exc:
            log.warning("agents: container %s was not removed: %s", cid[:12], exc)

    async def stop(self, task: Task) -> None:
        """Stop ``task``'s container (SIGTERM, the engine's SIGKILL after ``stop_timeout``, a kill
        if it still runs) and remove it; returns once the run has ended."""
        cid = self._runs.get(task.id) or task.container_id
        if cid is None:  # not started yet, or starting: run() leaves it (or its container) be
            self._cancelled.add(task.id)
            return
        try:
            await self.engine.stop(cid, self.config.stop_timeout)
            state = await self.engine.inspect(cid)
            if state is not None and state.running:
                await self.engine.kill(cid)
        except de.DockerError as exc:
            raise RunError(f"the container could not be stopped: {exc}") from None
        reader = self._readers.get(task.id)
        if reader is not None:
            try:
                await asyncio.wait_for(asyncio.shield(reader), self.config.end_wait)
            except TimeoutError:
                log.warning("agents: the output of container %s did not end", cid[:12])
            self._readers.pop(task.id, None)
        await self._remove_quietly(cid)

    async def reap_leftovers(self) -> int:
        """Remove (killing them) the task containers of this user's Claude Watch (its
        ``claude-watch.owner`` label) that this executor is not following: runs of an earlier Claude
        Watch, whose tasks the queue has queued again. Another user's are never touched. Call it
        before the executor is registered, so no run of this one can be taken for a leftover."""
        following = set(self._runs.values())
        ours = await self.engine.containers(f"{OWNER_LABEL}={owner()}")
        leftovers = [cid for cid in ours if cid not in following]
        for cid in leftovers:
            await self._remove_quietly(cid)
        if leftovers:
            log.info("agents: removed %d container(s) left by an earlier run", len(leftovers))
        return len(leftovers)

    async def check(self, image: str) -> str:
        """Whether ``image`` can run agents here: the engine answers, the image is there and its
        ``claude --version`` runs. Returns that version; raises the typed error otherwise."""
        await self.engine.ping()
        await self.engine.image_inspect(image)
        labels = ((CHECK_LABEL, "1"),)
        spec = de.ContainerSpec(
            image, ("--version",), "/", labels=labels, network="none", entrypoint=("claude",)
        )
        cid = await self.engine.create(spec)
        try:
            await self.engine.start(cid, image)
            frames = [frame async for frame in self.engine.logs(cid)]
            code = await self.engine.wait(cid)
        finally:
            await self._remove_quietly(cid)
        out = b"".join(p for s, p in frames if s == de.STDOUT).decode("utf-8", "replace").strip()
        err = b"".join(p for s, p in frames if s == de.STDERR).decode("utf-8", "replace")
        if code == 127 or (code != 0 and de.says_no_claude(err)):
            raise de.claude_missing(image)
        if code != 0:
            raise de.EngineError(f"claude --version in {image} exited with status {code}")
        self._checked.add(image)
        return out[:200]


def slots_from_settings(get: Callable[[str], Any]) -> list[ContainerSlot]:
    """The configured container slots; a bad value (the file edited by hand) is none, logged."""
    try:
        return parse_slots(get("agents.container_slots") or [])
    except (ValueError, TypeError) as exc:
        log.warning("agents: agents.container_slots ignored: %s", exc)
        return []


def attach_containers(
    queue: AgentQueue, settings: Settings, executor: ContainerExecutor | None = None
) -> Callable[[], Awaitable[None]]:
    """Register the ``docker`` executor and its slots with ``queue`` and follow the setting;
    returns the stop (ends the subscription, closes the engine connection; running containers are
    the queue's to stop). With no slots configured nothing runs and no engine is asked."""
    ex = executor or ContainerExecutor()
    ex.set_slots(slots_from_settings(settings.get))
    queue.register_executor(PREFIX, ex, ex.queue_slots())

    def changed(_keys: Any, current: Settings) -> None:
        ex.set_slots(slots_from_settings(current.get))
        queue.set_slots(PREFIX, ex.queue_slots())

    unsubscribe = settings.subscribe("agents.container_slots", changed)

    async def stop() -> None:
        unsubscribe()
        await ex.aclose()

    return stop


async def start_containers(
    queue: AgentQueue, settings: Settings, executor: ContainerExecutor | None = None
) -> Callable[[], Awaitable[None]]:
    """The app's start: with slots configured, first remove what an earlier run left (bounded:
    an engine that does not answer is logged, not waited for), then :func:`attach_containers`."""
    ex = executor or ContainerExecutor()
    if slots_from_settings(settings.get):
        try:
            await asyncio.wait_for(ex.reap_leftovers(), REAP_TIMEOUT)
        except (de.DockerError, TimeoutError) as exc:
            log.info("agents: leftover containers not checked (%s)", exc)
    return attach_containers(queue, settings, ex)
