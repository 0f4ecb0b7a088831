"""The agents queue with real parts: the scripted fake ``claude`` on PATH (real child processes in
their own process groups), real SQLite, real log files. Stream events fold into the task; three
tasks under a cap of two; a hold at 90% released after the reset; restart with ``--resume``."""

from __future__ import annotations

import asyncio
import json
import subprocess
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from tests.helpers.agents_rig import Rig, assistant, finished, init, rate_limit, result, until
from tests.helpers.fixtures_sessions import FakeClaude
from trayapp.core.agents import LimitView, TaskState
from trayapp.core.stream_json import RateLimitEvent
from trayapp.services.agent_logs import MAX_LOG
from trayapp.store.agents_repo import AgentsRepo


@pytest.fixture
async def rig(tmp_path: Path, fake_claude: FakeClaude) -> AsyncIterator[Rig]:
    r = Rig(tmp_path, fake_claude)
    yield r
    await r.close()


async def test_stream_events_update_the_task(rig: Rig) -> None:
    events = [
        init(),
        assistant({"type": "text", "text": "Looking at the tests\nmore"}, out=5),
        assistant({"type": "tool_use", "id": "t1", "name": "Bash", "input": {"command": "npm test"}}, out=7),
        "this is {not json",
        {"type": "stream_event", "event": {"x": 1}},
        rate_limit("allowed_warning"),
        rate_limit("allowed", utilization=0.91),
        result(),
    ]
    rig.script(events=events)
    q = await rig.queue()
    seen: list[RateLimitEvent] = []
    q.on_rate_limit.append(seen.append)
    task = await q.submit(rig.spec())
    await until(finished(q, task.id))
    done = q.get(task.id)
    assert done is not None
    argv = rig.argvs()[0]
    sid = argv[argv.index("--session-id") + 1]
    assert str(uuid.UUID(sid)) == sid
    assert done.state is TaskState.DONE
    assert done.session_id == sid
    assert done.model == "claude-sonnet-4-5"
    assert done.last_line == "Bash: npm test"
    assert (done.cost_usd, done.turns, done.exit_code) == (0.12, 3, 0)
    assert (done.input_tokens, done.output_tokens, done.cache_read_tokens) == (1200, 340, 50)
    assert [e.status for e in seen] == ["allowed_warning", "allowed"]
    assert q.limits.rate_limit_status == "allowed"
    assert q.limits.binding_utilization == pytest.approx(91.0)
    assert q.tail(task.id) == ["Looking at the tests", "Bash: npm test"]
    await until(lambda: q.log_path(task.id).is_file() and b"result" in q.log_path(task.id).read_bytes())
    logged = q.log_path(task.id).read_text().splitlines()
    assert "this is {not json" in logged
    assert len(logged) == len(events)
    stored = AgentsRepo(rig.tmp_path / "agents.sqlite3")
    await until(lambda: (t := stored.get(task.id)) is not None and t.state is TaskState.DONE)
    stored.close()


async def test_error_result_and_crash_fail_with_a_reason(rig: Rig) -> None:
    rig.script(events=[init(), result(error=True, text="Tool permission denied\nlong trace")])
    q = await rig.queue()
    task = await q.submit(rig.spec())
    await until(finished(q, task.id))
    failed = q.get(task.id)
    assert failed is not None
    assert failed.state is TaskState.FAILED
    assert failed.error == "Tool permission denied"
    rig.script(events=[init()], crash=3)
    crashed = await q.submit(rig.spec())
    await until(finished(q, crashed.id))
    after = q.get(crashed.id)
    assert after is not None
    assert after.state is TaskState.FAILED
    assert after.exit_code == 3
    assert "status 3" in after.error


async def test_a_flood_of_lines_is_parsed_and_coalesced(rig: Rig) -> None:
    rig.script(flood=100_000)
    q = await rig.queue()
    task = await q.submit(rig.spec())
    await until(finished(q, task.id), timeout=90)
    done = q.get(task.id)
    assert done is not None
    assert done.state is TaskState.DONE
    assert done.output_tokens == 100_000
    assert done.cost_usd == 0.5
    updates = [c for c in rig.changes if c.id == task.id]
    assert len(updates) < 2000  # 100k lines, updates coalesced
    log = q.log_path(task.id)
    rotated = log.with_name(log.name + ".1")
    await until(lambda: b'"result"' in log.read_bytes()[-400:])
    assert rotated.is_file()  # over the cap: one rotation, the newest lines in the live file
    assert 0 < log.stat().st_size <= MAX_LOG
    assert 0 < rotated.stat().st_size <= MAX_LOG


async def test_three_tasks_cap_two_run_two_and_queue_one(rig: Rig) -> None:
    rig.script(delay=1.5)
    q = await rig.queue(cap=2)
    tasks = [await q.submit(rig.spec(f"task {i}")) for i in range(3)]
    await until(lambda: sum(1 for t in q.tasks() if t.state is TaskState.RUNNING) == 2)
    third = q.get(tasks[2].id)
    assert third is not None
    assert third.state is TaskState.QUEUED
    await until(lambda: all(finished(q, t.id)() for t in tasks))
    assert [q.get(t.id).state for t in tasks] == [TaskState.DONE] * 3  # type: ignore[union-attr]
    starts = {t.id: q.get(t.id).started_at for t in tasks}  # type: ignore[union-attr]
    assert len(rig.argvs()) == 3
    assert all(s is not None for s in starts.values())


