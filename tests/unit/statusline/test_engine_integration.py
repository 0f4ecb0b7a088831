"""Source priority: a fresh statusline capture is the current value and spares the HTTP request.

The usage endpoint is the demo simulator on a loopback port (it speaks the documented wire
format and records every request); the capture is written by the real command in a child
process.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.statusline_support import FULL, run_process
from trayapp.core.models import Source
from trayapp.demo import DemoHandle, start_demo


@pytest.fixture
def server(claude_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DemoHandle]:
    handle = start_demo(rate_limit_every=0, config_dir=claude_dir)
    monkeypatch.setenv("CLAUDE_WATCH_API_BASE", handle.base_url)
    try:
        yield handle
    finally:
        handle.stop()


def capture_now(pct: float = 37) -> None:
    payload = json.loads(FULL.read_text())
    now = time.time()
    payload["rate_limits"] = {
        "five_hour": {"used_percentage": pct, "resets_at": int(now + 3 * 3600)},
        "seven_day": {"used_percentage": 22.5, "resets_at": int(now + 4 * 86400)},
    }
    done = run_process(json.dumps(payload).encode())
    assert done.returncode == 0


async def test_fresh_capture_is_current_and_no_request_is_made(server: DemoHandle) -> None:
    from trayapp.services.usage_engine import create_engine

    capture_now(37)
    engine = create_engine(probe_version=False)
    try:
        state = await engine.poll()
        # The first poll completes what the statusline lacks (extra usage, scoped limits) once...
        assert len(server.simulator.requests) == 1
        assert server.simulator.requests[0]["headers"]["User-Agent"] == "claude-code/2.1.220"
        assert state.snapshot is not None
        assert state.snapshot.source is Source.STATUSLINE
        assert state.snapshot.window("five_hour").utilization == 37
        # ...after that, while captures stay fresh, polling makes no HTTP request at all.
        capture_now(41)
        state = await engine.poll()
        assert len(server.simulator.requests) == 1
        assert state.snapshot is not None
        assert state.snapshot.source is Source.STATUSLINE
        assert state.snapshot.window("five_hour").utilization == 41
        assert state.snapshot.client_version == "2.1.220"
    finally:
        await engine.aclose()


async def test_without_captures_the_api_is_polled(server: DemoHandle) -> None:
    from trayapp.services.usage_engine import create_engine

    engine = create_engine(probe_version=False)
    try:
        state = await engine.poll()
        assert len(server.simulator.requests) == 1
        assert state.snapshot is not None
        assert state.snapshot.source is Source.API
    finally:
        await engine.aclose()


async def test_status_command_after_a_capture_makes_no_request(server: DemoHandle) -> None:
    """`claude-watch status --json` in a child process: source statusline, zero HTTP requests."""
    import os
    import subprocess
    import sys

    from trayapp.services.usage_engine import create_engine

    engine = create_engine(probe_version=False)
    try:
        await engine.poll()  # one complete API reading exists, as in a running app's store
    finally:
        await engine.aclose()
    before = len(server.simulator.requests)
    capture_now(44)
    done = subprocess.run(
        [sys.executable, "-m", "trayapp", "status", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ, CLAUDE_WATCH_NO_VERSION_PROBE="1"),
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["source"] == "statusline"
    assert [w["utilization"] for w in out["windows"] if w["id"] == "five_hour"] == [44]
    assert len(server.simulator.requests) == before
