"""Wall time of ``claude-watch status --format waybar`` against a bare interpreter (issue 17 goal:
<= 3x ``python -c pass``), and ``--watch``'s line after a change.

Runs the installed console script as a status bar does, N times each, interleaved with
``python -c pass``: *app* (a ``claude-watch serve --demo`` child answers ``GET /v1/status`` on
loopback: one request) and *stored* (no app: the stored reading from the database). Then
``--watch`` follows the app's ``/v1/events`` and the time from a reading published by the stand-in
API to the line on the watcher's stdout is measured against a plain ``GET /v1/status`` round
trip. Prints p50 and p95 and the ratios.

    .venv/bin/python bench/bench_statusbar.py [--runs 20]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.helpers.serve_process import ServeProcess  # noqa: E402
from tests.helpers.status_api_server import ApiStandIn, status_doc  # noqa: E402
from trayapp.cli.status_api import fetch_status  # noqa: E402


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def timed(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, check=False)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{cmd} failed ({proc.returncode}): {proc.stderr.decode()[-500:]}")
    return elapsed


def table(title: str, peer: str, rows: list[tuple[str, list[float]]]) -> float:
    """Print p50/p95 of each row and its ratio to the first (the peer); returns the peer's p50."""
    base = statistics.median(rows[0][1])
    print(title)
    print(f"  {'':38} {'p50':>10} {'p95':>10} {'x ' + peer:>8}")
    for name, values in rows:
        med = statistics.median(values)
        print(f"  {name:38} {med * 1000:7.1f} ms {p95(values) * 1000:7.1f} ms {med / base:7.2f}x")
    return base


def bench_one_shot(runs: int) -> None:
    exe = shutil.which("claude-watch", path=str(Path(sys.executable).parent)) or "claude-watch"
    tmp = Path(tempfile.mkdtemp(prefix="cw-bench-bar-"))
    serve = ServeProcess(tmp / "home")
    serve.start()
    env = serve.env()
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: with cached bytecode
    env.pop("QT_QPA_PLATFORM", None)
    waybar = [exe, "status", "--format", "waybar"]
    try:
        line = json.loads(subprocess.run(waybar, env=env, capture_output=True, check=True).stdout)
        bare, app = [], []
        for _ in range(runs):
            bare.append(timed([sys.executable, "-c", "pass"], env))
            app.append(timed(waybar, env))
        serve.stop()
        stored = []
        for _ in range(runs):
            stored.append(timed(waybar, env))
    finally:
        serve.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    base = table(
        f"claude-watch status --format waybar, {runs} runs each (demo line: {line['text']!r})",
        "bare",
        [
            ("python -c pass", bare),
            ("waybar, app running (GET /v1/status)", app),
            ("waybar, no app (stored reading)", stored),
        ],
    )
    ratio = statistics.median(app) / base
    print(f"  goal: app-running p50 <= 3x bare -> {'meets' if ratio <= 3 else 'MISSES'} ({ratio:.2f}x)")


def bench_watch(runs: int) -> None:
    """A published reading to the watcher's line, against one GET /v1/status round trip."""
    tmp = Path(tempfile.mkdtemp(prefix="cw-bench-watch-"))
    env = dict(os.environ, CLAUDE_WATCH_HOME=str(tmp / "home"), HOME=str(tmp / "fakehome"))
    env.pop("PYTHONUNBUFFERED", None)
    os.environ["CLAUDE_WATCH_HOME"] = env["CLAUDE_WATCH_HOME"]
    app = ApiStandIn(status_doc(1.0, 1.0)).start()
    app.write_state(tmp / "home" / "state")
    proc = subprocess.Popen(
        [sys.executable, "-m", "trayapp", "status", "--format", "waybar", "--watch"],
        stdout=subprocess.PIPE,
        env=env,
    )
    assert proc.stdout is not None
    try:
        proc.stdout.readline()
        lines, trips = [], []
        for i in range(runs):
            t0 = time.perf_counter()
            app.push(status_doc(2.0 + i, 1.0))
            proc.stdout.readline()
            lines.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            fetch_status()
            trips.append(time.perf_counter() - t0)
    finally:
        proc.terminate()
        proc.communicate(timeout=10)
        app.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    table(
        f"\nstatus --format waybar --watch, {runs} changes",
        "trip",
        [("GET /v1/status round trip", trips), ("change published -> line printed", lines)],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    bench_one_shot(args.runs)
    bench_watch(args.runs)


if __name__ == "__main__":
    main()
