"""The demo's simulated usage endpoint remembers only its latest requests (issue 20, memory over
time: the demo app polls it every few seconds for as long as it runs, and every request's headers
used to be kept)."""

from __future__ import annotations

import http.client

from trayapp.demo import MAX_RECORDED, USAGE_PATH, start_demo


def test_the_simulator_keeps_only_the_latest_requests() -> None:
    demo = start_demo(rate_limit_every=0)
    try:
        for i in range(MAX_RECORDED + 25):  # a connection each: keep-alive waits on delayed ACKs
            conn = http.client.HTTPConnection("127.0.0.1", demo.port, timeout=5)
            conn.request("GET", f"{USAGE_PATH}?n={i}", headers={"Authorization": "Bearer " + "x" * 30})
            conn.getresponse().read()
            conn.close()
        seen = list(demo.simulator.requests)
        assert len(seen) == MAX_RECORDED
        assert seen[0]["path"] == f"{USAGE_PATH}?n=25"  # the oldest kept
        assert seen[-1]["path"] == f"{USAGE_PATH}?n={MAX_RECORDED + 24}"  # the newest
    finally:
        demo.stop()
