"""Memory over time: the tray app in demo mode (accelerated time: a 5-hour window passes in ten
minutes, a poll every few seconds, resets, alerts, the dashboard open and repainting) next to a bare
PySide6 tray, both sampled every ``--every`` seconds for ``--minutes``.

Prints each process's resident memory at the start and end of the measured span, the slope of a
least-squares line through the samples after the warm-up (MB per hour), and the app's thread and
file-descriptor counts at both ends (a leak of either shows there first). Goal (issue 20): the
app's slope flat within noise, i.e. no larger than the bare tray's slope plus the noise of the
samples. Never asserts.

    python bench/bench_soak.py [--minutes 60] [--every 10] [--warmup 5] [--tracemalloc]

``--tracemalloc`` runs the app under ``bench/soak_trace.py`` (tracemalloc from the first import, 8
frames), takes a snapshot after the warm-up and one at the end, and prints the 15 sites whose
Python allocations grew most in between, by line and by traceback. Tracing slows the app and adds
its own memory, so the RSS figures of such a run are not comparable with a plain one.

Run it inside the private desktop session for a real tray (``make bench-soak`` does); without a
tray it uses the offscreen platform (no tray icon, the dashboard as a window).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from bench_tray import PEER, env_for, have_tray, rss_mb, start, stop  # noqa: E402


def slope_per_hour(samples: list[tuple[float, float]]) -> tuple[float, float]:
    """Least-squares slope of (seconds, MB) in MB per hour, and the residuals' standard deviation."""
    if len(samples) < 3:
        return float("nan"), float("nan")
    xs = [t for t, _ in samples]
    ys = [m for _, m in samples]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx
    residuals = [y - (my + slope * (x - mx)) for x, y in zip(xs, ys, strict=True)]
    return slope * 3600, statistics.pstdev(residuals)


def count(pid: int, what: str) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/{what}"))
    except OSError:
        return -1


