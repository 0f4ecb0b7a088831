"""The stream-json line parser (issue 15; the agents issue wants >= 50,000 lines/s) against a bare
``json.loads`` of the same lines, measured in the same run.

A realistic agent stream: for every turn a tool-using ``assistant`` line, a ``user`` tool result,
a text ``assistant`` line and a ``rate_limit_event``; a ``system`` init and a ``result`` at the
ends. Figures: lines per second for :func:`trayapp.core.stream_json.parse_lines` and for the bare
peer, and their ratio (the typed events' cost over parsing alone).

    .venv/bin/python bench/bench_stream_json.py [--lines 100000] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from trayapp.core.stream_json import ParseError, parse_lines  # noqa: E402

GOAL = 50_000  # lines per second


def stream(n: int) -> list[str]:
    sid = "8129eebb-0f2f-4067-af9c-d189154b6617"
    usage = {
        "input_tokens": 3,
        "cache_creation_input_tokens": 9988,
        "cache_read_input_tokens": 120,
        "output_tokens": 40,
    }
    turn = [
        {
            "type": "assistant",
            "session_id": sid,
            "message": {
                "model": "claude-sonnet-4-6",
                "usage": usage,
                "content": [
                    {"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"command": "ls -la src/"}}
                ],
            },
        },
        {
            "type": "user",
            "session_id": sid,
            "message": {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_1", "content": "a.py\nb.py\n" * 20}
                ],
            },
        },
        {
            "type": "assistant",
            "session_id": sid,
            "message": {
                "model": "claude-sonnet-4-6",
                "usage": usage,
                "content": [{"type": "text", "text": "The folder holds two modules; " * 8}],
            },
        },
        {
            "type": "rate_limit_event",
            "session_id": sid,
            "rate_limit_info": {
                "status": "allowed",
                "resetsAt": 1788513600,
                "rateLimitType": "five_hour",
                "isUsingOverage": False,
            },
        },
    ]
    lines = [
        json.dumps(
            {
                "type": "system",
                "subtype": "init",
                "session_id": sid,
                "model": "claude-sonnet-4-6",
                "cwd": "/src",
                "tools": ["Bash", "Read"],
            }
        )
    ]
    encoded = [json.dumps(obj) for obj in turn]
    while len(lines) < n - 1:
        lines.extend(encoded)
    lines = lines[: n - 1]
    lines.append(
        json.dumps(
            {
                "type": "result",
                "subtype": "success",
                "is_error": False,
                "usage": usage,
                "total_cost_usd": 1.25,
                "duration_ms": 90000,
                "num_turns": n // 4,
            }
        )
    )
    return lines


def rate(fn, lines: list[str], runs: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn(lines)
        times.append(time.perf_counter() - start)
    return len(lines) / statistics.median(times)


def ours(lines: list[str]) -> None:
    for event in parse_lines(lines):
        if isinstance(event, ParseError):
            raise SystemExit(f"bench stream did not parse: {event}")


def peer(lines: list[str]) -> None:
    for line in lines:
        json.loads(line)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lines", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    lines = stream(args.lines)
    size = sum(len(x) for x in lines) / 1e6
    ours_rate = rate(ours, lines, args.runs)
    peer_rate = rate(peer, lines, args.runs)
    print(f"stream-json parser: {args.lines} lines ({size:.1f} MB), median of {args.runs} runs")
    print(f"  parse_lines (typed events) {ours_rate:12,.0f} lines/s   goal >= {GOAL:,} lines/s")
    print(f"  bare json.loads (peer)     {peer_rate:12,.0f} lines/s")
    verdict = "meets" if ours_rate >= GOAL else "MISSES"
    print(f"  ratio ours/peer            {ours_rate / peer_rate:12.2f}x  ({verdict} the goal)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
