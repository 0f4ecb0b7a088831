"""The live-sessions popup panel: a view of what the live-sessions service reads from real
capture files (the service's own tests are in test_live_sessions_service.py)."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.helpers.statusline_support import FULL, write_capture
from trayapp.core.clock import FakeClock
from trayapp.core.models import Level
from trayapp.services.live_sessions import LiveSessionsService
from trayapp.sources.statusline_capture import LiveSession
from trayapp.ui.panels.live_sessions import (
    EMPTY_TEXT,
    ContextBar,
    LiveSessionsPanel,
    detail_text,
    make_panel,
)
from trayapp.ui.theme import DARK, LIGHT


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


def test_context_bar_takes_its_colours_from_the_popup_theme(qtbot) -> None:
    bar = ContextBar()
    qtbot.addWidget(bar)
    bar.set_percent(95)
    assert bar.colour().name() == LIGHT.levels[Level.CRITICAL]
    bar.set_theme(DARK)  # the dark popup: its own, brighter level colours
    assert bar.colour().name() == DARK.levels[Level.CRITICAL]
    bar.set_percent(10)
    assert bar.colour().name() == DARK.levels[Level.OK]


async def test_the_wired_panel_lists_live_sessions_from_disk_while_shown(qtbot, state_dir: Path) -> None:
    now = time.time()
    write_capture(state_dir, json.loads(FULL.read_text()), now - 20)
    other = json.loads(FULL.read_text())
    other.update(session_id="b", cwd="/w/api", workspace={"project_dir": "/w/api"})
    write_capture(state_dir, other, now - 5)
    service = LiveSessionsService(FakeClock(datetime.fromtimestamp(now, UTC)), interval=0.05)
    panel = make_panel(service)
    qtbot.addWidget(panel)
    assert panel.empty.text() == EMPTY_TEXT
    assert not service.running
    panel.show()
    assert service.running
    deadline = time.monotonic() + 5
    while len(panel.rows) < 2 and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert [r.title.text() for r in panel.rows] == ["api", "webapp"]
    row = panel.rows[1]
    assert row.model.text() == "Opus 4.8"
    assert row.detail.text() == "ctx 3% · $0.42 · 16 min · +48 \u22126"
    assert row.bar.percent == 3
    assert panel.empty.isHidden()
    assert panel.heading.text() == "Claude Code sessions (2)"
    panel.hide()
    assert not service.running  # the popup closed: reading stops


def test_the_panel_renders_what_it_is_given(qtbot) -> None:
    panel = LiveSessionsPanel()  # a view: no reader, no thread, no timer
    qtbot.addWidget(panel)
    live = LiveSession("s1", datetime(2026, 3, 1, tzinfo=UTC), "app", "/work/app", None, "Opus", None, 40.0,
                       None, None, 1.5, None, 10, 2, None)  # fmt: skip
    panel.set_sessions([live])
    assert [r.title.text() for r in panel.rows] == ["app"]
    assert panel.empty.isHidden()
    panel.set_sessions([])
    assert panel.rows == []
    assert not panel.empty.isHidden()
    assert panel.heading.text() == "Claude Code sessions"
    with qtbot.waitSignal(panel.visibility_changed) as shown:
        panel.show()
    assert shown.args == [True]
    with qtbot.waitSignal(panel.visibility_changed) as hidden:
        panel.hide()
    assert hidden.args == [False]
