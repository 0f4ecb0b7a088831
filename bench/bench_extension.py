"""The browser extension's figures (issue 17) in a real headless Chromium with the extension loaded
unpacked, each next to a peer measured in the same run. The real API routes and server run in this
process on a thread's event loop (``tests/helpers/api_in_thread``), serving a chosen state.

1. Pairing: from pressing Pair on the options page until the extension holds the numbers
   (``POST /v1/pair``, storage, the service worker's first ``GET /v1/status``, the badge set),
   against a ``fetch('/v1/status')`` round trip from the same extension page. Median and p95.
2. Live update: a new reading published on the server until the extension's view in
   ``storage.local`` (what the badge and the popup show) has it, through the service worker's
   ``/v1/events`` stream, against the same round trip. Median and p95.

    .venv/bin/python bench/bench_extension.py [--rounds 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("CLAUDE_WATCH_HOME", tempfile.mkdtemp(prefix="cw-bench-ext-"))

from bench_web_dashboard import line, state  # noqa: E402  (same folder: the dashboard's peer figures)

from tests.helpers.api_in_thread import InProcessApi  # noqa: E402
from tests.helpers.browser import start_browser  # noqa: E402

EXT = ROOT / "packaging" / "browser-extension"
ORIGIN = "chrome-extension://ambagjgmgmhcaiojlkoaogpfnnlpjcno"
PAIR = """const done = arguments[arguments.length - 1];
const t0 = performance.now();
chrome.storage.local.clear().then(() => {
  const seen = (changes) => {
    const v = changes.view && changes.view.newValue;
    if (!v || v.state !== 'ok') return;
    chrome.storage.onChanged.removeListener(seen);
    done(performance.now() - t0);
  };
  chrome.storage.onChanged.addListener(seen);
  document.getElementById('code').value = arguments[0];
  document.getElementById('pair').click();
});"""
WATCH = """window.__seen = null;
const want = arguments[0];
const seen = (changes) => {
  const v = changes.view && changes.view.newValue;
  const w = v && v.status && v.status.windows.find((x) => x.id === 'five_hour');
  if (!w || Math.round(w.utilization) !== want) return;
  window.__seen = Date.now();
  chrome.storage.onChanged.removeListener(seen);
};
chrome.storage.onChanged.addListener(seen);"""
ROUND_TRIP = """const done = arguments[arguments.length - 1];
chrome.storage.local.get('pairing').then(({pairing}) => {
  const t0 = performance.now();
  const headers = {Authorization: 'Bearer ' + pairing.token};
  fetch('http://127.0.0.1:' + pairing.port + '/v1/status', {headers})
    .then((r) => r.json()).then(() => done(performance.now() - t0));
});"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    served = InProcessApi(state(30.0))
    browser = start_browser([f"--load-extension={EXT}", f"--disable-extensions-except={EXT}"])
    try:
        browser.get(f"{ORIGIN}/options.html")
        pairing, trips = [], []
        for _ in range(args.rounds + 1):
            browser.get(f"{ORIGIN}/options.html")
            took = float(browser.run_async(PAIR, f"{served.port}:{served.book.new_pairing_code()}"))
            pairing.append(took)
            trips.append(float(browser.run_async(ROUND_TRIP)))
        pairing, trips = pairing[1:], trips[1:]  # the first warms the worker and the page
        print(f"1. pairing, from pressing Pair (ms, {args.rounds} rounds):")
        line("fetch('/v1/status') round trip", trips)
        line("paired, numbers in the extension", pairing)
        ratio = statistics.median(pairing) / statistics.median(trips)
        print(f"   ratio median pairing/round trip: {ratio:.2f}x")

        updates, trips = [], []
        time.sleep(0.5)  # the worker's event stream is open
        for i in range(args.rounds):
            percent = 31 + i
            browser.run(WATCH, percent)
            sent = time.time() * 1000
            served.publish(state(float(percent)))
            deadline = time.monotonic() + 10
            seen = None
            while seen is None and time.monotonic() < deadline:
                seen = browser.run("return window.__seen;")
            if seen is None:
                raise SystemExit("the extension never got the new reading")
            updates.append(float(seen) - sent)
            trips.append(float(browser.run_async(ROUND_TRIP)))
        print(f"2. live update (ms, {args.rounds} rounds):")
        line("fetch('/v1/status') round trip", trips)
        line("publish -> extension has it (SSE)", updates)
        print(
            f"   ratio median update/round trip: {statistics.median(updates) / statistics.median(trips):.2f}x"
        )
    finally:
        browser.quit()
        served.stop()


if __name__ == "__main__":
    main()
