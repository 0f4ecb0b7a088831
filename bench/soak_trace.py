"""Run the tray app under tracemalloc for ``bench_soak.py --tracemalloc`` (never in normal runs).

    python bench/soak_trace.py OUT_DIR [app arguments...]

Starts tracemalloc before the app imports anything, then runs ``python -m trayapp`` with the
remaining arguments. A daemon thread watches OUT_DIR: when the bench creates ``<name>.request`` it
dumps a snapshot to ``<name>.snap`` and then creates ``<name>.done``. A thread (not a signal
handler) so the snapshot does not wait for the Qt event loop to run Python code, and so the app
needs no hook of its own.
"""

from __future__ import annotations

import os
import runpy
import sys
import threading
import time
import tracemalloc
from pathlib import Path

FRAMES = int(os.environ.get("CLAUDE_WATCH_TRACEMALLOC_FRAMES", "8"))


def _watch(out: Path) -> None:
    while True:
        for req in sorted(out.glob("*.request")):
            name = req.stem
            req.unlink()
            tracemalloc.take_snapshot().dump(str(out / f"{name}.snap"))
            (out / f"{name}.done").write_text(str(tracemalloc.get_traced_memory()))
        time.sleep(0.5)


def main() -> None:
    out = Path(sys.argv[1])
    tracemalloc.start(FRAMES)
    threading.Thread(target=_watch, args=(out,), name="soak-trace", daemon=True).start()
    sys.argv = ["trayapp", *sys.argv[2:]]
    runpy.run_module("trayapp", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
