"""Package figures: sizes, and the frozen app against the virtual-environment app in one run.

Prints, each next to its goal (issue 12) and never asserting:

- installed size (the .deb's Installed-Size, and ``du`` of the bundle; goal <= 150 MB) and the
  .deb's file size (goal <= 60 MB);
- start to tray icon of the installed app (the .deb's payload extracted with ``dpkg-deb -x``,
  frozen) against the venv's ``claude-watch``, interleaved in the same run (goal <= 1.2x);
- idle RSS of the frozen app against a bare PySide6 tray (goal <= 1.25x), the venv app alongside;
- ``statusline`` of the frozen app against the venv's, interleaved (goal <= 2.5x).

It uses what ``make package`` left in ``dist/`` (``--build`` runs it first, as it does when
``dist/`` has no bundle). Start-up and RSS need the private desktop session for a real tray
(``make bench-package`` runs this inside ``tests/integration/with-services.sh``); without one the
start is timed from the app's log line on the offscreen platform.

    python bench/bench_package.py [--runs 5] [--statusline-runs 100] [--build]
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

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from bench_statusline import PAYLOAD, p95, timed  # noqa: E402
from bench_tray import PEER, env_for, have_tray, rss_mb, start, stop  # noqa: E402

DIST = REPO / "dist"
MIB = 1024 * 1024


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "n/a"


def venv_command() -> list[str]:
    script = Path(sys.executable).with_name("claude-watch")
    return [str(script)] if script.exists() else [sys.executable, "-m", "trayapp"]


def find_deb() -> Path | None:
    debs = sorted(DIST.glob("claude-watch_*_amd64.deb"), key=lambda p: p.stat().st_mtime)
    return debs[-1] if debs else None


def du_bytes(path: Path) -> int:
    """Disk usage as ``du -s`` counts it (allocated blocks, hard links once)."""
    out = subprocess.run(["du", "-s", "--block-size=1", str(path)], capture_output=True, text=True)
    return int(out.stdout.split()[0])


def sizes(deb: Path | None, bundle: Path) -> None:
    print(f"bundle {bundle}: {du_bytes(bundle) / MIB:.1f} MB on disk (du)")
    if deb is None:
        print("no .deb in dist/: installed size is the bundle's")
        return
    field = subprocess.run(
        ["dpkg-deb", "-f", str(deb), "Installed-Size"], capture_output=True, text=True, check=True
    ).stdout.strip()
    installed = int(field) * 1024
    print(f"installed size (.deb Installed-Size): {installed / MIB:.1f} MB (goal <= 150 MB)")
    members = subprocess.run(["ar", "t", str(deb)], capture_output=True, text=True).stdout.split()
    data = next((m for m in members if m.startswith("data.tar")), "data.tar.?")
    note = "" if data.endswith(".xz") else " (not the release's xz: DEB_COMPRESS=zstd, as the smoke builds)"
    print(f".deb {deb.name}: {deb.stat().st_size / MIB:.1f} MB, {data}{note} (goal <= 60 MB)")


def start_figures(frozen: Path, runs: int, tmp: Path) -> None:
    from tests.helpers.app_process import UsageServer, usage_body
    from trayapp.demo import write_demo_credentials

    real = have_tray()
    print(f"platform: {'xcb + system tray (icon window)' if real else 'offscreen (log marker)'}")
    server = UsageServer(usage_body(five_hour=34.0))
    claude = tmp / "claude"
    claude.mkdir()
    write_demo_credentials(claude)
    commands = {"frozen": [str(frozen)], "venv": venv_command()}
    times: dict[str, list[float]] = {name: [] for name in commands}
    try:
        for i in range(runs):  # interleaved, so load changes hit both alike
            for name, cmd in commands.items():
                env = env_for(tmp / f"home-{name}-{i}", real, server.base_url, claude)
                proc, secs = start(cmd, env, real, "Claude Watch running")
                times[name].append(secs)
                stop(proc)
        a, b = statistics.median(times["frozen"]), statistics.median(times["venv"])
        print(
            f"start to tray icon: frozen {a:.3f} s, venv {b:.3f} s (medians of {runs}); "
            f"ratio {ratio(a, b)} (goal <= 1.2x)"
        )
        rss: dict[str, float] = {}
        idle = {**commands, "peer": [sys.executable, "-c", PEER]}
        for name, cmd in idle.items():  # one at a time: the icon check sees any icon in the panel
            env = env_for(tmp / f"idle-{name}", real, server.base_url, claude)
            marker = "tray shown" if name == "peer" else "Claude Watch running"
            proc, _ = start(cmd, env, real, marker)
            time.sleep(10)  # first poll, history load, imports settle
            rss[name] = rss_mb(proc.pid)
            stop(proc)
    finally:
        server.stop()
    print(
        f"idle RSS at +10 s: frozen {rss['frozen']:.1f} MB, bare PySide6 tray {rss['peer']:.1f} MB; "
        f"ratio {ratio(rss['frozen'], rss['peer'])} (goal <= 1.25x); venv app {rss['venv']:.1f} MB"
    )


def statusline_figures(frozen: Path, runs: int, tmp: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "CLAUDE_WATCH_"))}
    env.update(HOME=str(tmp / "statusline-home"), NO_COLOR="")
    config = tmp / "statusline-home" / ".config" / "claude-watch"
    config.mkdir(parents=True)
    (config / "settings.toml").write_text(
        '[statusline]\nsegments = ["model", "five_hour", "seven_day", "session_cost", "context"]\n'
    )
    stdin = json.dumps(PAYLOAD).encode()
    commands = {"frozen": [str(frozen), "statusline"], "venv": [*venv_command(), "statusline"]}
    for cmd in commands.values():
        for _ in range(5):  # warm the page cache and .pyc files
            timed(cmd, stdin, env)
    t: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, cmd in commands.items():
            t[name].append(timed(cmd, stdin, env))
    f50, v50 = statistics.median(t["frozen"]) * 1000, statistics.median(t["venv"]) * 1000
    f95, v95 = p95(t["frozen"]) * 1000, p95(t["venv"]) * 1000
    print(
        f"statusline ({runs} runs each, interleaved): frozen p50 {f50:.1f} ms p95 {f95:.1f} ms, "
        f"venv p50 {v50:.1f} ms p95 {v95:.1f} ms; ratio p50 {ratio(f50, v50)} p95 {ratio(f95, v95)} "
        f"(goal <= 2.5x)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--statusline-runs", type=int, default=100)
    parser.add_argument("--build", action="store_true", help="run `make package` first")
    args = parser.parse_args()
    if args.build or not (DIST / "claude-watch" / "claude-watch").exists():
        subprocess.run(["make", "-C", str(REPO), "package"], check=True)
    deb = find_deb()
    with tempfile.TemporaryDirectory(prefix="cw-bench-pkg-") as name:
        tmp = Path(name)
        if deb is not None and shutil.which("dpkg-deb"):
            subprocess.run(["dpkg-deb", "-x", str(deb), str(tmp / "root")], check=True)
            bundle = tmp / "root" / "usr" / "lib" / "claude-watch"
        else:
            bundle = DIST / "claude-watch"
        sizes(deb, bundle)
        frozen = bundle / "claude-watch"
        print(f"frozen: {frozen}\nvenv:   {' '.join(venv_command())}")
        start_figures(frozen, args.runs, tmp)
        statusline_figures(frozen, args.statusline_runs, tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
