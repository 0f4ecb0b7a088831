"""A stand-in for the tray app's agents side, run as a real child process: the single-instance
socket (``SingleInstance``) serving ``agents.*`` requests (``services.agent_ipc.serve_agents``) from a
real :class:`~trayapp.services.agent_queue.AgentQueue` with its real runner, on a qasync loop, as
the app runs them. Prints ``ready <socket name>`` once it serves; SIGTERM stops the queue (its
children with it) and exits.

    python -m tests.helpers.agents_standin [--cap N]
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys


async def serve(cap: int) -> None:
    from trayapp.core.agents import QueuePolicy
    from trayapp.platform.single_instance import SingleInstance
    from trayapp.services.agent_ipc import serve_agents
    from trayapp.services.agent_queue import AgentQueue
    from trayapp.services.agent_runner import LocalExecutor, RunnerConfig
    from trayapp.store.agents_repo import AgentsRepo

    single = SingleInstance()
    if not single.claim():
        print("another instance runs", flush=True)
        sys.exit(3)
    queue = AgentQueue(
        AgentsRepo(),
        policy=QueuePolicy(default_cap=cap),
        local=LocalExecutor(RunnerConfig(eof_grace=0.5, term_grace=2.0)),
    )
    await queue.start()
    unserve = single.add_handler("agents", serve_agents(queue))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    print(f"ready {single.name}", flush=True)
    await stop.wait()
    unserve()
    await queue.stop_all()
    single.close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cap", type=int, default=2)
    args = parser.parse_args()
    import qasync
    from PySide6.QtCore import QCoreApplication

    app = QCoreApplication([])
    with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
        runner.run(serve(args.cap))
    return 0


if __name__ == "__main__":
    sys.exit(main())
