"""Agents in containers against a real Docker engine: a private ``dockerd`` started by this test
session (tests/helpers/docker_daemon.py) and images imported from a busybox root filesystem with a
POSIX-sh stand-in ``claude`` (tests/helpers/docker_image.py); the real queue, real SQLite, real
logs. Without root or ``docker.io`` these skip with the reason; under ``CI=true`` they fail."""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.helpers.docker_daemon import PrivateDockerd, private_dockerd, unavailable  # noqa: F401 (fixture)
from tests.helpers.docker_image import IMAGE, IMAGE_NO_CLAUDE, busybox, import_image
from tests.helpers.fake_keyring import MemoryKeyring
from tests.helpers.fixtures_sessions import FakeClaude
from trayapp.core.agents import QueuePolicy, Task, TaskSpec, TaskState
from trayapp.core.clock import FakeClock
from trayapp.core.container_slots import ContainerSlot
from trayapp.core.stream_json import RateLimitEvent
from trayapp.platform import secrets as sec
from trayapp.platform.docker_engine import LABEL_TASK, ContainerSpec, DockerEngine
from trayapp.services.agent_containers import (
    CHECK_LABEL,
    OWNER_LABEL,
    ContainerConfig,
    ContainerExecutor,
    owner,
)
from trayapp.services.agent_queue import AgentQueue
from trayapp.services.agent_runner import LocalExecutor, RunnerConfig
from trayapp.store.agents_repo import AgentsRepo

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

TOKEN = "sk-ant-oat01-Container-Test-Token-0123456789"


@pytest.fixture(scope="session")
def images(private_dockerd: PrivateDockerd) -> PrivateDockerd:  # noqa: F811
    """The two test images, imported once per session."""
    if busybox() is None:
        unavailable("busybox is not installed (packaging/system-deps.sh test installs busybox-static)")
    import_image(private_dockerd.socket, IMAGE, with_claude=True)
    import_image(private_dockerd.socket, IMAGE_NO_CLAUDE, with_claude=False)
    return private_dockerd


class Box:
    """A queue with the local slot and two container slots on the private engine."""

    def __init__(self, tmp_path: Path, daemon: PrivateDockerd, store: sec.SecretStore) -> None:
        self.tmp_path = tmp_path
        self.folder = tmp_path / "project"
        self.folder.mkdir()
        self.engine = DockerEngine(daemon.socket)
        self.executor = ContainerExecutor(
            [ContainerSlot("box", IMAGE, 2, "none"), ContainerSlot("bare", IMAGE_NO_CLAUDE, 1, "none")],
            secrets=store,
            engine=DockerEngine(daemon.socket),
            config=ContainerConfig(stop_timeout=1),
        )
        self.queue: AgentQueue | None = None
        self.rate_limits: list[RateLimitEvent] = []

    async def start(self, *, local_cap: int = 2) -> AgentQueue:
        q = AgentQueue(
            AgentsRepo(self.tmp_path / "agents.sqlite3"),
            clock=FakeClock(datetime.now(UTC).replace(microsecond=0)),
            policy=QueuePolicy(default_cap=local_cap),
            local=LocalExecutor(RunnerConfig(eof_grace=0.3, term_grace=0.5)),
            logs=self.tmp_path / "logs",
        )
        q.register_executor("docker", self.executor, self.executor.queue_slots())
        q.on_rate_limit.append(self.rate_limits.append)
        await q.start()
        self.queue = q
        return q

    def spec(self, slot: str | None = "docker:box", prompt: str = "fix the tests") -> TaskSpec:
        return TaskSpec(prompt=prompt, folder=str(self.folder), slot=slot)

    def steer(self, line: str) -> None:
        (self.folder / ".fake-claude").write_text(line + "\n")

    async def ours(self, task_id: str) -> list[str]:
        return await self.engine.containers(f"{LABEL_TASK}={task_id}")

    async def close(self) -> None:
        if self.queue is not None:
            await self.queue.stop_all()
            self.queue.repo.close()
        await self.executor.aclose()
        await self.engine.aclose()


