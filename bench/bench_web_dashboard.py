"""The web dashboard's figures (issue 17) in a real headless Chromium, each next to a peer measured
in the same run. The real API routes and server run in this process on a thread's event loop
(``tests/helpers/api_in_thread``), serving a chosen state.

1. Time to numbers: from the start of navigating to a one-time login link until the page shows the
   gauges (login redirect, page, event stream, first ``status`` event, render), against the same
   navigation's load event (the page parsed and its script run, before any data). Median and p95.
2. Live update: a new reading published on the server until the page shows the new percentage,
   against a same-origin ``fetch('/v1/status')`` round trip from the page. Median and p95.

    .venv/bin/python bench/bench_web_dashboard.py [--rounds 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("CLAUDE_WATCH_HOME", tempfile.mkdtemp(prefix="cw-bench-web-"))

from tests.helpers.api_in_thread import InProcessApi  # noqa: E402
from tests.helpers.browser import start_browser  # noqa: E402
from tests.helpers.states import account_state, window_state  # noqa: E402

FIRST_GAUGE = """const done = arguments[arguments.length - 1];
(function check() {
  if (document.querySelector('#windows .gauge')) done(performance.now());
  else requestAnimationFrame(check);
})();"""
LOAD_EVENT = "return performance.getEntriesByType('navigation')[0].loadEventEnd;"
WATCH = """window.__seen = null;
const want = arguments[0];
(function check() {
  const p = document.querySelector('#windows .gauge .pct');
  if (p && p.textContent === want) window.__seen = Date.now(); else requestAnimationFrame(check);
})();"""
ROUND_TRIP = """const done = arguments[arguments.length - 1];
const t0 = performance.now();
fetch('/v1/status', {cache: 'no-store'}).then((r) => r.json()).then(() => done(performance.now() - t0));"""


def state(percent: float) -> object:
    now = datetime.now(UTC)
    return account_state(
        window_state("five_hour", percent, timedelta(hours=2), now, rate=4.0),
        window_state("seven_day", 20.0, timedelta(days=3), now, rate=0.3),
        now=now,
        age=0.0,
    )


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def line(name: str, values: list[float], note: str = "") -> None:
    print(f"   {name:<34} median {statistics.median(values):7.1f}  p95 {pct(values, 0.95):7.1f}{note}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    served = InProcessApi(state(30.0))
    browser = start_browser()
    try:
        browser.get(served.login_url())  # warm the browser and the page cache once
        browser.run_async(FIRST_GAUGE)
        numbers, loaded = [], []
        for _ in range(args.rounds):
            browser.delete_cookies()
            browser.get(served.login_url())
            numbers.append(float(browser.run_async(FIRST_GAUGE)))
            loaded.append(float(browser.run(LOAD_EVENT)))
        print(f"1. dashboard open, from navigation start (ms, {args.rounds} rounds):")
        line("load event (page + script, no data)", loaded)
        line("gauges shown (login, stream, render)", numbers)
        print(f"   ratio median numbers/load: {statistics.median(numbers) / statistics.median(loaded):.2f}x")

        updates, trips = [], []
        for i in range(args.rounds):
            percent = 31.0 + i
            updates.append(served.shown_after_ms(browser, WATCH, f"{percent:.0f}%", state(percent)))
            trips.append(float(browser.run_async(ROUND_TRIP)))
        print(f"2. live update (ms, {args.rounds} rounds):")
        line("fetch('/v1/status') round trip", trips)
        line("publish -> page shows it (SSE)", updates, "  (sampled per frame)")
        ratio = statistics.median(updates) / statistics.median(trips)
        print(f"   ratio median update/round trip: {ratio:.2f}x")
    finally:
        browser.quit()
        served.stop()


if __name__ == "__main__":
    main()
