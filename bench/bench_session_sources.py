"""Session sources (issue 13) with 20 live sessions: registry read, jobs read, merge and hook
fold, each next to a bare peer measured in the same run (the app-level figures, hook POST to
notification and idle CPU of the running app, are ``bench_sessions.py``).

Twenty real processes (``sleep``) with registry files, twenty job folders, twenty hook tracks and
twenty status line captures, in a temporary config dir. Figures:

1. ``read_registry`` (strict parse, liveness with the start stamp checked in ``/proc``) against a
   bare reader (``json.loads`` each file and ``os.kill(pid, 0)``, as peers do).
2. ``read_job_dir`` against bare ``json.loads`` of the same files; ``claude agents --json`` through
   the scripted fake ``claude`` (a child process per call) against the folder read.
3. ``merge_sessions`` against building the same twenty ``Session`` values directly.
4. ``apply_hook`` events per second against a bare dict update per event.
5. What one refresh (registry + jobs folder + merge) every 2 s costs in CPU, against the issue's
   idle goal (<= 0.2 % with 20 live sessions).

    .venv/bin/python bench/bench_session_sources.py [--runs 200]
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
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.helpers import fake_claude  # noqa: E402
from tests.helpers.fixtures_sessions import proc_start_ticks  # noqa: E402
from trayapp.core.session_merge import merge_sessions  # noqa: E402
from trayapp.core.sessions import HookEvent, HookEventName, Session, SessionState, apply_hook  # noqa: E402
from trayapp.sources import claude_jobs  # noqa: E402
from trayapp.sources.claude_jobs import read_job_dir, read_jobs  # noqa: E402
from trayapp.sources.session_registry import read_registry  # noqa: E402

N = 20


@dataclass(frozen=True, slots=True)
class Capture:
    session_id: str
    captured_at: datetime
    project_dir: str | None
    model: str | None
    context_percent: float | None
    cost_usd: float | None
    session_name: str | None


def median_time(fn: Callable[[], object], runs: int, clock: Callable[[], float] = time.process_time) -> float:
    """Median seconds per call; by default this process's CPU time (what idle CPU is made of)."""
    samples = []
    for _ in range(runs):
        t0 = clock()
        fn()
        samples.append(clock() - t0)
    return statistics.median(samples)


def per_call(fn: Callable[[], object], runs: int) -> float:
    return median_time(fn, runs)


def wall(fn: Callable[[], object], runs: int) -> float:
    return median_time(fn, runs, time.perf_counter)


def bare_registry(folder: Path) -> list[dict]:
    out = []
    for path in folder.iterdir():
        data = json.loads(path.read_text())
        try:
            os.kill(data["pid"], 0)
        except OSError:
            continue
        out.append(data)
    return out