@pytest.fixture
def token_store(keyring_backend: MemoryKeyring) -> sec.SecretStore:
    store = sec.SecretStore(backend=keyring_backend, timeout=5.0)
    store.set("claude-oauth-token", TOKEN)
    return store


@pytest.fixture
async def box(tmp_path: Path, images: PrivateDockerd, token_store: sec.SecretStore) -> AsyncIterator[Box]:
    b = Box(tmp_path, images, token_store)
    yield b
    await b.close()


async def until(check: object, timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not check():  # type: ignore[operator]
        assert loop.time() < end, "timed out"
        await asyncio.sleep(0.05)


def ended(q: AgentQueue, task_id: str) -> object:
    return lambda: (
        (t := q.get(task_id)) is not None
        and t.state
        in (
            TaskState.DONE,
            TaskState.FAILED,
            TaskState.STOPPED,
        )
    )


def final(q: AgentQueue, task_id: str) -> Task:
    task = q.get(task_id)
    assert task is not None
    return task


async def test_a_task_runs_in_a_container_with_its_folder_mounted(box: Box) -> None:
    q = await box.start()
    task = await q.submit(box.spec())
    await until(ended(q, task.id))
    done = final(q, task.id)
    assert done.state is TaskState.DONE, done.error
    assert done.slot == "docker:box"
    assert done.container_id
    # The stand-in wrote into its working folder: the mounted project, at the same path.
    seen = dict(line.split("=", 1) for line in (box.folder / "from-container.txt").read_text().splitlines())
    assert seen["cwd"] == str(box.folder)
    assert seen["args"].startswith(
        f"-p fix the tests --output-format stream-json --verbose --session-id {done.session_id}"
    )
    # Its stream reached the queue: init, assistant, rate_limit_event, result.
    assert (done.model, done.last_line) == ("claude-fake", "Working in a container")
    assert (done.cost_usd, done.turns, done.exit_code) == (0.0012, 1, 0)
    assert [e.status for e in box.rate_limits] == ["allowed"]
    log_file = q.log_path(task.id)
    await until(lambda: log_file.is_file() and b'"result"' in log_file.read_bytes())
    assert len(log_file.read_text().splitlines()) == 4
    assert await box.ours(task.id) == []  # removed after the run


async def test_stop_ends_the_container_and_removes_it(box: Box) -> None:
    box.steer("hang")  # ignores SIGTERM: the engine's SIGKILL ends it
    q = await box.start()
    task = await q.submit(box.spec())
    await until(lambda: final(q, task.id).state is TaskState.RUNNING and bool(final(q, task.id).container_id))
    cid = final(q, task.id).container_id
    assert cid is not None
    state = await box.engine.inspect(cid)
    assert state is not None
    assert state.running
    stopped = await q.stop(task.id)
    assert stopped.state is TaskState.STOPPED
    assert await box.engine.inspect(cid) is None  # no container left, running or not
    assert await box.ours(task.id) == []
    assert box.executor.running() == {}


async def test_an_image_without_claude_fails_with_what_to_do(box: Box) -> None:
    q = await box.start()
    task = await q.submit(box.spec("docker:bare"))
    await until(ended(q, task.id))
    failed = final(q, task.id)
    assert failed.state is TaskState.FAILED
    assert failed.error == (
        f"the image {IMAGE_NO_CLAUDE} has no claude on PATH: install @anthropic-ai/claude-code in it"
    )
    assert await box.ours(task.id) == []


async def test_a_missing_image_says_how_to_get_it(box: Box) -> None:
    q = await box.start()
    task = await q.submit(
        TaskSpec(prompt="x", folder=str(box.folder), slot="docker:box", image="nope/absent:1")
    )
    await until(ended(q, task.id))
    assert final(q, task.id).error == (
        "the image nope/absent:1 is not on this Docker engine: docker pull nope/absent:1, or build it"
    )


async def test_the_queue_spreads_tasks_over_local_and_container_slots(
    tmp_path: Path, images: PrivateDockerd, token_store: sec.SecretStore, fake_claude: FakeClaude
) -> None:
    box = Box(tmp_path, images, token_store)
    box.executor.set_slots([ContainerSlot("box", IMAGE, 1, "none")])
    fake_claude.script(p={"delay": 3})
    box.steer("sleep 3")
    try:
        q = await box.start(local_cap=1)
        tasks = [await q.submit(box.spec(None, f"task {i}")) for i in range(3)]
        await until(lambda: sum(final(q, t.id).state is TaskState.RUNNING for t in tasks) == 2)
        running = sorted(str(final(q, t.id).slot) for t in tasks if final(q, t.id).state is TaskState.RUNNING)
        assert running == ["docker:box", "local"]  # one on each, each at its cap
        assert final(q, tasks[2].id).state is TaskState.QUEUED
        for t in tasks:
            await until(ended(q, t.id), timeout=60)
        assert [final(q, t.id).state for t in tasks] == [TaskState.DONE] * 3
    finally:
        await box.close()


async def test_the_token_reaches_the_container_and_nothing_else(
    box: Box, caplog: pytest.LogCaptureFixture, hermetic_env: Path
) -> None:
    caplog.set_level(logging.DEBUG)
    box.steer("stderr some noise on stderr")
    q = await box.start()
    task = await q.submit(box.spec())
    await until(ended(q, task.id))
    done = final(q, task.id)
    assert done.state is TaskState.DONE, done.error
    seen = dict(line.split("=", 1) for line in (box.folder / "from-container.txt").read_text().splitlines())
    assert (seen["token"], seen["token_length"]) == ("set", str(len(TOKEN)))
    assert TOKEN not in repr(done)
    assert TOKEN not in caplog.text
    await q.stop_all()
    for root in (box.tmp_path, hermetic_env):
        for path in root.rglob("*"):
            if path.is_file() and path.name != "from-container.txt":
                assert TOKEN.encode() not in path.read_bytes(), path
    with sqlite3.connect(box.tmp_path / "agents.sqlite3") as db:
        assert TOKEN not in repr(db.execute("select * from tasks").fetchall())


async def test_no_token_fails_before_any_container_with_what_to_do(
    tmp_path: Path, images: PrivateDockerd, keyring_backend: MemoryKeyring
) -> None:
    box = Box(tmp_path, images, sec.SecretStore(backend=keyring_backend, timeout=5.0))
    try:
        q = await box.start()
        task = await q.submit(box.spec())
        await until(ended(q, task.id))
        assert final(q, task.id).error == (
            "no Claude Code token for containers: run `claude setup-token` and store it with "
            "`claude-watch secrets set claude-oauth-token`"
        )
        assert await box.ours(task.id) == []
        assert not (box.folder / "from-container.txt").exists()
    finally:
        await box.close()


async def test_check_reports_the_images_claude(box: Box) -> None:
    assert await box.executor.check(IMAGE) == "2.1.219 (Claude Code)"
    with pytest.raises(Exception, match="has no claude on PATH"):
        await box.executor.check(IMAGE_NO_CLAUDE)
    assert await box.engine.containers(CHECK_LABEL) == []  # both probes removed


@pytest.mark.qt_loop
async def test_the_tray_app_runs_a_task_on_a_configured_container_slot(
    qapp: QApplication,
    tmp_path: Path,
    images: PrivateDockerd,
    store: sec.SecretStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from trayapp.app import ClaudeWatch
    from trayapp.app_features import FEATURES
    from trayapp.features import agent_containers, agents

    assert ("agent containers", "trayapp.features.agent_containers") in FEATURES

    monkeypatch.setenv("DOCKER_HOST", images.host)
    store.set("claude-oauth-token", TOKEN)  # the app's own store (the keyring fixture's)
    engine = DockerEngine(images.socket)
    (tmp_path / ".fake-claude").write_text("hang\n")
    old = ContainerSpec(
        IMAGE,
        ("-p", "old"),
        str(tmp_path),
        binds=((str(tmp_path), str(tmp_path)),),
        labels=((LABEL_TASK, "t-gone"), (OWNER_LABEL, owner())),
        network="none",
        entrypoint=("claude",),
    )
    leftover = await engine.create(old)  # a run of an earlier Claude Watch, still going
    await engine.start(leftover)
    theirs = replace(old, labels=((LABEL_TASK, "t-theirs"), (OWNER_LABEL, "another-user")))
    other = await engine.create(theirs)  # another user's Claude Watch on the same engine
    state = await engine.inspect(leftover)
    assert state is not None
    assert state.running, [f async for f in engine.logs(leftover, follow=False)]
    cw = ClaudeWatch(qapp, demo=False, self_test=True)
    cw.settings.update({"agents.container_slots": [f"box={IMAGE}:1@none"]})
    cw.build()
    ui = agents.ui_of(cw)
    assert ui is not None
    stop_agents = await agents.start(cw)
    stop_containers = await agent_containers.start(cw)
    assert stop_agents is not None
    assert stop_containers is not None
    folder = tmp_path / "proj"
    folder.mkdir()
    try:
        assert "docker:box" in [s.name for s in ui.queue.slots]
        assert await engine.inspect(leftover) is None  # removed at start
        assert await engine.inspect(other) is not None  # not ours: left alone
        task = await ui.queue.submit(TaskSpec(prompt="in a box", folder=str(folder), slot="docker:box"))
        await until(ended(ui.queue, task.id))
        done = final(ui.queue, task.id)
        assert done.state is TaskState.DONE, done.error
        assert (folder / "from-container.txt").read_text().startswith(f"cwd={folder}\ntoken=set\n")
    finally:
        await stop_containers()
        await stop_agents()
        await engine.remove(leftover)
        await engine.remove(other)
        await engine.aclose()


async def test_the_token_set_with_the_cli_in_the_real_keyring_reaches_the_container(
    tmp_path: Path, images: PrivateDockerd, desktop_services: object
) -> None:
    """The user's path: `claude-watch secrets set claude-oauth-token` into the session's real
    gnome-keyring (Secret Service), then a task in a container authenticated by it."""
    token = f"sk-ant-oat01-Real-Keyring-{os.getpid()}-xyz"
    cli = [sys.executable, "-m", "trayapp", "secrets"]
    done = subprocess.run(
        [*cli, "set", "claude-oauth-token"],
        input=token + "\n",
        text=True,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert token not in done.stdout + done.stderr
    box = Box(tmp_path, images, sec.SecretStore())  # the real keyring backend
    try:
        q = await box.start()
        task = await q.submit(box.spec())
        await until(ended(q, task.id))
        assert final(q, task.id).state is TaskState.DONE, final(q, task.id).error
        seen = dict(
            line.split("=", 1) for line in (box.folder / "from-container.txt").read_text().splitlines()
        )
        assert (seen["token"], seen["token_length"]) == ("set", str(len(token)))
    finally:
        await box.close()
        subprocess.run([*cli, "delete", "claude-oauth-token"], capture_output=True, timeout=60, check=False)


async def test_restart_resumes_the_conversation_in_a_new_container(box: Box) -> None:
    q = await box.start()
    first = await q.submit(box.spec())
    await until(ended(q, first.id))
    assert final(q, first.id).state is TaskState.DONE, final(q, first.id).error
    again = await q.restart(first.id)
    await until(ended(q, again.id))
    resumed = final(q, again.id)
    assert resumed.state is TaskState.DONE, resumed.error  # the slot's home kept the session
    args = dict(line.split("=", 1) for line in (box.folder / "from-container.txt").read_text().splitlines())[
        "args"
    ]
    assert f"--resume {final(q, first.id).session_id}" in args
    assert resumed.container_id != final(q, first.id).container_id


async def test_a_task_stopped_while_its_container_starts_leaves_no_container(box: Box) -> None:
    q = await box.start()  # the image is not checked yet: its start takes a while
    task = await q.submit(box.spec())
    await until(lambda: final(q, task.id).state is TaskState.STARTING, timeout=5)
    stopped = await q.stop(task.id)
    assert stopped.state is TaskState.STOPPED
    await until(lambda: not box.executor._starting, timeout=30)  # run() has returned
    for _ in range(100):  # whatever came up is stopped and removed
        if not await box.ours(task.id):
            break
        await asyncio.sleep(0.1)
    assert await box.ours(task.id) == []
    assert box.executor.running() == {}
    assert final(q, task.id).state is TaskState.STOPPED


async def test_a_worktree_task_runs_in_its_worktree_with_the_repository_mounted(box: Box) -> None:
    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(box.folder), *args], check=True, capture_output=True, timeout=60)

    git("init", "-q")
    git(
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@example.invalid",
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "start",
    )
    q = await box.start()
    task = await q.submit(
        TaskSpec(prompt="in a worktree", folder=str(box.folder), slot="docker:box", worktree=True)
    )
    await until(ended(q, task.id))
    done = final(q, task.id)
    assert done.state is TaskState.DONE, done.error
    assert done.workdir is not None
    worktree = Path(done.workdir)
    assert worktree != box.folder
    seen = dict(line.split("=", 1) for line in (worktree / "from-container.txt").read_text().splitlines())
    assert seen["cwd"] == str(worktree)
    assert seen["gitdir_visible"] == "yes"  # the repository's .git is mounted too: git works inside
    assert not (box.folder / "from-container.txt").exists()


def test_doctor_checks_the_engine_and_each_slots_image(
    images: PrivateDockerd, store: sec.SecretStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from trayapp import settings as settings_mod
    from trayapp.cli.doctor import FAIL, OK
    from trayapp.cli.doctor_containers import checks

    monkeypatch.setenv("DOCKER_HOST", images.host)
    store.set("claude-oauth-token", TOKEN)
    settings_mod.load().update(
        {"agents.container_slots": [f"box={IMAGE}:2@none", f"bare={IMAGE_NO_CLAUDE}:1"]}
    )
    token, engine, box_slot, bare_slot = checks(datetime.now(UTC))
    assert (token.status, token.detail) == (OK, "set (keyring)")
    assert engine.status == OK
    assert engine.detail.startswith("Docker ")
    assert engine.detail.endswith(f" at {images.socket}")
    assert (box_slot.name, box_slot.status) == ("Slot docker:box", OK)
    assert box_slot.detail == f"{IMAGE}, up to 2 at once, network none: claude 2.1.219 (Claude Code)"
    assert (bare_slot.status, bare_slot.detail) == (
        FAIL,
        f"the image {IMAGE_NO_CLAUDE} has no claude on PATH",
    )
    assert bare_slot.fix == "install @anthropic-ai/claude-code in it"


def test_a_foreground_run_in_a_container_is_stopped_from_another_terminal(
    tmp_path: Path, images: PrivateDockerd, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the app: ``agents run --wait --slot docker:box`` runs the task in a container (the
    foreground queue has the settings' slots), and ``agents stop ID`` from another process stops
    that container, which the foreground run records as stopped."""
    from tests.unit.cli.test_agents_cli import cli, start_cli
    from trayapp import settings as settings_mod
    from trayapp.cli.agents_local import load_tasks

    monkeypatch.setenv("DOCKER_HOST", images.host)
    monkeypatch.setenv("CLAUDE_CODE_OAUTH_TOKEN", TOKEN)  # the secret's environment override
    settings_mod.load().update({"agents.container_slots": [f"box={IMAGE}:1@none"]})
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / ".fake-claude").write_text("sleep 120\n")
    fg = start_cli("run", "long", "--dir", str(folder), "--slot", "docker:box", "--wait")
    engine = DockerEngine(images.socket)
    try:

        def running() -> Task | None:
            return next((t for t in load_tasks() if t.state is TaskState.RUNNING and t.container_id), None)

        deadline = datetime.now(UTC).timestamp() + 60
        while (task := running()) is None:
            assert fg.poll() is None, fg.communicate()
            assert datetime.now(UTC).timestamp() < deadline, "the container run did not start"
            asyncio.run(asyncio.sleep(0.2))
        assert task.slot == "docker:box"
        stop = cli("stop", task.id)
        assert stop.returncode == 0, stop.stdout + stop.stderr
        assert fg.wait(60) == 1, fg.communicate()
        (final_task,) = [t for t in load_tasks() if t.id == task.id]
        assert final_task.state is TaskState.STOPPED
        left = asyncio.run(engine.containers(f"{LABEL_TASK}={task.id}"))
        assert left == []
    finally:
        if fg.poll() is None:
            fg.kill()
        fg.communicate()
        asyncio.run(engine.aclose())
