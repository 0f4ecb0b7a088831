"""The running tray app, idle, has not imported what only a first use needs (issue 20, idle RSS).

The real app (``python -m trayapp``, offscreen, a fresh home, no agent run, no OTLP post) is
asked for its ``sys.modules`` a moment after it logs "Claude Watch running": every feature is
attached and started by then (the local server and its telemetry store open, the agents queue
started). What must not be there:

- the Agents window and the "New agent" dialog (the window loads when first opened; the feature
  keeps its list, titles and log reads in ``core.agent_list``);
- protobuf and the generated OpenTelemetry modules (loaded with the first protobuf post, some 4 MB),
  and msgspec (the first OTLP/JSON post, or a transcript scan in its worker process; 2 MB);
- the Anthropic SDK (quips load it only to write one);
- importlib.metadata (the tray's About line reads the version when the menu first opens) and
  statistics (with decimal and fractions).

Offscreen there is no tray, so the dashboard opens as a window at start: the popup and its Agents
section (``ui.agents_rows``) are legitimately loaded here, and not checked.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

PROBE = textwrap.dedent(
    """
    import logging, os, sys, threading

    def dump():
        import linecache
        names = sorted(k for k, v in list(sys.modules.items()) if v is not None)
        print("MODULES " + " ".join(names), flush=True)
        print("LINECACHE " + " ".join(sorted(linecache.cache)), flush=True)
        os._exit(0)

    class Running(logging.Handler):
        def emit(self, record):
            if record.getMessage().startswith("Claude Watch running"):
                threading.Timer(1.5, dump).start()  # the first coalesced updates and timers ran

    logging.getLogger().addHandler(Running())
    threading.Timer(60, lambda: (print("TIMEOUT", flush=True), os._exit(3))).start()
    sys.argv = ["claude-watch"]
    from trayapp.__main__ import main
    main()
    """
)

NEVER_AT_IDLE = (
    "trayapp.ui.agents_window",
    "trayapp.ui.agents_dialog",
    "google.protobuf",
    "opentelemetry.proto",
    "msgspec",
    "anthropic",
    "importlib.metadata",  # the version, read when the tray menu first opens (over 1 MB resident)
    "statistics",  # decimal and fractions come with it (0.7 MB); the agents' median is local
)


def idle_report() -> dict[str, set[str]]:
    env_extra = {"QT_QPA_PLATFORM": "offscreen", "QT_LOGGING_RULES": "*.debug=false;qt.qpa.*=false"}
    env = {**os.environ, **env_extra}
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=REPO, env=env, capture_output=True, text=True, timeout=90
    )
    report = {ln.split(" ", 1)[0]: set(ln.split()[1:]) for ln in out.stdout.splitlines() if " " in ln}
    assert "MODULES" in report, (
        f"the app never reported its modules:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}"
    )
    return report


def test_idle_app_has_not_loaded_first_use_modules() -> None:
    report = idle_report()
    modules = report["MODULES"]
    assert "trayapp.features.agents" in modules
    assert "trayapp.services.telemetry_service" in modules
    assert "trayapp.core.agent_list" in modules  # the feature's list, without the window
    loaded = sorted(m for m in modules if any(m == n or m.startswith(n + ".") for n in NEVER_AT_IDLE))
    assert not loaded, f"imported at idle though only a first use needs them: {loaded}"
    # PySide6's import hook reads the source of modules imported after Qt; the app patches it
    # (platform.pyside_feature_scan, applied by importing trayapp.ui) before anything else loads
    # Qt, so no source of the app, asyncio or qasync is kept in linecache (1.7 MB when it was).
    cached = sorted(
        f for f in report.get("LINECACHE", set()) if "/trayapp/" in f or "asyncio" in f or "qasync" in f
    )
    assert not cached, f"sources kept in linecache: {cached}"
