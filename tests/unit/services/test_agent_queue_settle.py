"""The queue tallies a read round's assistant lines and applies them to the task once the round is
over; a run that ends in the same round (no result line, a crash) keeps every tallied token.

The executor here hands the lines and the exit over in one loop callback, as a read round that also
saw the child end would: the deferred settle has not run yet when the exit arrives."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from tests.helpers.agents_rig import assistant, finished, until
from trayapp.core.agents import QueuePolicy, Slot, Task, TaskSpec, TaskState
from trayapp.services.agent_queue import AgentQueue
from trayapp.store.agents_repo import AgentsRepo


class OneRound:
    """Every line, then the exit, in a single callback on the loop."""

    def __init__(self, lines: list[bytes], code: int | None) -> None:
        self.lines, self.code = lines, code

    async def run(
        self, task: Task, on_line: Callable[[bytes], None], on_exit: Callable[[int | None, str], None]
    ) -> Task:
        def round_() -> None:
            for raw in self.lines:
                on_line(raw)
            on_exit(self.code, "segfault" if self.code else "")

        asyncio.get_running_loop().call_later(0.05, round_)
        return replace(task, slot="test:one")

    async def stop(self, task: Task) -> None:
        return None


async def run_one(tmp_path: Path, lines: list[bytes], code: int | None) -> Task:
    q = AgentQueue(AgentsRepo(tmp_path / "agents.sqlite3"), policy=QueuePolicy(), logs=tmp_path / "logs")
    q.register_executor("test", OneRound(lines, code), [Slot("test:one", cap=1)])
    await q.start()
    try:
        task = await q.submit(TaskSpec("p", str(tmp_path), slot="test:one"))
        await until(finished(q, task.id))
        done = q.get(task.id)
        assert done is not None
        return done
    finally:
        await q.stop_all()
        q.repo.close()


def line(*blocks: dict[str, object], out: int) -> bytes:
    return json.dumps(assistant(*blocks, out=out)).encode()


async def test_a_crash_in_the_round_of_its_last_lines_keeps_their_tokens(tmp_path: Path) -> None:
    lines = [line({"type": "text", "text": f"step {n}"}, out=n) for n in range(1, 41)]
    done = await run_one(tmp_path, lines, code=139)
    assert done.state is TaskState.FAILED
    assert (done.output_tokens, done.input_tokens) == (sum(range(1, 41)), 400)
    assert done.last_line == "step 40"


async def test_lines_before_a_result_are_applied_before_it(tmp_path: Path) -> None:
    # The result's usage is the run's total: it replaces what the assistant lines added up, so
    # lines tallied before it must be applied before it (after it they would count twice).
    totals = {"input_tokens": 10, "output_tokens": 9}
    result = {
        "type": "result",
        "subtype": "success",
        "is_error": False,
        "total_cost_usd": 0.2,
        "usage": totals,
    }
    lines = [line({"type": "text", "text": "working"}, out=7), json.dumps(result).encode()]
    done = await run_one(tmp_path, lines, code=0)
    assert (done.state, done.output_tokens, done.cost_usd) == (TaskState.DONE, 9, 0.2)
    assert done.last_line == "working"
