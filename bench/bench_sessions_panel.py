"""Sessions panel and tray badge figures (issue 13), offscreen, each beside a peer in the same run.

1. ``SessionsPanel.set_sessions`` with 20 sessions (rows rebuilt, as on every ``sessions_changed``)
   and the panel painted (``grab``); peer: the same 20 sessions as plain two-line QLabels in a
   QVBoxLayout, rebuilt and painted the same way.
2. The tray icon with the needs-you badge (``make_icon(..., needs_you=2)``); peer: the icon
   without it. And ``Tray.set_needs_you`` with an unchanged count (the icon key says nothing
   changed, so no repaint) against a changed count (a repaint).

    python bench/bench_sessions_panel.py [--runs 30]
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ["QT_QPA_PLATFORM"] = "offscreen"

from PySide6.QtWidgets import QApplication, QLabel, QVBoxLayout, QWidget  # noqa: E402

app = QApplication.instance() or QApplication(["bench"])

from tests.helpers.states import account_state, window_state  # noqa: E402
from trayapp.core.clock import FakeClock  # noqa: E402
from trayapp.core.sessions import Session, SessionState  # noqa: E402
from trayapp.ui.icon import make_icon  # noqa: E402
from trayapp.ui.panels.sessions import SessionsPanel, detail_text  # noqa: E402
from trayapp.ui.tray import Tray  # noqa: E402

NOW = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
STATES = list(SessionState)


def sessions(n: int) -> list[Session]:
    return [
        Session(
            f"s{i}",
            STATES[i % len(STATES)],
            f"project-{i}",
            f"/w/project-{i}",
            1000 + i,
            None,
            "Opus 4.8",
            NOW - timedelta(hours=1),
            NOW,
            NOW - timedelta(minutes=i),
            float(i * 4 % 100),
            0.25 * i,
            needs_you_reason="Allow Bash: make test" if i % len(STATES) == 1 else None,
        )  # fmt: skip
        for i in range(n)
    ]


def paired_ms(ours: Callable[[], object], peer: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median milliseconds of each, run alternately so drift and warm-up hit both alike."""
    times: tuple[list[float], list[float]] = ([], [])
    for i in range(runs + 1):
        for fn, into in ((ours, times[0]), (peer, times[1])):
            t = time.perf_counter()
            fn()
            app.processEvents()
            if i:  # the first round warms up
                into.append((time.perf_counter() - t) * 1000)
    return statistics.median(times[0]), statistics.median(times[1])


class PeerList(QWidget):
    """Two plain labels a session in a QVBoxLayout: the least a list of sessions costs."""

    def __init__(self) -> None:
        super().__init__()
        self.box = QVBoxLayout(self)
        self.labels: list[QLabel] = []

    def set_sessions(self, items: list[Session]) -> None:
        for label in self.labels:
            self.box.removeWidget(label)
            label.deleteLater()
        self.labels = []
        for s in items:
            for text in (s.project, detail_text(s, NOW)):
                label = QLabel(text)
                self.box.addWidget(label)
                label.show()
                self.labels.append(label)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    twenty = sessions(20)
    lists = itertools.cycle([twenty, twenty[::-1]])  # a different list each time: a real rebuild
    panel = SessionsPanel(FakeClock(NOW))
    panel.resize(380, 600)
    panel.show()
    peer = PeerList()
    peer.resize(380, 600)
    peer.show()
    ours, base = paired_ms(
        lambda: (panel.set_sessions(next(lists)), panel.grab()),
        lambda: (peer.set_sessions(twenty), peer.grab()),
        args.runs,
    )
    print(
        f"panel, 20 sessions set + painted: {ours:.1f} ms (peer plain labels {base:.1f} ms, "
        f"x{ours / base:.1f})"
    )

    state = account_state(window_state("five_hour", 34.0), now=NOW)
    badged, plain = paired_ms(lambda: make_icon(state, needs_you=2), lambda: make_icon(state), args.runs)
    print(f"tray icon with the badge: {badged:.2f} ms (peer without {plain:.2f} ms, x{badged / plain:.2f})")
    tray = Tray(FakeClock(NOW))
    tray.set_state(state)
    counts = iter(range(1, 10**6))
    same, changed = paired_ms(
        lambda: tray.set_needs_you(tray.needs_you), lambda: tray.set_needs_you(next(counts)), args.runs
    )
    print(f"set_needs_you, same count: {same:.3f} ms (peer: a changed count, repainted, {changed:.2f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
