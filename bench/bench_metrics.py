"""``/metrics`` render time (issue 18), next to a peer measured in the same run.

A snapshot of 10 accounts x 50 models (3 windows, extra usage, the poller's figures per account;
4 token types, cost and requests per model; sessions, agents, hook events) rendered by
``core.prom_metrics.render``, against ``prometheus_client.generate_latest`` over a registry whose
collector builds the same families and samples from the same snapshot at every scrape (what a
Python exporter built on the reference client would do). Goal: <= 20 ms per render.

    .venv/bin/python bench/bench_metrics.py [--accounts 10] [--models 50] [--runs 200]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from trayapp.core.prom_metrics import (  # noqa: E402
    BY_NAME,
    AccountFigures,
    BuildInfo,
    ExtraUsageFigures,
    MetricsSnapshot,
    WindowFigures,
    render,
)
from trayapp.core.prom_snapshot import HOOK_EVENTS, OUTCOMES, SESSION_STATES  # noqa: E402

TYPES = ("input", "output", "cacheRead", "cacheCreation")


def make_snapshot(accounts: int, models: int) -> MetricsSnapshot:
    figures = []
    for a in range(accounts):
        names = [f"claude-model-{m:02d}-2026{a:02d}" for m in range(models)]
        figures.append(
            AccountFigures(
                account=f"account-{a}",
                windows=tuple(
                    WindowFigures(w, 0.1 * (i + 1), 3600.0 * (i + 1))
                    for i, w in enumerate(("five_hour", "seven_day", "seven_day_opus"))
                ),  # fmt: skip
                extra_usage=ExtraUsageFigures(True, "USD", 12.5, 50.0, 0.25),
                polls={o: i for i, o in enumerate(OUTCOMES)},
                errors={o: False for o in OUTCOMES if o != "ok"},
                cooldown_seconds=0.0,
                next_poll_seconds=120.0,
                consecutive_failures=0,
                last_success_timestamp=1.78e9,
                stale=False,
                tokens={(m, t): 1_000_000 + i for i, m in enumerate(names) for t in TYPES},
                cost_usd={m: 1.25 * i for i, m in enumerate(names)},
                requests={m: 40 + i for i, m in enumerate(names)},
            )
        )
    return MetricsSnapshot(
        build=BuildInfo("1.0.0", "3.11.7", "6.8.0"),
        accounts=tuple(figures),
        sessions={s: 2 for s in SESSION_STATES},
        agents={s: 1 for s in SESSION_STATES},
        hook_events={e: 10 for e in HOOK_EVENTS},
        telemetry_rejected=0,
    )


class SnapshotCollector:
    """The same families and samples for prometheus_client, built from the snapshot per scrape."""

    def __init__(self, snapshot: MetricsSnapshot) -> None:
        self.snapshot = snapshot

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        def family(name: str) -> Any:
            f = BY_NAME[name]
            if f.type == "counter":
                return CounterMetricFamily(name.removesuffix("_total"), f.help, labels=list(f.labels))
            return GaugeMetricFamily(name, f.help, labels=list(f.labels))

        s = self.snapshot
        b = family("claude_watch_build_info")
        b.add_metric([s.build.version, s.build.python, s.build.qt], 1)
        out = {name: family(name) for name in BY_NAME if name != "claude_watch_build_info"}
        for a in s.accounts:
            acc = a.account
            for w in a.windows:
                out["claude_watch_window_utilization_ratio"].add_metric([acc, w.window], w.utilization_ratio)
                out["claude_watch_window_time_to_reset_seconds"].add_metric(
                    [acc, w.window], w.seconds_to_reset
                )
            x = a.extra_usage
            assert x is not None
            out["claude_watch_extra_usage_enabled"].add_metric([acc], float(x.enabled))
            out["claude_watch_extra_usage_used"].add_metric([acc, x.currency], x.used)
            out["claude_watch_extra_usage_limit"].add_metric([acc, x.currency], x.limit)
            out["claude_watch_extra_usage_utilization_ratio"].add_metric([acc], x.utilization_ratio)
            for outcome, count in a.polls.items():
                out["claude_watch_polls_total"].add_metric([acc, outcome], count)
            for kind, shown in a.errors.items():
                out["claude_watch_poll_error"].add_metric([acc, kind], float(shown))
            out["claude_watch_poll_cooldown_seconds"].add_metric([acc], a.cooldown_seconds)
            out["claude_watch_next_poll_seconds"].add_metric([acc], a.next_poll_seconds)
            out["claude_watch_poll_consecutive_failures"].add_metric([acc], a.consecutive_failures)
            out["claude_watch_last_success_timestamp_seconds"].add_metric([acc], a.last_success_timestamp)
            out["claude_watch_reading_stale"].add_metric([acc], float(bool(a.stale)))
            for (model, kind), tokens in a.tokens.items():
                out["claude_watch_telemetry_tokens_total"].add_metric([acc, model, kind], tokens)
            for model, cost in a.cost_usd.items():
                out["claude_watch_telemetry_cost_usd_total"].add_metric([acc, model], cost)
            for model, count in a.requests.items():
                out["claude_watch_telemetry_requests_total"].add_metric([acc, model], count)
        out["claude_watch_telemetry_rejected_posts_total"].add_metric([], s.telemetry_rejected or 0)
        for state, n in s.sessions.items():
            out["claude_watch_sessions"].add_metric([state], n)
        for state, n in s.agents.items():
            out["claude_watch_agents"].add_metric([state], n)
        for event, n in s.hook_events.items():
            out["claude_watch_hook_events_total"].add_metric([event], n)
        yield b
        yield from out.values()


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    fn()  # warm
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=10)
    parser.add_argument("--models", type=int, default=50)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    from prometheus_client import CollectorRegistry, generate_latest

    snap = make_snapshot(args.accounts, args.models)
    text = render(snap)
    series = sum(1 for line in text.splitlines() if line and not line.startswith("#"))
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SnapshotCollector(snap))  # type: ignore[arg-type]
    peer_text = generate_latest(registry).decode()
    peer_series = sum(1 for line in peer_text.splitlines() if line and not line.startswith("#"))
    ours = timed(lambda: render(snap).encode("utf-8"), args.runs)
    peer = timed(lambda: generate_latest(registry), args.runs)

    def p95(values: list[float]) -> float:
        return sorted(values)[int(len(values) * 0.95) - 1]

    print(f"/metrics render, {args.accounts} accounts x {args.models} models: {series} series, "
          f"{len(text.encode()) / 1024:.0f} KiB (peer: {peer_series} series)")  # fmt: skip
    for name, values in (("claude-watch render", ours), ("prometheus_client (peer)", peer)):
        print(f"  {name:26} min {min(values):6.2f} ms   median {statistics.median(values):6.2f} ms   "
              f"p95 {p95(values):6.2f} ms")  # fmt: skip
    ratio = statistics.median(peer) / statistics.median(ours)
    goal = "met" if statistics.median(ours) <= 20 else "MISSED"
    print(f"  ratio: the peer takes {ratio:.1f}x as long; goal (median) <= 20 ms: {goal}")


if __name__ == "__main__":
    main()
