"""Agents in containers (issue 14, point 4), each figure against a peer in the same run, on a
private Docker engine this script starts (tests/helpers/docker_daemon.py: vfs, no network) with the
test image (busybox + a POSIX-sh stand-in ``claude``, imported, no registry).

1. **Task queued to container started**: ``submit()`` of a task pinned to ``docker:box`` until its
   record carries the container id (the image checked once before: that probe is a one-time cost),
   ``--runs`` times one after another, each run to its end. Peer: the same queue's local slot
   with a stand-in ``claude`` child (until its pid is recorded). The issue's goal for a local start
   is <= 200 ms; a container start is an engine round trip (create, start) on top.
2. **Output through the engine**: a container printing ``--lines`` stream-json lines, followed
   through ``GET /containers/{id}/logs?follow=1`` (frames demultiplexed, lines split) until it
   exits, in lines/s. Peer: the same busybox shell loop as a local child read through a pipe.

Needs root and Debian's ``docker.io`` (``packaging/system-deps.sh test``); without them it says so
and exits 0. Nothing touches the user's folders (a temporary ``CLAUDE_WATCH_HOME``).

    .venv/bin/python bench/bench_containers.py [--runs 10] [--lines 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

START_GOAL = 200.0  # ms, the goal for a local start
LINE = '{"type":"assistant","message":{"content":[{"type":"text","text":"working on it, line %s"}]}}'
FAST_LOOP = "i=0; while [ $i -lt $N ]; do echo '" + LINE.replace("%s", "n") + "'; i=$((i+1)); done"


def ms(values: list[float]) -> str:
    return f"median {statistics.median(values):.0f} ms, max {max(values):.0f} ms"


async def starts(runs: int, socket: str, folder: Path, fake_bin: Path) -> tuple[list[float], list[float]]:
    from tests.helpers.docker_image import IMAGE
    from tests.helpers.fake_keyring import MemoryKeyring
    from trayapp.core.agents import QueuePolicy, TaskSpec, TaskState
    from trayapp.core.container_slots import ContainerSlot
    from trayapp.platform import secrets as sec
    from trayapp.platform.docker_engine import DockerEngine
    from trayapp.services.agent_containers import ContainerExecutor
    from trayapp.services.agent_queue import AgentQueue
    from trayapp.services.agent_runner import LocalExecutor, RunnerConfig
    from trayapp.store.agents_repo import AgentsRepo

    store = sec.SecretStore(backend=MemoryKeyring(), timeout=5.0)
    store.set("claude-oauth-token", "sk-ant-oat01-bench-token-0000")
    executor = ContainerExecutor(
        [ContainerSlot("box", IMAGE, 1, "none")], secrets=store, engine=DockerEngine(socket)
    )
    await executor.check(IMAGE)
    local = LocalExecutor(RunnerConfig(claude=str(fake_bin / "claude")))
    q = AgentQueue(
        AgentsRepo(folder.parent / "agents.sqlite3"), policy=QueuePolicy(default_cap=1), local=local
    )
    q.register_executor("docker", executor, executor.queue_slots())
    await q.start()
    figures: dict[str, list[float]] = {"docker:box": [], "local": []}
    try:
        for slot, recorded in (("docker:box", "container_id"), ("local", "pid")):
            for _ in range(runs):
                t0 = time.perf_counter()
                task = await q.submit(TaskSpec(prompt="bench", folder=str(folder), slot=slot))
                while getattr(q.get(task.id), recorded) is None:
                    await asyncio.sleep(0.001)
                figures[slot].append((time.perf_counter() - t0) * 1000)
                while q.get(task.id).state not in (TaskState.DONE, TaskState.FAILED):  # type: ignore[union-attr]
                    await asyncio.sleep(0.01)
    finally:
        await q.stop_all()
        q.repo.close()
        await executor.aclose()
    return figures["docker:box"], figures["local"]


async def through_engine(socket: str, lines: int) -> float:
    from tests.helpers.docker_image import IMAGE
    from trayapp.platform import docker_engine as de
    from trayapp.services.agent_containers import LineSplitter

    engine = de.DockerEngine(socket)
    spec = de.ContainerSpec(
        IMAGE, ("-c", FAST_LOOP), "/", env=(("N", str(lines)),), network="none", entrypoint=("sh",)
    )
    cid = await engine.create(spec)
    seen = 0
    splitter = LineSplitter()
    t0 = time.perf_counter()
    await engine.start(cid)
    async for stream, payload in engine.logs(cid):
        if stream == de.STDOUT:
            seen += len(splitter.feed(payload))
    await engine.wait(cid)
    elapsed = time.perf_counter() - t0
    await engine.remove(cid)
    await engine.aclose()
    assert seen == lines, seen
    return lines / elapsed


async def through_pipe(busybox: str, lines: int) -> float:
    from trayapp.services.agent_containers import LineSplitter

    t0 = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        busybox, "sh", "-c", FAST_LOOP, env={"N": str(lines)}, stdout=asyncio.subprocess.PIPE
    )
    assert proc.stdout is not None
    splitter = LineSplitter()
    seen = 0
    while chunk := await proc.stdout.read(65536):
        seen += len(splitter.feed(chunk))
    await proc.wait()
    assert seen == lines, seen
    return lines / (time.perf_counter() - t0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--lines", type=int, default=20000)
    args = parser.parse_args()
    dockerd = shutil.which("dockerd") or (
        "/usr/sbin/dockerd" if os.path.exists("/usr/sbin/dockerd") else None
    )
    from tests.helpers.docker_image import busybox

    bb = busybox()
    if dockerd is None or bb is None or os.geteuid() != 0:
        needs = "root, docker.io and busybox-static (packaging/system-deps.sh test)"
        print(f"bench_containers: skipped (needs {needs})")
        return 0
    from tests.helpers import fake_claude
    from tests.helpers.docker_daemon import PrivateDockerd
    from tests.helpers.docker_image import IMAGE, import_image

    tmp = Path(tempfile.mkdtemp(prefix="cw-bench-containers-"))
    os.environ["CLAUDE_WATCH_HOME"] = str(tmp / "home")
    daemon = PrivateDockerd(Path(tempfile.mkdtemp(prefix="cw-dockerd-", dir="/tmp")))
    try:
        daemon.start(dockerd)
        import_image(daemon.socket, IMAGE, with_claude=True)
        folder = tmp / "project"
        folder.mkdir()
        fake_bin = tmp / "bin"
        fake_claude.install(fake_bin)
        docker_ms, local_ms = asyncio.run(starts(args.runs, daemon.socket, folder, fake_bin))
        print(f"task queued -> container started ({args.runs} runs): {ms(docker_ms)}")
        print(
            f"  peer, task queued -> local child started: {ms(local_ms)} (issue goal <= {START_GOAL:.0f} ms)"
        )
        ratio = statistics.median(docker_ms) / statistics.median(local_ms)
        print(f"  ratio container/local (medians): {ratio:.1f}x (engine create + start: runc, cgroups)")
        engine_rate = asyncio.run(through_engine(daemon.socket, args.lines))
        pipe_rate = asyncio.run(through_pipe(bb, args.lines))
        print(f"output through the engine's followed logs: {engine_rate:,.0f} lines/s ({args.lines:,} lines)")
        print(f"  peer, the same shell loop through a local pipe: {pipe_rate:,.0f} lines/s")
        print(f"  ratio engine/pipe: {engine_rate / pipe_rate:.2f}")
    finally:
        daemon.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