def anon_mb(pid: int) -> float:
    """Anonymous resident memory (heaps, Python's arenas): a leak grows this, not the file-backed
    part (library pages touched late, fonts, the page cache of mapped files)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            return next(int(ln.split()[1]) for ln in f if ln.startswith("Anonymous:")) / 1024
    except (OSError, StopIteration):
        return float("nan")


def snapshot(out: Path, name: str, app_pid: int) -> Path:
    """Ask the traced app (``soak_trace.py``) for a snapshot and wait for it to be written."""
    (out / f"{name}.request").write_text("")
    done = out / f"{name}.done"
    deadline = time.monotonic() + 300
    while not done.exists():
        if time.monotonic() > deadline or not Path(f"/proc/{app_pid}").exists():
            raise RuntimeError(f"no {name} snapshot from the app")
        time.sleep(0.5)
    return out / f"{name}.snap"


def print_growth(first: Path, last: Path, top: int = 15) -> None:
    """The ``top`` sites whose traced memory grew most between two snapshots."""
    skip = [
        tracemalloc.Filter(False, "<frozen importlib._bootstrap>"),
        tracemalloc.Filter(False, "<frozen importlib._bootstrap_external>"),
        tracemalloc.Filter(False, tracemalloc.__file__),
        tracemalloc.Filter(False, "<unknown>"),
    ]
    a = tracemalloc.Snapshot.load(str(first)).filter_traces(skip)
    b = tracemalloc.Snapshot.load(str(last)).filter_traces(skip)
    total_a = sum(s.size for s in a.statistics("filename"))
    total_b = sum(s.size for s in b.statistics("filename"))
    print(
        f"tracemalloc: Python heap traced {total_a / 2**20:.2f} -> {total_b / 2**20:.2f} MB "
        f"({(total_b - total_a) / 2**20:+.2f} MB)"
    )
    print(f"top {top} growth by line:")
    for stat in b.compare_to(a, "lineno")[:top]:
        print(f"  {stat.size_diff / 1024:+9.1f} KiB {stat.count_diff:+7d} blocks  {stat.traceback[0]}")
    print(f"top {top} growth by traceback (innermost frame last):")
    for stat in b.compare_to(a, "traceback")[:top]:
        print(f"  {stat.size_diff / 1024:+9.1f} KiB {stat.count_diff:+7d} blocks")
        for frame in stat.traceback.format()[-8:]:
            print(f"      {frame.strip()}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=60.0, help="measured span after the warm-up")
    ap.add_argument("--every", type=float, default=10.0, help="seconds between samples")
    ap.add_argument("--warmup", type=float, default=5.0, help="minutes before sampling starts")
    ap.add_argument(
        "--no-dashboard",
        action="store_true",
        help="keep the dashboard closed (its 24-hour chart holds every reading of the accelerated demo, "
        "about 900 an hour, so with it open memory grows with the data)",
    )
    ap.add_argument(
        "--tracemalloc",
        action="store_true",
        help="run the app under tracemalloc and print the top 15 growth sites after the warm-up",
    )
    opts = ap.parse_args()
    real = have_tray()
    shown = "closed" if opts.no_dashboard else "open"
    print(f"platform: {'xcb + system tray' if real else 'offscreen'}; demo mode, dashboard {shown}")
    with tempfile.TemporaryDirectory(prefix="cw-soak-") as tmp:
        claude = Path(tmp) / "claude"
        claude.mkdir()
        env = env_for(Path(tmp) / "home", real, "http://127.0.0.1:9", claude)
        if not opts.no_dashboard:
            env["CLAUDE_WATCH_SHOW_DASHBOARD"] = "1"
        trace_dir = Path(tmp) / "trace"
        trace_dir.mkdir()
        cmd = [sys.executable, "-m", "trayapp", "--demo"]
        if opts.tracemalloc:
            cmd = [sys.executable, str(HERE / "soak_trace.py"), str(trace_dir), "--demo"]
        app, _ = start(cmd, env, real, "Claude Watch running")
        peer, _ = start([sys.executable, "-c", PEER], env, real, "tray shown")
        try:
            time.sleep(opts.warmup * 60)
            if opts.tracemalloc:
                snap_first = snapshot(trace_dir, "first", app.pid)
            t0 = time.monotonic()
            ours: list[tuple[float, float]] = []
            theirs: list[tuple[float, float]] = []
            anon: list[tuple[float, float]] = []
            first = (count(app.pid, "task"), count(app.pid, "fd"))
            while (now := time.monotonic()) - t0 <= opts.minutes * 60:
                if app.poll() is not None:
                    print(f"the app exited early (status {app.returncode})")
                    return 1
                ours.append((now - t0, rss_mb(app.pid)))
                theirs.append((now - t0, rss_mb(peer.pid)))
                anon.append((now - t0, anon_mb(app.pid)))
                time.sleep(opts.every)
            last = (count(app.pid, "task"), count(app.pid, "fd"))
            if opts.tracemalloc:
                print_growth(snap_first, snapshot(trace_dir, "last", app.pid))
        finally:
            stop(app)
            stop(peer)
    a_slope, a_noise = slope_per_hour(ours)
    p_slope, p_noise = slope_per_hour(theirs)
    n_slope, n_noise = slope_per_hour(anon)
    span = ours[-1][0] / 60 if ours else 0.0
    print(f"measured {span:.0f} min after a {opts.warmup:.0f} min warm-up, {len(ours)} samples")
    print(
        f"app: {ours[0][1]:.1f} -> {ours[-1][1]:.1f} MB, slope {a_slope:+.2f} MB/h "
        f"(residual noise {a_noise:.2f} MB); threads {first[0]} -> {last[0]}, fds {first[1]} -> {last[1]}"
    )
    print(
        f"  of which anonymous (heaps, arenas): {anon[0][1]:.1f} -> {anon[-1][1]:.1f} MB, slope "
        f"{n_slope:+.2f} MB/h (noise {n_noise:.2f} MB); the rest is file-backed pages"
    )
    print(
        f"bare PySide6 tray: {theirs[0][1]:.1f} -> {theirs[-1][1]:.1f} MB, slope {p_slope:+.2f} MB/h "
        f"(noise {p_noise:.2f} MB)"
    )
    growth = a_slope * span / 60
    verdict = "flat within noise" if abs(growth) <= max(2 * a_noise, 0.5) else "NOT flat"
    print(f"app growth over the span from the slope: {growth:+.2f} MB: {verdict} (goal: flat within noise)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
