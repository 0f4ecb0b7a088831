"""The agents queue over real parts for tests: the fake ``claude`` on PATH, a real SQLite file,
real logs, a FakeClock; event builders for scripted stream-json runs."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.helpers.fixtures_sessions import FakeClaude
from trayapp.core.agents import QueuePolicy, Task, TaskSpec, TaskState
from trayapp.core.clock import FakeClock
from trayapp.services.agent_queue import AgentQueue
from trayapp.services.agent_runner import LocalExecutor, RunnerConfig
from trayapp.store.agents_repo import AgentsRepo

SID = "$SID"


def init() -> dict[str, Any]:
    return {"type": "system", "subtype": "init", "session_id": SID, "model": "claude-sonnet-4-5", "tools": []}


def assistant(*blocks: dict[str, Any], out: int = 0) -> dict[str, Any]:
    message = {"content": list(blocks), "usage": {"input_tokens": 10, "output_tokens": out}}
    return {"type": "assistant", "session_id": SID, "message": message}


def rate_limit(status: str, utilization: float | None = None) -> dict[str, Any]:
    info: dict[str, Any] = {"status": status, "resetsAt": int(datetime.now(UTC).timestamp()) + 3600}
    info["rateLimitType"] = "five_hour"
    if utilization is not None:
        info["utilization"] = utilization
    return {"type": "rate_limit_event", "rate_limit_info": info, "session_id": SID}


def result(*, error: bool = False, cost: float = 0.12, text: str = "all good") -> dict[str, Any]:
    return {
        "type": "result",
        "subtype": "error_during_execution" if error else "success",
        "is_error": error,
        "result": text,
        "session_id": SID,
        "total_cost_usd": cost,
        "num_turns": 3,
        "usage": {"input_tokens": 1200, "output_tokens": 340, "cache_read_input_tokens": 50},
    }


class Rig:
    def __init__(self, tmp_path: Path, fake: FakeClaude) -> None:
        self.tmp_path, self.fake = tmp_path, fake
        self.folder = tmp_path / "project"
        self.folder.mkdir()
        self.clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
        self.queues: list[AgentQueue] = []
        self.changes: list[Task] = []

    async def queue(self, *, cap: int = 2) -> AgentQueue:
        config = RunnerConfig(eof_grace=0.3, term_grace=0.5, worktrees=self.tmp_path / "worktrees")
        q = AgentQueue(
            AgentsRepo(self.tmp_path / "agents.sqlite3"),
            clock=self.clock,
            policy=QueuePolicy(default_cap=cap),
            local=LocalExecutor(config),
            logs=self.tmp_path / "logs",
        )
        q.subscribe(self.changes.append)
        await q.start()
        self.queues.append(q)
        return q

    def spec(self, prompt: str = "fix the tests", **kw: Any) -> TaskSpec:
        return TaskSpec(prompt=prompt, folder=str(self.folder), **kw)

    def script(self, **p: Any) -> None:
        self.fake.script(p=p)

    def argvs(self, first: str = "-p") -> list[list[str]]:
        return [c["argv"] for c in self.fake.calls() if "argv" in c and c["argv"][:1] == [first]]

    async def close(self) -> None:
        for q in self.queues:
            await q.stop_all()
            q.repo.close()


async def until(check: Callable[[], bool], timeout: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not check():
        assert loop.time() < end, "timed out"
        await asyncio.sleep(0.02)


def finished(q: AgentQueue, task_id: str) -> Callable[[], bool]:
    return lambda: (
        q.get(task_id) is not None
        and q.get(task_id).state
        in (  # type: ignore[union-attr]
            TaskState.DONE,
            TaskState.FAILED,
            TaskState.STOPPED,
        )
    )
