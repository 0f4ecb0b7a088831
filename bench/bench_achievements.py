"""Achievements recomputation (issue 16): every rule of :mod:`trayapp.core.achievements` over the
history the service reads (120 days: 5-hour and weekly readings every 5 minutes, a poll outcome per
reading, a ledger day per day, a scheduler start a day), against a peer run in the same process:
one ``sorted`` pass over the same readings (the least any rule over them must do).

Figures: milliseconds per full evaluation and per peer pass, and their ratio. The service recomputes
hourly on a worker lane, so the goal is generous: one evaluation under 1 s.

    .venv/bin/python bench/bench_achievements.py [--days 120] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from trayapp.core import achievements as ach  # noqa: E402

GOAL_MS = 1000.0


def history(days: int) -> ach.History:
    start = datetime(2026, 8, 1, tzinfo=UTC)
    samples: list[ach.Sample] = []
    polls: list[ach.Poll] = []
    step = timedelta(minutes=5)
    at = start
    end = start + timedelta(days=days)
    while at < end:
        minutes = (at - start) / timedelta(minutes=1)
        five_reset = start + timedelta(hours=5) * (int(minutes // 300) + 1)
        week_reset = start + timedelta(days=7) * (int(minutes // 10080) + 1)
        samples.append(ach.Sample(at, "five_hour", (minutes % 300) / 3.2, five_reset))
        samples.append(ach.Sample(at, "seven_day", (minutes % 10080) / 110, week_reset))
        polls.append(ach.Poll(at, True, 200))
        at += step
    ledger = [
        ach.DayUse(date(2026, 8, 1) + timedelta(days=k), 1000, 200, 9000 - 50 * (k % 7), 40 * (k % 6))
        for k in range(days)
    ]
    starts = [ach.Start(start + timedelta(days=k, hours=6), k % 3 == 0, "07:00") for k in range(days)]
    return ach.History(end, UTC, samples, polls, ledger, starts)


def timed(fn, runs: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    h = history(args.days)
    earned = sum(1 for s in ach.evaluate(h) if s.earned)
    full = timed(lambda: ach.evaluate(h), args.runs)
    peer = timed(lambda: sorted(h.samples, key=lambda s: s.at), args.runs)
    print(f"history: {args.days} days, {len(h.samples)} readings, {len(h.polls)} polls; {earned} earned")
    print(f"evaluate (all {len(ach.RULES)} rules): {full:8.1f} ms  (goal < {GOAL_MS:.0f} ms)")
    print(f"peer (one sorted pass):        {peer:8.1f} ms")
    print(f"ratio: {full / peer:.1f}x the peer")
    return 0 if full < GOAL_MS else 1


if __name__ == "__main__":
    sys.exit(main())
