"""Wall time of ``claude-watch statusline`` next to a bare interpreter start, in the same run.

Runs the installed console script (the command Claude Code would run) with a full statusline
stdin (Claude Code 2.1.220 shape, with rate limits) N times, interleaved with ``python -c pass``
on the same interpreter, and prints p50/p95 of both and their ratio. The goal is p95 <= 3x the
bare start. The app's directories are the real platform ones under a temporary HOME (so the
fast directory lookup without platformdirs is exercised), and a settings file is present (so
the TOML read is included).

    .venv/bin/python bench/bench_statusline.py [--runs 200]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PAYLOAD = {
    "cwd": "/home/alice/code/webapp",
    "session_id": "0f8e2c1a-7b3d-4c5e-9a61-2d4b8e6f1a01",
    "session_name": "Dark-mode toggle",
    "transcript_path": "/home/alice/.claude/projects/-home-alice-code-webapp/0f8e2c1a.jsonl",
    "model": {"id": "claude-opus-4-8", "display_name": "Opus 4.8"},
    "workspace": {"current_dir": "/home/alice/code/webapp", "project_dir": "/home/alice/code/webapp"},
    "version": "2.1.220",
    "output_style": {"name": "default"},
    "cost": {
        "total_cost_usd": 0.4215325,
        "total_duration_ms": 1017394,
        "total_api_duration_ms": 61230,
        "total_lines_added": 48,
        "total_lines_removed": 6,
    },
    "context_window": {
        "total_input_tokens": 30382,
        "total_output_tokens": 612,
        "context_window_size": 1000000,
        "used_percentage": 3,
        "remaining_percentage": 97,
        "current_usage": {
            "input_tokens": 2,
            "output_tokens": 612,
            "cache_creation_input_tokens": 1880,
            "cache_read_input_tokens": 28500,
        },
    },
    "exceeds_200k_tokens": False,
    "rate_limits": {
        "five_hour": {"used_percentage": 37, "resets_at": int(time.time()) + 3 * 3600},
        "seven_day": {"used_percentage": 22.5, "resets_at": int(time.time()) + 4 * 86400},
    },
}


def command() -> list[str]:
    script = Path(sys.executable).with_name("claude-watch")
    if script.exists():
        return [str(script), "statusline"]
    found = shutil.which("claude-watch")
    return [found, "statusline"] if found else [sys.executable, "-m", "trayapp", "statusline"]


def timed(cmd: list[str], stdin: bytes, env: dict[str, str], expect_output: bool = True) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, input=stdin, capture_output=True, env=env, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0 or (expect_output and not done.stdout.strip()) or done.stderr:
        raise SystemExit(f"{cmd} failed: rc={done.returncode} out={done.stdout!r} err={done.stderr!r}")
    return elapsed


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cw-bench-") as home:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "CLAUDE_WATCH_"))}
        env.update(HOME=home, NO_COLOR="")
        config = Path(home) / ".config" / "claude-watch"
        config.mkdir(parents=True)
        (config / "settings.toml").write_text(
            '[statusline]\nsegments = ["model", "five_hour", "seven_day", "session_cost", "context"]\n'
        )
        stdin = json.dumps(PAYLOAD).encode()
        ours, bare = command(), [sys.executable, "-c", "pass"]
        print(f"statusline: {' '.join(ours)}")
        print(f"bare:       {' '.join(bare)}")
        print(
            "line:      ",
            subprocess.run(ours, input=stdin, capture_output=True, env=env, check=True)
            .stdout.decode()
            .strip(),
        )
        for _ in range(5):  # warm the page cache and .pyc files
            timed(ours, stdin, env)
            timed(bare, b"", env, expect_output=False)
        t_ours: list[float] = []
        t_bare: list[float] = []
        for _ in range(args.runs):  # interleaved, so load changes hit both alike
            t_bare.append(timed(bare, b"", env, expect_output=False))
            t_ours.append(timed(ours, stdin, env))
        captured = list(
            (Path(home) / ".local" / "state" / "claude-watch" / "statusline" / "sessions").glob("*.json")
        )
        assert captured, "no capture written"
    b50, b95 = statistics.median(t_bare) * 1000, p95(t_bare) * 1000
    o50, o95 = statistics.median(t_ours) * 1000, p95(t_ours) * 1000
    print(f"runs: {args.runs} each, interleaved")
    print(f"bare python -c pass     p50 {b50:5.1f} ms   p95 {b95:7.1f} ms")
    print(f"claude-watch statusline p50 {o50:5.1f} ms   p95 {o95:7.1f} ms")
    print(f"ratio statusline/bare   p50 {o50 / b50:5.2f}x    p95 {o95 / b95:7.2f}x   (goal: p95 <= 3x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
