"""Wall time of a warm ``claude-watch report daily --json`` (nothing changed since the last scan), next
to a bare interpreter start, in the same run.

Builds a ledger once in a temporary ``CLAUDE_WATCH_HOME`` (or, with ``--real-dirs``, in the platform
directories under a temporary ``HOME``) by a cold scan of the corpus, then runs the
report N times interleaved with ``python -c pass`` on the same interpreter and prints the medians,
their ratio, and the target (issue 4: warm rerun <= 0.05x ccusage's wall, ccusage ~1.7-2.1 s on the
2 GiB corpus, so about 80 ms). Other commands can be timed with ``--args`` (repeatable) or ``--all``.

    .venv/bin/python bench/bench_warm.py [--corpus bench/corpus/2048] [--runs 30]
        [--args "report daily --json --timezone UTC" ...] [--all] [--script] [--real-dirs] [--python PY]
        [--tree DIR]
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TARGET_S = 0.080
DAILY = "report daily --json --timezone UTC"
OTHERS = [
    "report daily --timezone UTC",
    "report monthly --json --timezone UTC",
    "report session --json --timezone UTC",
    "report project --json --timezone UTC",
    "report blocks --json --timezone UTC",
    "export csv --what daily --out - --timezone UTC",
    "export csv --what sessions --out - --timezone UTC",
]


def timed(cmd: list[str], env: dict[str, str], cwd: str) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, env=env, cwd=cwd, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{cmd} failed: rc={done.returncode} err={done.stderr.decode(errors='replace')}")
    return elapsed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", default=str(HERE / "corpus" / "2048"), help="a CLAUDE_CONFIG_DIR")
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument(
        "--args",
        action="append",
        help="claude-watch arguments to time (repeatable; default: report daily --json --timezone UTC)",
    )
    ap.add_argument(
        "--all", action="store_true", help="time every report kind and the CSV exports too (after daily)"
    )
    ap.add_argument(
        "--script", action="store_true", help="run the installed console script instead of python -m trayapp"
    )
    ap.add_argument(
        "--real-dirs",
        action="store_true",
        help="no CLAUDE_WATCH_HOME: the platform directories under a temporary HOME (what users run)",
    )
    ap.add_argument(
        "--python",
        default=sys.executable,
        help="interpreter for both the report and the bare start (e.g. one whose project install is a "
        "plain .pth path, as `pip install -e . --config-settings editable_mode=compat` makes)",
    )
    ap.add_argument(
        "--tree",
        default=str(HERE.parent),
        help="source tree to run (python -m trayapp from there), e.g. an "
        "unpacked older commit for a before/after comparison",
    )
    opts = ap.parse_args()
    corpus = Path(opts.corpus)
    if not (corpus / "projects").is_dir():
        raise SystemExit(f"{corpus} has no projects/ folder: generate it with bench/gen_corpus.py")
    script = Path(opts.python).with_name("claude-watch")
    base = [str(script)] if opts.script else [opts.python, "-m", "trayapp"]
    wanted = opts.args or [DAILY]
    if opts.all:
        wanted += [a for a in OTHERS if a not in wanted]
    cmds = [base + shlex.split(a) for a in wanted]
    bare = [opts.python, "-c", "pass"]
    with tempfile.TemporaryDirectory(prefix="bench-warm-") as home:
        env = dict(os.environ, CLAUDE_WATCH_HOME=home, CLAUDE_CONFIG_DIR=str(corpus), TZ="UTC")
        if opts.real_dirs:
            del env["CLAUDE_WATCH_HOME"]
            env["HOME"] = home
            for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
                env.pop(var, None)
        # Users run with cached bytecode; without this a changed module is compiled on every run.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        cold = timed(cmds[0], env, opts.tree)
        print(f"cold build of the ledger: {cold:.2f} s ({wanted[0]})")
        for cmd in cmds:
            timed(cmd, env, opts.tree)  # warm the page cache and write the bytecode
        warm: list[list[float]] = [[] for _ in cmds]
        interp: list[float] = []
        for _ in range(opts.runs):
            interp.append(timed(bare, env, opts.tree))
            for times, cmd in zip(warm, cmds, strict=True):
                times.append(timed(cmd, env, opts.tree))
    b = statistics.median(interp)
    print(f"runs: {opts.runs}")
    print(f"bare interpreter (python -c pass): median {b * 1000:6.1f} ms")
    for args, times in zip(wanted, warm, strict=True):
        w = statistics.median(times)
        print(
            f"warm {args!r}: median {w * 1000:6.1f} ms  (min {min(times) * 1000:.1f} ms, {w / b:.2f}x bare)"
        )
    w = statistics.median(warm[0])
    print(f"ratio warm / bare interpreter: {w / b:.2f}x")
    verdict = "met" if w <= TARGET_S else "NOT met"
    print(f"target for {wanted[0]!r} <= {TARGET_S * 1000:.0f} ms (0.05x ccusage's ~1.7 s): {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
