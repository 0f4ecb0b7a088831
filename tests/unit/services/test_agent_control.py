"""Stopping and recovering agents with real processes: Stop leaves no process of the group (the
fake ignores SIGTERM and has a grandchild), stdin EOF ends a well-behaved run, background
sessions go through ``claude --bg`` and ``claude stop ID``, sessions we did not start are never
stopped without ``force``, and after a restart of Claude Watch a vanished child is LOST while a
live one is reattached (and can still be stopped)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from tests.helpers.agents_rig import Rig, finished, until
from tests.helpers.fixtures_sessions import FakeClaude
from trayapp.core.agents import RunKind, Task, TaskState
from trayapp.core.sessions import JobRecord
from trayapp.platform.process_group import start_ticks
from trayapp.services.agent_queue import AgentError
from trayapp.store.agents_repo import AgentsRepo

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc for process groups")


@pytest.fixture
async def rig(tmp_path: Path, fake_claude: FakeClaude) -> AsyncIterator[Rig]:
    r = Rig(tmp_path, fake_claude)
    yield r
    await r.close()


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes whose process group is ``pgid``, from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rfind(")") + 2 :].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def grandchildren(fake: FakeClaude) -> list[int]:
    rows = (
        [json.loads(x) for x in fake.calls_path.read_text().splitlines()] if fake.calls_path.exists() else []
    )
    return [r["grandchild"] for r in rows if "grandchild" in r]


async def test_stop_leaves_no_process_of_the_group(rig: Rig) -> None:
    rig.script(hang=True, grandchild=True)
    q = await rig.queue()
    task = await q.submit(rig.spec())
    await until(lambda: q.get(task.id).state is TaskState.RUNNING and bool(grandchildren(rig.fake)))  # type: ignore[union-attr]
    running = q.get(task.id)
    assert running is not None
    assert running.pgid == running.pid
    assert running.pgid is not None
    await until(lambda: q.get(task.id).session_id is not None)  # type: ignore[union-attr]
    members = group_members(running.pgid)
    assert running.pid in members
    assert grandchildren(rig.fake)[0] in members
    stopped = await q.stop(task.id)
    assert stopped.state is TaskState.STOPPED
    assert group_members(running.pgid) == []
    assert stopped.finished_at is not None


async def test_a_run_is_never_left_waiting_for_its_input(rig: Rig) -> None:
    rig.script(stdin=True)  # like claude -p since 2.1.50: reads its input to the end first
    q = await rig.queue()
    task = await q.submit(rig.spec())
    await until(finished(q, task.id), timeout=10)
    assert q.get(task.id).state is TaskState.DONE  # type: ignore[union-attr]


async def test_stop_sends_sigterm_to_the_group_before_sigkill(rig: Rig) -> None:
    rig.script(delay=60, grandchild=True)  # ends on SIGTERM like a well-behaved run
    q = await rig.queue()
    task = await q.submit(rig.spec())
    await until(lambda: q.get(task.id).state is TaskState.RUNNING and bool(grandchildren(rig.fake)))  # type: ignore[union-attr]
    stopped = await q.stop(task.id)
    assert stopped.state is TaskState.STOPPED
    assert stopped.exit_code == -signal.SIGTERM  # not killed: it was asked first
    assert group_members(stopped.pgid or 0) == []


async def test_background_dispatch_and_stop(rig: Rig, claude_dir: Path) -> None:
    rig.fake.script(bg_id="1a2b3c4d")
    q = await rig.queue()
    spec = rig.spec(
        "refactor the parser", kind=RunKind.BACKGROUND, name="parser", worktree=True, model="opus"
    )
    task = await q.submit(spec)
    await until(lambda: q.get(task.id).state is TaskState.RUNNING)  # type: ignore[union-attr]
    assert q.get(task.id).job_id == "1a2b3c4d"  # type: ignore[union-attr]
    argv = rig.argvs("--bg")[0]
    assert argv == ["--bg", "-n", "parser", "-w", "parser", "--model", "opus", "refactor the parser"]
    stopped = await q.stop(task.id)
    assert stopped.state is TaskState.STOPPED
    assert rig.argvs("stop") == [["stop", "1a2b3c4d"]]
    state = json.loads((claude_dir / "jobs" / "1a2b3c4d" / "state.json").read_text())
    assert state["state"] == "stopped"


async def test_background_task_follows_its_job(rig: Rig, claude_dir: Path) -> None:
    rig.fake.script(bg_id="00ff00ff")
    q = await rig.queue()
    task = await q.submit(rig.spec(kind=RunKind.BACKGROUND, name="n"))
    await until(lambda: q.get(task.id).state is TaskState.RUNNING)  # type: ignore[union-attr]
    job = JobRecord(job_id="00ff00ff", config_dir=str(claude_dir), state="blocked", detail="needs permission")
    q.observe_jobs([job])
    assert q.get(task.id).state is TaskState.NEEDS_YOU  # type: ignore[union-attr]
    q.observe_jobs([JobRecord(job_id="00ff00ff", config_dir=str(claude_dir), state="done")])
    assert q.get(task.id).state is TaskState.DONE  # type: ignore[union-attr]
    q.observe_jobs([JobRecord(job_id="00ff00ff", config_dir=str(claude_dir), state="done", session_id="s-1")])
    again = await q.restart(task.id)
    await until(lambda: q.get(again.id).state is TaskState.RUNNING)  # type: ignore[union-attr]
    assert rig.argvs("--bg")[-1][:5] == ["--bg", "-n", "n", "--resume", "s-1"]


async def test_foreign_sessions_are_never_stopped_without_force(rig: Rig, claude_dir: Path) -> None:
    folder = claude_dir / "jobs" / "feedbeef"
    folder.mkdir(parents=True)
    (folder / "state.json").write_text(json.dumps({"state": "working", "name": "theirs"}))
    rig.fake.script()
    q = await rig.queue()
    q.observe_jobs([JobRecord(job_id="feedbeef", config_dir=str(claude_dir), state="working", name="theirs")])
    foreign = q.get("j-feedbeef")
    assert foreign is not None
    assert foreign.ours is False
    with pytest.raises(AgentError, match="not started by Claude Watch"):
        await q.stop(foreign.id)
    assert rig.argvs("stop") == []
    assert q.get(foreign.id).state is TaskState.RUNNING  # type: ignore[union-attr]
    stopped = await q.stop(foreign.id, force=True)
    assert stopped.state is TaskState.STOPPED
    assert rig.argvs("stop") == [["stop", "feedbeef"]]
    assert AgentsRepo(rig.tmp_path / "agents.sqlite3").get(foreign.id) is None  # observed, not ours to keep


@pytest.fixture
def stray() -> Iterator[subprocess.Popen[bytes]]:
    """A live process in its own group standing in for a child left running by a previous app."""
    proc = subprocess.Popen(["sleep", "600"], start_new_session=True)
    yield proc
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


async def test_restart_recovery_lost_reattached_and_held(rig: Rig, stray: subprocess.Popen[bytes]) -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()
    now = rig.clock.now()
    spec = rig.spec()
    repo = AgentsRepo(rig.tmp_path / "agents.sqlite3")
    old = [
        Task("t-lost01", spec, TaskState.RUNNING, created_at=now, pid=gone.pid, pgid=gone.pid, pid_start=1),
        Task(
            "t-alive1",
            spec,
            TaskState.RUNNING,
            created_at=now + timedelta(seconds=1),
            pid=stray.pid,
            pgid=stray.pid,
            pid_start=start_ticks(stray.pid),
            slot="local",
        ),
        Task(
            "t-held01",
            spec,
            TaskState.HELD,
            created_at=now + timedelta(seconds=2),
            held_reason="5-hour at 91%",
        ),
        Task(
            "t-reused", spec, TaskState.RUNNING, created_at=now, pid=stray.pid, pid_start=12345, slot="local"
        ),
        # A container task has no pid of ours; its container is removed at start: lost, never re-run.
        Task("t-box001", spec, TaskState.RUNNING, created_at=now, slot="docker:box", container_id="c0ffee"),
    ]
    repo.save(old, now)
    repo.close()
    rig.script()
    q = await rig.queue()
    assert q.get("t-lost01").state is TaskState.LOST  # type: ignore[union-attr]
    assert q.get("t-reused").state is TaskState.LOST  # same pid, another start time: not ours  # type: ignore[union-attr]
    assert q.get("t-box001").state is TaskState.LOST  # type: ignore[union-attr]
    alive = q.get("t-alive1")
    assert alive is not None
    assert alive.state is TaskState.RUNNING
    assert "reattached" in alive.note
    await until(finished(q, "t-held01"))  # limits fine now: it went
    assert q.get("t-held01").state is TaskState.DONE  # type: ignore[union-attr]
    stopped = await q.stop("t-alive1")
    assert stopped.state is TaskState.STOPPED
    assert stray.wait(timeout=5) == -signal.SIGTERM


async def test_stopped_while_starting_leaves_nothing(rig: Rig) -> None:
    rig.script(hang=True, grandchild=True)
    q = await rig.queue()
    task = await q.submit(rig.spec())
    assert q.get(task.id).state is TaskState.STARTING  # type: ignore[union-attr]
    stopped = await q.stop(task.id)
    assert stopped.state is TaskState.STOPPED
    await until(lambda: q.get(task.id).pgid is not None)  # type: ignore[union-attr]
    pgid = q.get(task.id).pgid  # type: ignore[union-attr]
    assert pgid is not None
    await until(lambda: group_members(pgid) == [])
    assert q.get(task.id).state is TaskState.STOPPED  # type: ignore[union-attr]


async def test_a_background_session_stopped_while_starting_is_stopped_once_up(rig: Rig) -> None:
    rig.fake.script(bg_id="abcdef12")
    q = await rig.queue()
    task = await q.submit(rig.spec(kind=RunKind.BACKGROUND, name="n"))
    assert q.get(task.id).state is TaskState.STARTING  # type: ignore[union-attr]
    stopped = await q.stop(task.id)
    assert stopped.state is TaskState.STOPPED
    await until(lambda: rig.argvs("stop") == [["stop", "abcdef12"]])
    assert q.get(task.id).state is TaskState.STOPPED  # type: ignore[union-attr]
    assert q.get(task.id).job_id == "abcdef12"  # type: ignore[union-attr]
