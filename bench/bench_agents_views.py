"""The agents' views under a stream (issue 14), offscreen, beside a peer in the same run.

20 running agents change 1,000 times a second in total (tokens and the last activity line, as the
queue announces them) for a few seconds while the popup's Agents section and the Agents window are
shown. Measured: the process's CPU time per wall second (percent of one core) and the repaints.

- coalesced: the app's path (``features.agents``: one coalescer builds the list, each view
  coalesces again: at most ~5 repaints a second);
- peer: the same views brought up to date on every change (no coalescing).

Goal: the views' share of the issue's budget (the app at <= 5% of a core with 20 agents streaming
1,000 events/s): well under 5%, and a small fraction of the peer's.

    python bench/bench_agents_views.py [--seconds 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ["QT_QPA_PLATFORM"] = "offscreen"

from PySide6.QtWidgets import QApplication  # noqa: E402

app = QApplication.instance() or QApplication(["bench"])

from trayapp.core.agents import Task, TaskSpec, TaskState  # noqa: E402
from trayapp.core.clock import FakeClock  # noqa: E402
from trayapp.ui.agents_panel import AgentsPanel  # noqa: E402
from trayapp.ui.agents_rows import Coalescer, agent_items  # noqa: E402
from trayapp.ui.agents_window import AgentsWindow  # noqa: E402

NOW = datetime(2026, 12, 3, 14, 0, tzinfo=UTC)
AGENTS = 20
RATE = 1000  # changes per second, all agents together
TICK = 0.01  # seconds between batches of changes


def tasks() -> dict[str, Task]:
    out = {}
    for n in range(AGENTS):
        spec = TaskSpec(prompt=f"Agent {n}: fix the module", folder=f"/work/p{n % 4}")
        out[f"t-{n:02d}"] = Task(f"t-{n:02d}", spec, TaskState.RUNNING, started_at=NOW - timedelta(minutes=n))
    return out


def run(seconds: float, coalesce: bool, views: bool = True) -> tuple[float, int, int]:
    """(CPU percent of one core, changes made, repaints of both views); without ``views`` the
    stream and the pacing alone (the baseline both figures are taken against)."""
    panel, window = AgentsPanel(FakeClock(NOW)), AgentsWindow(None, FakeClock(NOW))
    panel.show()
    window.show()
    state = tasks()

    def publish(_value: object = None) -> None:
        if not views:
            return
        items = agent_items(state.values())
        if coalesce:
            panel.set_items(items)
            window.set_items(items)
        else:  # the peer: every change reaches the widgets
            panel._render(items)
            window._render(items)

    updates = Coalescer(publish)
    changes = 0
    per_tick = int(RATE * TICK)
    warm = 0.5  # seconds first: the rows are built and laid out once, not per change
    begin = time.perf_counter()
    start_wall = start_cpu = 0.0
    next_tick = begin
    while time.perf_counter() - begin < seconds + warm:
        if not start_wall and time.perf_counter() - begin >= warm:
            start_wall, start_cpu, changes = time.perf_counter(), time.process_time(), 0
            panel.renders = window.renders = 0
        for _ in range(per_tick):
            key = f"t-{changes % AGENTS:02d}"
            task = state[key]
            state[key] = replace(task, output_tokens=task.output_tokens + 7, last_line=f"line {changes}")
            changes += 1
            if coalesce:
                updates.push(None)
            else:
                publish()
        next_tick += TICK
        while time.perf_counter() < next_tick:
            app.processEvents()
            time.sleep(0.001)
    app.processEvents()
    wall, cpu = time.perf_counter() - start_wall, time.process_time() - start_cpu
    repaints = panel.renders + window.renders
    panel.hide()
    window.hide()
    panel.deleteLater()
    window.deleteLater()
    app.processEvents()
    return 100.0 * cpu / wall, changes, repaints


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    seconds = parser.parse_args().seconds
    base, _, _ = run(seconds, coalesce=True, views=False)
    ours, changes, repaints = run(seconds, coalesce=True)
    peer, peer_changes, peer_repaints = run(seconds, coalesce=False)
    print(f"agents views, {AGENTS} agents, {RATE} changes/s for {seconds:.0f} s (offscreen)")
    print(f"  the stream and pacing alone: {base:5.1f}% of a core (subtracted below)")
    rows = (
        ("coalesced (the app's path):", ours, changes, repaints),
        ("peer (every change):", peer, peer_changes, peer_repaints),
    )
    for label, cpu, made, painted in rows:
        print(f"  {label:28} {cpu - base:5.1f}% of a core, {made} changes, {painted} repaints")
    ratio = (ours - base) / max(peer - base, 1e-9)
    print(f"  ratio coalesced/peer: {ratio:.2f}  (goal: the views well under the app's 5% budget)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
