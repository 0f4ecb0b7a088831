"""Wall time of ``claude-watch status --json`` against a loopback usage server, next to a bare
interpreter start in the same run; plus the timeline query over 90 days of samples.

Runs the installed console script N times against the demo simulator (``trayapp.demo``) on
127.0.0.1, with temporary ``CLAUDE_WATCH_HOME``/``CLAUDE_CONFIG_DIR``/``HOME``, interleaved with
``python -c pass``. Two modes: *fetch* (the manual-refresh throttle is reset before each run, so
every run makes the HTTP request and writes the store) and *stored* (throttled: shows the stored
snapshot). Prints medians, p95 and the ratio to the bare start; the goal is a fetch median
<= 300 ms. Then fills a database with 90 days of 5-minute samples (4 windows) and times
``UsageRepo.history`` for the popup's 24 h and 7 d ranges and the full 90 days.

    .venv/bin/python bench/bench_status.py [--runs 15]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from trayapp.core.models import Source, UsageSnapshot, Window, WindowKind  # noqa: E402
from trayapp.demo import start_demo  # noqa: E402
from trayapp.store.usage_repo import UsageRepo  # noqa: E402


def timed(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, check=False)
    elapsed = time.perf_counter() - t0
    if proc.returncode not in (0, 3):
        raise SystemExit(f"{cmd} failed ({proc.returncode}): {proc.stderr.decode()[-500:]}")
    return elapsed


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def bench_cli(runs: int) -> None:
    exe = shutil.which("claude-watch", path=str(Path(sys.executable).parent)) or "claude-watch"
    tmp = Path(tempfile.mkdtemp(prefix="cw-bench-status-"))
    claude_dir = tmp / "claude"
    demo = start_demo(rate_limit_every=0, config_dir=claude_dir)
    env = dict(os.environ)
    env.update(
        CLAUDE_WATCH_HOME=str(tmp / "home"),
        CLAUDE_CONFIG_DIR=str(claude_dir),
        CLAUDE_WATCH_API_BASE=demo.base_url,
        HOME=str(tmp / "fakehome"),
    )
    env.pop("QT_QPA_PLATFORM", None)
    # Measure an installed app as users run it: with cached bytecode.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    db = tmp / "home" / "data" / "claude-watch.sqlite3"
    try:
        timed([exe, "status", "--json"], env)  # warm-up: creates the database and the version cache
        bare, fetch, stored = [], [], []
        for _ in range(runs):
            bare.append(timed([sys.executable, "-c", "pass"], env))
            repo = UsageRepo.open(db)
            repo.set_last_attempt(datetime.now(UTC) - timedelta(minutes=1))
            repo.close()
            fetch.append(timed([exe, "status", "--json"], env))
            stored.append(timed([exe, "status", "--json"], env))
        requests = len(demo.simulator.requests)
    finally:
        demo.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    base = statistics.median(bare)
    print(f"claude-watch status --json, {runs} runs each, loopback server ({requests} requests served)")
    print(f"  {'':28} {'median':>9} {'p95':>9} {'x bare':>8}")
    for name, values in (
        ("python -c pass", bare),
        ("status --json (fetch)", fetch),
        ("status --json (stored)", stored),
    ):
        med = statistics.median(values)
        print(f"  {name:28} {med * 1000:7.0f} ms {p95(values) * 1000:7.0f} ms {med / base:7.1f}x")
    verdict = "meets" if statistics.median(fetch) <= 0.300 else "MISSES"
    print(f"  goal: fetch median <= 300 ms -> {verdict} ({statistics.median(fetch) * 1000:.0f} ms)")


def bench_history() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="cw-bench-history-"))
    try:
        repo = UsageRepo.open(tmp / "db.sqlite3")
        now = datetime.now(UTC).replace(microsecond=0)
        start = now - timedelta(days=90)
        step = timedelta(minutes=5)
        n = int(timedelta(days=90) / step)
        t0 = time.perf_counter()
        for i in range(n):
            at = start + i * step
            five_reset = at + timedelta(hours=5) - timedelta(seconds=at.timestamp() % (5 * 3600))
            week_reset = at + timedelta(days=7) - timedelta(seconds=at.timestamp() % (7 * 86400))
            repo.save_snapshot(
                UsageSnapshot(
                    at,
                    Source.API,
                    (
                        Window("five_hour", "5-hour", WindowKind.FIVE_HOUR, i % 100, five_reset),
                        Window(
                            "seven_day", "Weekly", WindowKind.WEEKLY, i % 70, week_reset, timedelta(days=7)
                        ),
                        Window(
                            "seven_day_sonnet", "Weekly · Sonnet", WindowKind.WEEKLY_SCOPED, 3, week_reset
                        ),
                        Window(
                            "weekly_scoped:Fable 5",
                            "Weekly · Fable 5",
                            WindowKind.WEEKLY_SCOPED,
                            9,
                            week_reset,
                        ),
                    ),
                )
            )
        fill = time.perf_counter() - t0
        print(f"\nhistory: {n} polls x 4 windows over 90 days stored in {fill:.1f} s")
        for label, span in (
            ("24 h", timedelta(days=1)),
            ("7 d", timedelta(days=7)),
            ("90 d", timedelta(days=90)),
        ):
            times = []
            for _ in range(5):
                t0 = time.perf_counter()
                rows = repo.history(["five_hour", "seven_day"], now - span)
                times.append(time.perf_counter() - t0)
            took = statistics.median(times) * 1000
            print(f"  history(2 windows, {label:>4}): {len(rows):6d} rows in {took:6.1f} ms")
        repo.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--skip-history", action="store_true")
    args = parser.parse_args()
    bench_cli(args.runs)
    if not args.skip_history:
        bench_history()


if __name__ == "__main__":
    main()
