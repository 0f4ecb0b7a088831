"""The live-sessions popup panel, fed from real capture files through a worker thread."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from trayapp.core.clock import FakeClock
from trayapp.core.models import Level
from trayapp.sources.statusline_capture import LiveSession
from trayapp.statusline import capture, parse
from trayapp.ui.panels.live_sessions import EMPTY_TEXT, ContextBar, LiveSessionsPanel, detail_text
from trayapp.ui.theme import DARK, LIGHT

from .support import FULL


def write(state: Path, payload: dict, at: float) -> None:  # type: ignore[type-arg]
    cap = parse.normalize(payload, at, [])
    day, start = capture.local_day(at)
    capture.write_session(str(state), cap, day, start)


def test_detail_text() -> None:
    s = LiveSession(
        "id",
        datetime.now(UTC),
        "webapp",
        "/x/webapp",
        None,
        "Opus",
        "2.1",
        42.4,
        1,
        2,
        1.234,
        timedelta(minutes=65),
        48,
        6,
        None,
    )
    # The popup's duration wording (core.humanize), not a compact "1h05m" of its own.
    assert detail_text(s) == "ctx 42% · $1.23 · 1 h 5 min · +48 \u22126"


def test_context_bar_takes_its_colours_from_the_popup_theme(qtbot) -> None:  # type: ignore[no-untyped-def]
    bar = ContextBar()
    qtbot.addWidget(bar)
    bar.set_percent(95)
    assert bar.colour().name() == LIGHT.levels[Level.CRITICAL]
    bar.set_theme(DARK)  # the dark popup: its own, brighter level colours
    assert bar.colour().name() == DARK.levels[Level.CRITICAL]
    bar.set_percent(10)
    assert bar.colour().name() == DARK.levels[Level.OK]


def test_panel_lists_live_sessions_from_disk(qtbot, state_dir: Path) -> None:  # type: ignore[no-untyped-def]
    now = time.time()
    write(state_dir, json.loads(FULL.read_text()), now - 20)
    other = json.loads(FULL.read_text())
    other.update(session_id="b", cwd="/w/api", workspace={"project_dir": "/w/api"})
    write(state_dir, other, now - 5)
    clock = FakeClock(datetime.fromtimestamp(now, UTC))
    panel = LiveSessionsPanel(clock=clock)
    qtbot.addWidget(panel)
    assert panel.empty.text() == EMPTY_TEXT
    with qtbot.waitSignal(panel.sessions_loaded, timeout=5000):
        panel.refresh()
    qtbot.waitUntil(lambda: len(panel.rows) == 2, timeout=5000)
    assert [r.title.text() for r in panel.rows] == ["api", "webapp"]
    row = panel.rows[1]
    assert row.model.text() == "Opus 4.8"
    assert row.detail.text() == "ctx 3% · $0.42 · 16 min · +48 \u22126"
    assert row.bar.percent == 3
    assert panel.empty.isHidden()
    assert panel.heading.text() == "Claude Code sessions (2)"
    panel.shutdown()


def test_panel_empty_and_failing_loader(qtbot) -> None:  # type: ignore[no-untyped-def]
    def broken() -> list[LiveSession]:
        raise OSError("disk gone")

    panel = LiveSessionsPanel(loader=broken)
    qtbot.addWidget(panel)
    panel.show()  # showing starts a refresh and the timer
    assert panel.timer.isActive()
    qtbot.waitUntil(lambda: not panel._pending, timeout=5000)
    assert panel.rows == [] and not panel.empty.isHidden()
    panel.hide()
    assert not panel.timer.isActive()
    panel.shutdown()


def test_a_failing_reader_is_backed_off_not_retried_every_tick(qtbot) -> None:  # type: ignore[no-untyped-def]
    calls = 0

    def broken() -> list[LiveSession]:
        nonlocal calls
        calls += 1
        raise OSError("capture folder unreadable")

    panel = LiveSessionsPanel(loader=broken)
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.sessions_loaded, timeout=5000):
        panel.refresh()
    qtbot.waitUntil(lambda: not panel._pending, timeout=5000)
    for _ in range(5):  # the timer's next ticks, within the backoff
        panel.refresh()
        qtbot.wait(20)
    panel.shutdown()  # waits for anything still submitted to the reader thread
    assert calls == 1 and panel._health.streak == 1
    assert panel.rows == []
