"""Import time of ``trayapp`` modules: an ``-X importtime`` summary, top cumulative first.

Imports each entry point in a fresh interpreter with ``-X importtime`` and prints the total,
the trayapp modules with the largest cumulative time, and the heaviest third-party packages
they pull in. Entry points: the CLI dispatcher, the ``status`` path (engine, client, store),
the ``doctor`` command and the Qt usage service.

    .venv/bin/python bench/bench_import.py [--top 12] [--module trayapp.x ...]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys

DEFAULT_MODULES = [
    "trayapp.__main__",
    "trayapp.cli.status",
    "trayapp.services.usage_engine",
    "trayapp.cli.doctor",
    "trayapp.services.usage_service",
]
LINE = re.compile(r"import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s*)(\S+)")


def profile(module: str) -> list[tuple[int, int, int, str]]:
    """(self_us, cumulative_us, depth, name) for every import in a fresh interpreter."""
    env = dict(os.environ)
    env.pop("PYTHONPROFILEIMPORTTIME", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # cached bytecode, as an installed app has
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"import {module} failed: {proc.stderr[-400:]}")
    rows = []
    for line in proc.stderr.splitlines():
        m = LINE.match(line)
        if m:
            rows.append((int(m.group(1)), int(m.group(2)), len(m.group(3)) // 2, m.group(4)))
    return rows


def wall(module: str, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        proc = subprocess.run(
            [
                sys.executable,
                "-c",
                f"import time; t=time.perf_counter(); import {module}; print(time.perf_counter()-t)",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        times.append(float(proc.stdout.strip()))
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description="-X importtime summary of trayapp modules")
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--module", action="append", help="module to import (repeatable)")
    args = parser.parse_args()
    for module in args.module or DEFAULT_MODULES:
        rows = profile(module)
        total = sum(r[0] for r in rows)
        took = wall(module) * 1000
        print(f"\nimport {module}: {total / 1000:.0f} ms total by -X importtime, {took:.0f} ms wall")
        ours = sorted((r for r in rows if r[3].startswith("trayapp")), key=lambda r: -r[1])[: args.top]
        print(f"  {'trayapp module':45} {'cumul':>9} {'self':>9}")
        for self_us, cum_us, _, name in ours:
            print(f"  {name:45} {cum_us / 1000:7.1f} ms {self_us / 1000:7.1f} ms")
        third = {}
        for _self, cum_us, _depth, name in rows:
            top = name.split(".")[0]
            if top != "trayapp" and "." not in name:
                third[top] = max(third.get(top, 0), cum_us)
        heavy = sorted(third.items(), key=lambda kv: -kv[1])[: args.top // 2]
        print("  heaviest top-level packages: " + ", ".join(f"{k} {v / 1000:.0f} ms" for k, v in heavy))


if __name__ == "__main__":
    main()
