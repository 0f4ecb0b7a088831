"""Window scheduler figures (issue 15), offscreen, each beside a peer in the same run.

1. The schedule view painted (``grab``, 380x118: a 4-anchor plan, the open window, 10 attempts);
   peer: the popup's timeline painted at the same size with 24 hours of 5-minute samples of two
   windows. Goal: the schedule costs no more than the chart above it (ratio <= 1.0).
2. The scheduler's decision per tick (``core.schedule.due_between`` over a week of 30-second
   ticks, 24/7 plan); peer: the alert policy's ``evaluate`` on one account state (the work every
   reading already pays). Goal: under 1 ms a tick (one every 30 s: nothing); the ratio says how it
   compares with work the app already does on every reading.

    python bench/bench_schedule.py [--runs 30]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ["QT_QPA_PLATFORM"] = "offscreen"

from PySide6.QtWidgets import QApplication  # noqa: E402

app = QApplication.instance() or QApplication(["bench"])

from tests.helpers.states import account_state, window_state  # noqa: E402
from trayapp.core.alert_policy import PolicyConfig, PolicyMemory, evaluate  # noqa: E402
from trayapp.core.schedule import PRESETS, Attempt, Outcome, Plan, due_between  # noqa: E402
from trayapp.ui.schedule_view import ScheduleView  # noqa: E402
from trayapp.ui.timeline import Timeline  # noqa: E402

TZ = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 3, 4, 9, 40, tzinfo=UTC)
PLAN = Plan(PRESETS["24_7"][1], preset="24_7")


def best(fn: Callable[[], object], runs: int) -> float:
    """The median of ``runs`` timings of ``fn`` (seconds), after one warm-up call."""
    fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def rows() -> list[tuple[datetime, str, float, datetime | None]]:
    out = []
    t = NOW - timedelta(hours=24)
    while t <= NOW:
        out.append((t, "five_hour", (t.minute % 50) * 1.5, t + timedelta(hours=2)))
        out.append((t, "seven_day", 30.0, NOW + timedelta(days=3)))
        t += timedelta(minutes=5)
    return out


def paint_figures(runs: int) -> tuple[float, float]:
    state = account_state(
        window_state("five_hour", 27.0, timedelta(hours=2, minutes=22), NOW, rate=9.0),
        window_state("seven_day", 58.0, timedelta(days=2), NOW, rate=1.1),
        now=NOW,
    )
    attempts = [Attempt(NOW - timedelta(minutes=50 * i), "06:00", Outcome(o)) for i, o in enumerate(
        ["verified", "not_opened", "reminded", "skipped", "refused"] * 2
    )]  # fmt: skip
    view = ScheduleView()
    view.resize(380, 118)
    view.set_data(PLAN, state, attempts, NOW, TZ)
    chart = Timeline()
    chart.resize(380, 118)
    chart.set_data(rows(), state, NOW, "24h")
    return best(view.grab, runs), best(chart.grab, runs)


def tick_figures(runs: int) -> tuple[float, float]:
    ticks = [NOW + timedelta(seconds=30 * i) for i in range(7 * 24 * 120)]

    def week() -> None:
        for last, now in zip(ticks, ticks[1:], strict=False):
            due_between(PLAN, last, now, TZ)

    state = account_state(now=NOW)
    config, memory = PolicyConfig(), PolicyMemory()

    def evaluations() -> None:
        for _ in range(1000):
            evaluate(state, config, memory, NOW)

    per_tick = best(week, max(3, runs // 10)) / (len(ticks) - 1)
    per_evaluation = best(evaluations, max(3, runs // 10)) / 1000
    return per_tick, per_evaluation


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    runs = parser.parse_args().runs
    view, chart = paint_figures(runs)
    print(f"schedule view paint   {view * 1e3:7.2f} ms   timeline paint (peer) {chart * 1e3:7.2f} ms")
    print(f"  ratio {view / chart:.2f} (goal <= 1.0)")
    tick, evaluation = tick_figures(runs)
    peer = f"alert policy evaluate (peer) {evaluation * 1e6:7.1f} us"
    print(f"scheduler tick        {tick * 1e6:7.1f} us   {peer}")
    print(f"  ratio {tick / evaluation:.2f}; goal: under 1000 us a tick")
    return 0


if __name__ == "__main__":
    sys.exit(main())
