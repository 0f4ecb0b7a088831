"""The agents queue under load (issue 14's benchmark), each figure against a peer in the same run.

1. **20 fake agents streaming 1,000 events/s in total** through the real queue and runner
   (:class:`~trayapp.services.agent_queue.AgentQueue`, ``LocalExecutor``: stream-json parsed per
   line, assistant lines applied to their task once per read round, logs written in batches on the
   io lane, tasks saved to SQLite) in a process
   like the app: a ``QCoreApplication`` with the qasync loop. Figures over the streaming window:
   the process's CPU (all its threads, from ``/proc/self/task/*/schedstat``; goal <= 5 % of one
   core) and the event loop's lag, the lateness of a 10 ms ticker (goal p99 <= 50 ms), each over
   half of the window (the ticker is itself load: ``measure``). Peer: a bare asyncio process
   reading the same 20 streams from the same fake and discarding the lines; and that reader again
   on the qasync loop. The queue reads all pipes together in rounds (``PipePump``), so it can
   cost less than the bare readers, which wake the loop at every write.
2. **stream-json parse throughput** (goal >= 50,000 lines/s): ``bench_stream_json``'s figure,
   measured here again with its stream, against bare ``json.loads``.
   The same load through the real app (its own home, offscreen, signed out; 16 agents, the most
   ``agents.max_concurrent`` allows): its CPU, and how fast its socket answers a request every
   50 ms (the loop's responsiveness as a client sees it), against the same app idle.
3. **Task queued to child process started** (goal <= 200 ms): ``submit()`` to the task's record
   carrying the child's pid, 10 times one after another. Peer: spawning ``python -c pass`` with
   ``asyncio.create_subprocess_exec`` on the same loop (until spawned).

The fake ``claude`` is a small script written into a temporary folder: it prints an init line,
then 50 events a second in bursts of 5 every 100 ms (assistant text, a tool use, its result, a
rate_limit_event; 300-900 bytes each), then a result. Nothing touches the user's folders (the
store, logs and settings live in a temporary ``CLAUDE_WATCH_HOME``).

    .venv/bin/python bench/bench_agents.py [--agents 20] [--rate 1000] [--seconds 10]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

CPU_GOAL = 5.0  # percent of one core
LAG_GOAL = 50.0  # ms, p99
START_GOAL = 200.0  # ms
TICK = 0.010
READ_INTERVAL = 0.1  # the runner's default (RunnerConfig.read_interval)

TURN = [
    {
        "type": "assistant",
        "message": {
            "model": "claude-sonnet-4-6",
            "usage": {"input_tokens": 3, "cache_read_input_tokens": 9000, "output_tokens": 40},
            "content": [
                {"type": "text", "text": "Looking at the failing test and the module it covers. " * 4}
            ],
        },
    },
    {
        "type": "assistant",
        "message": {
            "model": "claude-sonnet-4-6",
            "usage": {"input_tokens": 3, "cache_read_input_tokens": 9000, "output_tokens": 40},
            "content": [
                {
                    "type": "tool_use",
                    "id": "toolu_1",
                    "name": "Bash",
                    "input": {"command": "pytest -q tests/unit"},
                }
            ],
        },
    },
    {
        "type": "user",
        "message": {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "..........F.\n" * 40}],
        },
    },
    {
        "type": "rate_limit_event",
        "rate_limit_info": {
            "status": "allowed",
            "resetsAt": 0,  # set when the fake is written (a believable time: two hours on)
            "rateLimitType": "five_hour",
            "isUsingOverage": False,
        },
    },
]

# The fake claude; {lines} holds the turn's events as JSON text, one per line.
FAKE = r"""#!{python}
import json, sys, time
per_second, seconds = {per_second}, {seconds}
lines = {lines!r}.splitlines()
out = sys.stdout
init = {{"type": "system", "subtype": "init", "session_id": "s", "model": "claude-sonnet-4-6", "tools": []}}
out.write(json.dumps(init) + "\n")
out.flush()
burst = max(1, per_second // 10)
start = time.monotonic()
n = 0
while time.monotonic() - start < seconds:
    out.write("".join(lines[(n + k) % len(lines)] + "\n" for k in range(burst)))
    out.flush()
    n += burst
    time.sleep(max(0.0, start + n / per_second - time.monotonic()))
result = {{"type": "result", "subtype": "success", "is_error": False, "session_id": "s", "num_turns": n // 4,
          "duration_ms": int(seconds * 1000), "total_cost_usd": 0.5}}
out.write(json.dumps(result) + "\n")
"""


def write_fake(folder: Path, per_second: int, seconds: float) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    exe = folder / "claude"
    TURN[3]["rate_limit_info"]["resetsAt"] = int(time.time()) + 7200
    lines = "\n".join(json.dumps(event) for event in TURN)
    exe.write_text(FAKE.format(python=sys.executable, per_second=per_second, seconds=seconds, lines=lines))
    exe.chmod(0o755)
    return exe


def cpu_seconds(pid: int | None = None) -> float:
    """On-CPU seconds of every thread of ``pid`` (default: this process), from schedstat."""
    from bench_tray import cpu_seconds as of_process

    return of_process(pid or os.getpid())


class Ticker:
    """A 10 ms ticker on the running loop; records how late each tick fired (ms)."""

    def __init__(self) -> None:
        self.lags: list[float] = []
        self.on = False

    async def run(self) -> None:
        import asyncio

        expected = time.monotonic() + TICK
        while True:
            await asyncio.sleep(max(0.0, expected - time.monotonic()))
            now = time.monotonic()
            if self.on:
                self.lags.append((now - expected) * 1000)
            expected = max(expected + TICK, now)


async def measure(ticker: Ticker, seconds: float, lines: Any) -> dict[str, Any]:
    """CPU and lines over the first half of ``seconds`` with nothing else on the loop, then the
    loop's lag over the second half with the ticker on. Apart because the 10 ms ticker is itself
    100 loop wakes a second (about 2.6 % of a core on the qasync loop, 0.03 % idle without it):
    measured together, the probe would be half of what is measured."""
    import asyncio

    half = seconds / 2
    cpu0, wall0, lines0 = cpu_seconds(), time.monotonic(), lines()
    await asyncio.sleep(half)
    wall = time.monotonic() - wall0
    cpu, received = (cpu_seconds() - cpu0) / wall * 100, (lines() - lines0) / wall
    tick_task = asyncio.get_running_loop().create_task(ticker.run())
    ticker.on = True
    await asyncio.sleep(half)
    ticker.on = False
    tick_task.cancel()
    lags = sorted(ticker.lags) or [0.0]
    return {
        "cpu_percent": cpu,
        "lag_p50": lags[len(lags) // 2],
        "lag_p99": lags[min(len(lags) - 1, int(len(lags) * 0.99))],
        "lag_max": lags[-1],
        "events_per_s": received,
        "window_s": wall,
    }


async def role_app(args: argparse.Namespace) -> dict[str, Any]:
    """The queue and runner as the app runs them; see the module docstring."""
    import asyncio

    from trayapp.core.agents import FINISHED, QueuePolicy, TaskSpec, TaskState
    from trayapp.services.agent_queue import AgentQueue
    from trayapp.services.agent_runner import LocalExecutor, RunnerConfig
    from trayapp.store.agents_repo import AgentsRepo

    fake = Path(args.fake)
    queue = AgentQueue(
        AgentsRepo(),
        policy=QueuePolicy(default_cap=args.agents + 1),
        local=LocalExecutor(RunnerConfig(claude=str(fake))),
    )
    await queue.start()
    ticker = Ticker()
    folder = str(Path(args.folder))
    counted = {"lines": 0}
    original = queue._on_line  # count lines as the queue receives them (the stream's real path)

    def on_line(task_id: str, raw: bytes) -> None:
        counted["lines"] += 1
        original(task_id, raw)

    queue._on_line = on_line  # type: ignore[method-assign]
    ids = [(await queue.submit(TaskSpec(prompt=f"task {n}", folder=folder))).id for n in range(args.agents)]
    while not all((t := queue.get(i)) is not None and t.state is TaskState.RUNNING for i in ids):
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.5)  # the children's interpreters have started streaming
    figures = await measure(ticker, args.seconds - 1.5, lambda: counted["lines"])  # in every stream's life
    while not all((t := queue.get(i)) is not None and t.state in FINISHED for i in ids):
        await asyncio.sleep(0.05)
    figures["finished"] = sorted({queue.get(i).state.value for i in ids})  # type: ignore[union-attr]
    # queued -> child started, one task at a time (the fake with a short stream)
    quick = write_fake(Path(args.fake).parent / "quick", 10, 0.05)
    queue.local.config = RunnerConfig(claude=str(quick))
    starts = []
    target: dict[str, str] = {}
    seen = asyncio.Event()

    def watch(task: Any) -> None:
        if task.id == target.get("id") and task.pid is not None:
            seen.set()

    queue.subscribe(watch)
    for n in range(10):
        seen.clear()
        begin = time.perf_counter()
        task = await queue.submit(TaskSpec(prompt=f"quick {n}", folder=folder))
        target["id"] = task.id
        watch(queue.get(task.id))
        await seen.wait()
        starts.append((time.perf_counter() - begin) * 1000)
        while (t := queue.get(task.id)) is not None and t.state not in FINISHED:
            await asyncio.sleep(0.01)
    figures["start_ms"] = starts
    await queue.stop_all()
    return figures


async def role_peer(args: argparse.Namespace) -> dict[str, Any]:
    """A bare asyncio process reading the same streams and discarding the lines."""
    import asyncio

    ticker = Ticker()
    counted = {"lines": 0}

    async def drain(proc: asyncio.subprocess.Process) -> None:
        assert proc.stdout is not None
        while await proc.stdout.readline():
            counted["lines"] += 1
        await proc.wait()

    procs = [
        await asyncio.create_subprocess_exec(
            args.fake, "-p", "x", stdout=asyncio.subprocess.PIPE, start_new_session=True
        )
        for _ in range(args.agents)
    ]
    readers = [asyncio.get_running_loop().create_task(drain(p)) for p in procs]
    await asyncio.sleep(0.5)
    figures = await measure(ticker, args.seconds - 1.5, lambda: counted["lines"])
    await asyncio.gather(*readers)
    starts = []
    for _ in range(10):
        begin = time.perf_counter()
        proc = await asyncio.create_subprocess_exec(sys.executable, "-c", "pass")
        starts.append((time.perf_counter() - begin) * 1000)
        await proc.wait()
    figures["start_ms"] = starts
    return figures


def child_main(args: argparse.Namespace) -> int:
    import asyncio

    if args.role == "peer":
        result = asyncio.run(role_peer(args))
    else:
        import qasync
        from PySide6.QtCore import QCoreApplication

        app = QCoreApplication([])
        work = role_app(args) if args.role == "app" else role_peer(args)
        with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
            result = runner.run(work)
    print("RESULT " + json.dumps(result), flush=True)
    return 0


def run_role(role: str, args: argparse.Namespace, fake: Path, home: Path, folder: Path) -> dict[str, Any]:
    env = {**os.environ, "CLAUDE_WATCH_HOME": str(home / role), "QT_QPA_PLATFORM": "offscreen"}
    cmd = [sys.executable, __file__, "--role", role, "--fake", str(fake), "--folder", str(folder)]
    cmd += ["--agents", str(args.agents), "--seconds", str(args.seconds)]
    done = subprocess.run(
        cmd, env=env, capture_output=True, text=True, timeout=args.seconds * 10 + 120, check=False
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith("RESULT ")), None)
    if line is None:
        raise SystemExit(f"the {role} run failed:\n{done.stdout}\n{done.stderr}")
    result: dict[str, Any] = json.loads(line[len("RESULT ") :])
    return result


def real_app_figures(args: argparse.Namespace, fake: Path, base: Path, folder: Path) -> dict[str, Any]:
    """The real app (offscreen, its own home and an empty Claude config: signed out, so no usage
    requests and no holds): CPU of all its threads and the answer time
    of its socket (``agents.get`` of an unknown task every 50 ms: the loop's responsiveness as a
    client sees it), idle first, then while its queue runs the agents (at most 16 at once: the
    ``agents.max_concurrent`` maximum) at the same total rate."""
    from trayapp.platform.ipc_client import AppNotRunning, IpcError, request

    agents = min(args.agents, 16)
    fake = write_fake(base / "real-bin", args.rate // agents, args.seconds)
    os.environ["CLAUDE_WATCH_HOME"] = str(base / "real")  # this process's client finds that app
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "PATH": f"{fake.parent}{os.pathsep}{os.environ['PATH']}",
    }
    for key, value in (("agents.max_concurrent", str(agents)), ("agents.hold_above", "100")):
        subprocess.run(
            [sys.executable, "-m", "trayapp", "config", "set", key, value],
            env=env,
            check=True,
            capture_output=True,
        )
    app = subprocess.Popen(
        [sys.executable, "-m", "trayapp"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )

    def ping() -> float | None:
        begin = time.perf_counter()
        try:
            reply = request("agents.get", {"id": "t-none"}, timeout=5)
        except (AppNotRunning, IpcError):
            return None
        return (time.perf_counter() - begin) * 1000 if reply.get("error") == "not_found" else None

    def window(seconds: float) -> dict[str, float]:
        """CPU over the first half (left alone), the socket's answers over the second (the pings
        are load too: 20 requests a second)."""
        cpu0, wall0, times = cpu_seconds(app.pid), time.monotonic(), []
        time.sleep(seconds / 2)
        cpu = (cpu_seconds(app.pid) - cpu0) / (time.monotonic() - wall0) * 100
        half = time.monotonic()
        while time.monotonic() - half < seconds / 2:
            answer = ping()
            if answer is not None:
                times.append(answer)
            time.sleep(0.05)
        times.sort()
        return {
            "cpu_percent": cpu,
            "ping_p50": times[len(times) // 2] if times else float("nan"),
            "ping_p99": times[min(len(times) - 1, int(len(times) * 0.99))] if times else float("nan"),
        }

    try:
        deadline = time.monotonic() + 60
        while ping() is None:
            if time.monotonic() > deadline or app.poll() is not None:
                raise SystemExit("the real app did not start serving agents requests")
            time.sleep(0.2)
        time.sleep(3)  # past the start's own work
        idle = window(4)
        slots = request("agents.queue")["slots"]
        agents = min(agents, sum(s["cap"] for s in slots if s["name"] == "local"))
        fake = write_fake(base / "real-bin", args.rate // agents, args.seconds)
        for n in range(agents):
            spec = {"prompt": f"task {n}", "folder": str(folder)}
            assert request("agents.run", {"spec": spec})["ok"]
        deadline = time.monotonic() + 30
        while sum(t["state"] == "running" for t in request("agents.list")["tasks"]) < agents:
            if time.monotonic() > deadline:
                raise SystemExit(f"the real app did not run {agents} agents at once")
            time.sleep(0.1)
        time.sleep(0.5)
        busy = window(args.seconds - 2)
    finally:
        app.terminate()
        try:
            app.wait(20)
        except subprocess.TimeoutExpired:
            app.kill()
            app.wait()
    return {"agents": agents, "idle": idle, "busy": busy}


def parse_figures(lines: int = 100_000, runs: int = 3) -> tuple[float, float]:
    from bench_stream_json import ours, peer, rate, stream

    sample = stream(lines)
    return rate(ours, sample, runs), rate(peer, sample, runs)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--agents", type=int, default=20)
    ap.add_argument("--rate", type=int, default=1000, help="events per second, all agents together")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--no-app", action="store_true", help="skip the run of the real app")
    ap.add_argument("--role", choices=["app", "peer", "peer-qt"], help=argparse.SUPPRESS)
    ap.add_argument("--fake", help=argparse.SUPPRESS)
    ap.add_argument("--folder", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.role:
        return child_main(args)
    import signal

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a killed bench still stops its app
    with tempfile.TemporaryDirectory(prefix="bench-agents-") as tmp:
        base = Path(tmp)
        folder = base / "project"
        folder.mkdir()
        fake = write_fake(base / "bin", args.rate // args.agents, args.seconds)
        app = run_role("app", args, fake, base, folder)
        peer = run_role("peer", args, fake, base, folder)
        peer_qt = run_role("peer-qt", args, fake, base, folder)
        real = real_app_figures(args, fake, base, folder) if not args.no_app else None
    ours_rate, peer_rate = parse_figures()
    app_start = statistics.median(app["start_ms"])
    peer_start = statistics.median(peer["start_ms"])
    print(f"agents: {args.agents} fake agents, {args.rate} events/s in total, {app['window_s']:.1f} s window")
    print(
        f"  received            queue {app['events_per_s']:8.0f} events/s   peer {peer['events_per_s']:8.0f}"
    )
    cpu_verdict = "meets" if app["cpu_percent"] <= CPU_GOAL else "MISSES"
    ratio = app["cpu_percent"] / max(peer["cpu_percent"], 0.01)
    print(
        f"  CPU (one core)      queue {app['cpu_percent']:7.1f} %          peer {peer['cpu_percent']:7.1f} %"
        f"   goal <= {CPU_GOAL:g} % ({cpu_verdict}; {ratio:.1f}x peer)"
    )
    print(
        f"  (the same bare reader on the app's qasync loop: {peer_qt['cpu_percent']:.1f} %: a loop wake per "
        f"write; the queue reads every pipe together {1 / READ_INTERVAL:.0f} times a second)"
    )
    lag_verdict = "meets" if app["lag_p99"] <= LAG_GOAL else "MISSES"
    print(
        f"  loop lag p50/p99/max queue {app['lag_p50']:.1f}/{app['lag_p99']:.1f}/{app['lag_max']:.1f} ms"
        f"   peer {peer['lag_p50']:.1f}/{peer['lag_p99']:.1f}/{peer['lag_max']:.1f} ms"
        f"   goal p99 <= {LAG_GOAL:g} ms ({lag_verdict})"
    )
    print(f"  finished states     {', '.join(app['finished'])}")
    if real is not None:
        idle, busy = real["idle"], real["busy"]
        print(
            f"the real app (offscreen, own home), {real['agents']} agents at {args.rate} events/s: CPU "
            f"{busy['cpu_percent']:.1f} % (idle {idle['cpu_percent']:.1f} %), its socket answers in "
            f"p50/p99 {busy['ping_p50']:.1f}/{busy['ping_p99']:.1f} ms (idle "
            f"{idle['ping_p50']:.1f}/{idle['ping_p99']:.1f} ms)"
        )
    parse_verdict = "meets" if ours_rate >= 50_000 else "MISSES"
    print(
        f"stream-json parse: {ours_rate:,.0f} lines/s (bare json.loads {peer_rate:,.0f}; "
        f"{ours_rate / peer_rate:.2f}x)   goal >= 50,000 ({parse_verdict})"
    )
    start_verdict = "meets" if app_start <= START_GOAL else "MISSES"
    print(
        f"queued -> child started: median {app_start:.0f} ms, max {max(app['start_ms']):.0f} ms; "
        f"peer python -c pass spawned in {peer_start:.0f} ms   goal <= {START_GOAL:g} ms ({start_verdict})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
