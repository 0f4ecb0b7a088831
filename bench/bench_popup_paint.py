"""Popup paint with 90 days of history (issue 20's goal: <= 50 ms in the 7-day view), offscreen.

The history is the demo's (``core.demo_history``: 5-minute readings of four windows, resets, a
near-limit window) stored in a real usage database by ``services.demo_seed.seed_usage`` and read
back through ``UsageRepo.history``, as the app reads it. Figures, each the median of ``--runs``:

1. the 7-day view's rows read from SQLite, and the timeline's series built from them;
2. the popup painted (``grab``: the whole panel rendered, timeline included) in the 7-day view;
   peers in the same run: the same popup in the 24-hour view, and an empty QWidget of the same size
   (what any paint of that many pixels costs);
3. ``claude-watch --demo``'s seeding (the week of readings and transcripts; goal < 1 s).

``bench/bench_tray.py`` times the whole open (placement, history load, layout and paint) against a
popup without history.

    python bench/bench_popup_paint.py [--runs 30] [--days 90]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ["CLAUDE_WATCH_HOME"] = tempfile.mkdtemp(prefix="cw-bench-popup-")

from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

app = QApplication.instance() or QApplication(["bench"])

import trayapp.ui  # noqa: E402,F401  (the None-reference guard)
from trayapp import paths  # noqa: E402
from trayapp.core.clock import FakeClock  # noqa: E402
from trayapp.core.derive import derive_state  # noqa: E402
from trayapp.core.models import Source  # noqa: E402
from trayapp.demo import UsageSimulator  # noqa: E402
from trayapp.services.demo_seed import seed_usage  # noqa: E402
from trayapp.sources.usage_parse import parse_usage  # noqa: E402
from trayapp.store.usage_repo import UsageRepo  # noqa: E402
from trayapp.ui.popup import Popup  # noqa: E402
from trayapp.ui.timeline_model import build_series, view_span  # noqa: E402


def median_ms(fn: Callable[[], object], runs: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--days", type=float, default=90.0)
    args = parser.parse_args()
    now = datetime.now(UTC).replace(microsecond=0)
    sim = UsageSimulator()
    repo = UsageRepo.open(paths.ensure(paths.data_dir()) / "bench.sqlite3")
    t = time.perf_counter()
    readings = seed_usage(repo, sim, now, days=args.days)
    seeded = time.perf_counter() - t
    current = parse_usage(sim.usage_body(now.timestamp()), now, Source.DEMO).snapshot
    ids = [w.id for w in current.windows]
    since_7d, _ = view_span(now, "7d")
    since_24h, _ = view_span(now, "24h")
    rows_7d = repo.history(ids, since_7d)
    rows_24h = repo.history(ids, since_24h)
    print(
        f"history: {readings} readings x {len(ids)} windows over {args.days:.0f} days, "
        f"stored in {seeded:.1f} s; 7-day view {len(rows_7d)} rows, 24-hour view {len(rows_24h)} rows"
    )
    read = median_ms(lambda: repo.history(ids, since_7d), args.runs)
    build = median_ms(lambda: build_series(rows_7d, since_7d, now, max_points=760, order=ids), args.runs)
    print(f"7-day view: rows read from SQLite {read:.1f} ms, series built {build:.1f} ms")

    samples = {w.id: repo.samples(w.id, (w.starts_at or now - w.length)) for w in current.windows}
    state = derive_state(current, samples, now, interval=timedelta(minutes=5))
    popups = {}
    for key, rows in (("7d", rows_7d), ("24h", rows_24h)):
        popup = Popup(FakeClock(now))
        popup.set_range(key)
        popup.set_history_loader(lambda since, rows=rows: rows)
        popup.set_state(state)
        popup.show_at(None)
        app.processEvents()
        popups[key] = popup
    empty = QWidget()
    empty.resize(popups["7d"].size())
    empty.show()
    app.processEvents()
    week = median_ms(popups["7d"].grab, args.runs)
    day = median_ms(popups["24h"].grab, args.runs)
    bare = median_ms(empty.grab, args.runs)
    size = popups["7d"].size()
    print(
        f"popup painted, 7-day view: {week:.1f} ms median of {args.runs} (goal <= 50 ms); "
        f"24-hour view {day:.1f} ms (x{week / day:.2f}); empty QWidget of the same size "
        f"({size.width()}x{size.height()}) {bare:.2f} ms"
    )
    timeline = popups["7d"].timeline
    chart = median_ms(timeline.grab, args.runs)
    print(f"the 7-day chart alone ({timeline.width()}x{timeline.height()}): {chart:.1f} ms")
    repo.close()

    from trayapp.demo import enter_demo_home
    from trayapp.services.demo_seed import start_seeded_demo

    enter_demo_home()  # the demo's own folder, as ``claude-watch --demo`` does
    t = time.perf_counter()
    demo = start_seeded_demo(now)
    took = time.perf_counter() - t
    demo.stop()
    print(f"demo seeded (a week of readings and transcripts, in its folder): {took:.2f} s (goal < 1 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