async def test_held_at_90_percent_released_after_the_reset(rig: Rig) -> None:
    rig.script()
    q = await rig.queue()
    reset = rig.clock.now() + timedelta(hours=1)
    q.set_limits(LimitView(binding_utilization=90.0, binding_resets_at=reset, binding_label="5-hour"))
    task = await q.submit(rig.spec())
    held = q.get(task.id)
    assert held is not None
    assert held.state is TaskState.HELD
    assert held.held_reason == "5-hour at 90% (holds above 85%)"
    assert held.resume_at == reset
    assert q.wake_at == reset
    await asyncio.sleep(0.3)
    assert rig.argvs() == []
    rig.clock.advance(3601)
    q.reconsider()  # what the wake timer does at wake_at
    await until(finished(q, task.id))
    assert q.get(task.id).state is TaskState.DONE  # type: ignore[union-attr]
    assert len(rig.argvs()) == 1


async def test_rate_limit_rejected_from_a_run_holds_the_rest(rig: Rig) -> None:
    rig.script(events=[init(), rate_limit("rejected"), result()], delay=0.2)
    q = await rig.queue(cap=1)
    first = await q.submit(rig.spec("one"))
    second = await q.submit(rig.spec("two"))
    await until(finished(q, first.id))
    await until(lambda: q.get(second.id).state is TaskState.HELD)  # type: ignore[union-attr]
    assert "rejected" in q.get(second.id).held_reason  # type: ignore[union-attr]
    q.set_limits(LimitView(rate_limit_status="allowed"))
    await until(finished(q, second.id))


async def test_restart_resumes_the_session(rig: Rig) -> None:
    rig.script(events=[init(), assistant({"type": "text", "text": "hi"}), result()])
    q = await rig.queue()
    first = await q.submit(rig.spec())
    await until(finished(q, first.id))
    sid = q.get(first.id).session_id  # type: ignore[union-attr]
    again = await q.restart(first.id)
    assert again.restarted_from == first.id
    await until(finished(q, again.id))
    argv = rig.argvs()[-1]
    assert argv[argv.index("--resume") + 1] == sid
    assert "--session-id" not in argv
    assert q.get(again.id).session_id == sid  # type: ignore[union-attr]


async def test_budget_flag_passed_when_claude_offers_it(rig: Rig) -> None:
    rig.fake.script(p={}, help_flags=["--max-budget-usd <amount>"])
    q = await rig.queue()
    task = await q.submit(rig.spec(budget_usd=0.5, max_turns=4, model="haiku"))
    await until(finished(q, task.id))
    argv = rig.argvs()[0]
    assert argv[argv.index("--max-budget-usd") + 1] == "0.5"
    assert argv[argv.index("--max-turns") + 1] == "4"
    assert argv[argv.index("--model") + 1] == "haiku"


async def test_tasks_come_back_from_the_store(rig: Rig) -> None:
    rig.script()
    q = await rig.queue()
    task = await q.submit(rig.spec())
    await until(finished(q, task.id))
    await q.stop_all()
    q.repo.close()
    rig.queues.remove(q)
    again = await rig.queue()
    back = again.get(task.id)
    assert back is not None
    assert back.state is TaskState.DONE
    assert back.spec.prompt == "fix the tests"
    assert json.loads(json.dumps(back.cost_usd)) == 0.0004


async def test_a_run_over_its_budget_is_stopped(rig: Rig) -> None:
    big = assistant({"type": "text", "text": "writing a lot"}, out=1_000_000)
    rig.script(events=[init(), big], linger=60)  # claude --help does not offer --max-budget-usd
    q = await rig.queue()
    task = await q.submit(rig.spec(budget_usd=0.01))
    await until(finished(q, task.id))
    stopped = q.get(task.id)
    assert stopped is not None
    assert stopped.state is TaskState.STOPPED
    assert stopped.error == "stopped: the budget of $0.01 was reached"
    assert "--max-budget-usd" not in rig.argvs()[0]


async def test_worktree_made_for_the_task_and_kept_for_its_restart(rig: Rig) -> None:
    for argv in (
        ["init", "-q", "-b", "main"],
        ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "x"],
    ):
        subprocess.run(["git", "-C", str(rig.folder), *argv], check=True, capture_output=True)
    rig.script(events=[init(), result()])
    q = await rig.queue()
    task = await q.submit(rig.spec(worktree=True))
    await until(finished(q, task.id))
    done = q.get(task.id)
    assert done is not None
    assert done.state is TaskState.DONE
    tree = rig.tmp_path / "worktrees" / task.id
    assert done.workdir == str(tree)
    assert (tree / ".git").is_file()
    branches = subprocess.run(
        ["git", "-C", str(rig.folder), "branch", "--list", f"claude-watch/{task.id}"],
        capture_output=True,
        text=True,
    )
    assert task.id in branches.stdout
    again = await q.restart(task.id)
    await until(finished(q, again.id))
    cwds = [c["cwd"] for c in rig.fake.calls() if c.get("argv", [""])[0] == "-p"]
    assert cwds == [str(tree), str(tree)]