def line(label: str, ours: float, peer: float, unit: str = "us") -> None:
    scale = 1e6 if unit == "us" else 1e3
    figures = f"{ours * scale:9.1f} {unit}  peer {peer * scale:9.1f} {unit}"
    print(f"  {label:<44} {figures}  ratio {ours / peer:5.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    procs = [subprocess.Popen(["sleep", "600"]) for _ in range(N)]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            run(Path(tmp), procs, args.runs)
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


def run(tmp: Path, procs: list[subprocess.Popen[bytes]], runs: int) -> None:
    config = tmp / "claude"
    (config / "sessions").mkdir(parents=True)
    now = datetime.now(UTC)
    rows = []
    for i, proc in enumerate(procs):
        record = {
            "pid": proc.pid,
            "sessionId": f"s{i}",
            "cwd": f"/home/u/proj{i}",
            "startedAt": int(now.timestamp() * 1000),
            "version": "2.1.219",
            "kind": "interactive",
            "entrypoint": "cli",
            "name": f"task {i}",
            "procStart": str(proc_start_ticks(proc.pid)),
        }
        (config / "sessions" / f"{proc.pid}.json").write_text(json.dumps(record))
        job = {
            "state": "working",
            "name": f"job {i}",
            "sessionId": f"j{i}",
            "cwd": f"/w/{i}",
            "updatedAt": now.isoformat(),
        }
        (config / "jobs" / f"job{i:04d}").mkdir(parents=True)
        (config / "jobs" / f"job{i:04d}" / "state.json").write_text(json.dumps(job))
        rows.append(
            {"id": f"job{i:04d}", "pid": proc.pid, "state": "working", "sessionId": f"j{i}", "cwd": f"/w/{i}"}
        )
    assert len(read_registry([config])) == N, "not every fake session counted as live"

    print(f"Session sources, {N} live sessions ({runs} runs, medians of this process's CPU time)")
    registry_cost = per_call(lambda: read_registry([config]), runs)
    line(
        "read_registry vs json.loads + kill(pid, 0)",
        registry_cost,
        per_call(lambda: bare_registry(config / "sessions"), runs),
    )
    jobs_cost = per_call(lambda: read_job_dir(config), runs)
    bare_jobs = [p / "state.json" for p in (config / "jobs").iterdir()]
    line(
        "read_job_dir vs json.loads",
        jobs_cost,
        per_call(lambda: [json.loads(p.read_text()) for p in bare_jobs], runs),
    )

    exe = fake_claude.install(tmp / "bin")
    script = tmp / "script.json"
    script.write_text(json.dumps({"agents": rows}))
    os.environ[fake_claude.SCRIPT_ENV] = str(script)
    claude_jobs.forget_failures()
    spawn_runs = max(5, runs // 20)
    assert len(read_jobs([config], claude=str(exe))) == N
    cli = wall(lambda: read_jobs([config], claude=str(exe)), spawn_runs)
    folder = wall(lambda: read_job_dir(config), spawn_runs)
    line("claude agents --json (fake, wall) vs folder", cli, folder, unit="ms")

    registry, jobs = read_registry([config]), read_job_dir(config)
    events = [
        HookEvent(HookEventName.USER_PROMPT_SUBMIT, f"s{i}", now, cwd=f"/home/u/proj{i}") for i in range(N)
    ]
    tracks = {e.session_id: apply_hook(None, e) for e in events}
    captures = [Capture(f"s{i}", now, f"/home/u/proj{i}", "Opus", 40.0, 1.0, None) for i in range(N)]

    def merge() -> list[Session]:
        return merge_sessions(registry=registry, jobs=jobs, tracks=tracks, captures=captures, now=now)

    def direct() -> list[Session]:
        return [
            Session(f"s{i}", SessionState.WORKING, f"proj{i}", f"/home/u/proj{i}", pid=i)
            for i in range(2 * N)
        ]

    merge_cost = per_call(merge, runs)
    line(f"merge_sessions ({len(merge())} sessions) vs building them", merge_cost, per_call(direct, runs))

    stream = [
        HookEvent(name, f"s{i % N}", now + timedelta(milliseconds=i), cwd="/w")
        for i, name in enumerate(list(HookEventName) * 500)
    ]

    def fold() -> None:
        state: dict[str, object] = {}
        for event in stream:
            state[event.session_id] = apply_hook(state.get(event.session_id), event)  # type: ignore[arg-type]

    def bare() -> None:
        state: dict[str, tuple[str, datetime]] = {}
        for event in stream:
            state[event.session_id] = (event.event, event.received_at)

    fold_s, bare_s = wall(fold, 5), wall(bare, 5)
    print(
        f"  {'apply_hook':<44} {len(stream) / fold_s:9.0f} ev/s peer {len(stream) / bare_s:9.0f} ev/s"
        f"  ratio {bare_s / fold_s:5.2f}x"
    )
    refresh = registry_cost + jobs_cost + merge_cost
    print(f"  one refresh (registry + jobs folder + merge): {refresh * 1e6:.0f} us of CPU")
    print(f"  refreshed every 2 s: {refresh / 2 * 100:.4f} % of one core (goal for the idle app: <= 0.2 %)")


if __name__ == "__main__":
    main()
