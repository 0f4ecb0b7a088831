"""The Sessions popup panel (issue 13): rows as the service orders them, state chips and the
needs-you mark, durations from the clock, "Open" intents, highlight, the empty state, a long list
that scrolls instead of growing the popup, and the wiring to a service's signal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor

from trayapp.core.clock import FakeClock
from trayapp.core.sessions import Session, SessionState
from trayapp.ui.panels.sessions import (
    EMPTY_TEXT,
    MAX_VISIBLE,
    TICK_MS,
    SessionsPanel,
    detail_text,
    make_panel,
    state_colour,
)
from trayapp.ui.popup import Popup
from trayapp.ui.theme import DARK, LIGHT

NOW = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


def session(sid: str, state: SessionState = SessionState.WORKING, **kw) -> Session:
    values = {
        "project": f"proj-{sid}",
        "model": "Opus 4.8",
        "state_since": NOW - timedelta(minutes=12),
        "context_percent": 42.0,
        "cost_usd": 1.234,
    }
    values.update(kw)
    return Session(sid, state, **values)


def make(qtbot, clock: FakeClock | None = None) -> SessionsPanel:
    panel = SessionsPanel(clock or FakeClock(NOW))
    qtbot.addWidget(panel)
    return panel


def test_detail_text_uses_the_state_time_model_and_cost() -> None:
    assert detail_text(session("a"), NOW) == "for 12 min · Opus 4.8 · $1.23"
    bare = Session("b", SessionState.IDLE, "p", last_activity=NOW - timedelta(hours=1, minutes=5))
    assert detail_text(bare, NOW) == "for 1 h 5 min"  # falls back to the last activity
    assert detail_text(Session("c", SessionState.IDLE, "p"), NOW) == ""


def test_rows_keep_the_given_order_and_show_each_field(qtbot) -> None:
    panel = make(qtbot)
    sessions = [
        session("n", SessionState.NEEDS_YOU, needs_you_reason="Allow Bash: make test"),
        session("w", SessionState.WORKING, context_percent=None),
        session("d", SessionState.DONE),
    ]
    panel.set_sessions(sessions)
    assert [r.session.session_id for r in panel.rows] == ["n", "w", "d"]
    assert [r.chip.text() for r in panel.rows] == ["Needs you", "Working", "Done"]
    first = panel.rows[0]
    assert first.title.text() == "proj-n"
    assert first.percent.text() == "ctx 42%"
    assert first.bar.percent == 42.0
    assert first.detail.text() == "for 12 min · Opus 4.8 · $1.23"
    assert first.reason.text() == "Allow Bash: make test"
    assert not first.reason.isHidden()
    assert panel.rows[1].ctx_box.isHidden()  # no context figure: no empty bar
    assert panel.rows[2].reason.isHidden()  # only a session that waits shows a reason
    assert panel.heading.text() == "Claude Code sessions (3) · 1 needs you"
    assert panel.empty.isHidden()


def test_needs_you_is_marked_with_a_filled_accent_chip(qtbot) -> None:
    panel = make(qtbot)
    panel.set_theme(DARK)
    panel.set_sessions([session("n", SessionState.NEEDS_YOU), session("i", SessionState.IDLE)])
    needs, idle = panel.rows
    assert f"background: {DARK.accent}" in needs.chip.styleSheet()
    assert "background: transparent" in idle.chip.styleSheet()
    assert state_colour(DARK, SessionState.NEEDS_YOU) == DARK.accent
    assert len({state_colour(LIGHT, s) for s in SessionState}) == len(SessionState)
    # The stripe: the row's left edge is painted in the accent colour, the idle row's is not.
    needs.resize(300, 60)
    idle.resize(300, 60)
    stripe = needs.grab().toImage().pixelColor(2, 30)
    assert stripe == QColor(DARK.accent)
    assert idle.grab().toImage().pixelColor(2, 30) != QColor(DARK.accent)


def test_durations_follow_the_clock_while_visible(qtbot) -> None:
    clock = FakeClock(NOW)
    panel = make(qtbot, clock)
    panel.set_sessions([session("a")])
    panel.show()
    assert panel._ticker.isActive()
    assert panel._ticker.interval() == TICK_MS
    clock.advance(30 * 60)
    panel._ticker.timeout.emit()
    assert panel.rows[0].detail.text().startswith("for 42 min")
    panel.hide()
    assert not panel._ticker.isActive()


def test_open_emits_the_session_id(qtbot) -> None:
    panel = make(qtbot)
    panel.set_sessions([session("a"), session("b")])
    with qtbot.waitSignal(panel.open_requested) as blocker:
        qtbot.mouseClick(panel.rows[1].open_button, Qt.MouseButton.LeftButton)
    assert blocker.args == ["b"]


def test_empty_state_says_how_to_connect_claude_code(qtbot) -> None:
    panel = make(qtbot)
    panel.show()
    assert not panel.empty.isHidden()
    assert "claude-watch hooks --install" in EMPTY_TEXT
    assert "claude-watch statusline --install" in EMPTY_TEXT
    panel.set_sessions([session("a")])
    assert panel.empty.isHidden()
    panel.set_sessions([])
    assert not panel.empty.isHidden()
    assert panel.rows == []
    assert panel.list_scroll.isHidden()


def test_twenty_sessions_scroll_instead_of_growing_the_panel(qtbot) -> None:
    panel = make(qtbot)
    panel.resize(380, 100)
    panel.show()
    panel.set_sessions([session(str(i)) for i in range(MAX_VISIBLE)])
    capped = panel.sizeHint().height()
    assert panel.more.isHidden()
    panel.set_sessions([session(str(i)) for i in range(20)])
    assert len(panel.rows) == 20
    # The "+N more" line is the only growth (a line of text, not fifteen rows).
    assert panel.sizeHint().height() - capped < 30
    assert panel.more.text() == f"+{20 - MAX_VISIBLE} more — scroll the list"
    assert not panel.more.isHidden()
    # Exactly MAX_VISIBLE rows fit the visible part of the list; the next one starts below it.
    qtbot.wait(10)
    seen = panel.list_scroll.viewport().height()
    assert panel.rows[MAX_VISIBLE - 1].geometry().bottom() < seen
    assert panel.rows[MAX_VISIBLE].geometry().top() >= seen


def test_highlight_scrolls_to_the_row_and_marks_it_for_a_moment(qtbot) -> None:
    panel = make(qtbot)
    panel.resize(380, 400)
    panel.show()
    panel.set_sessions([session(str(i)) for i in range(20)])
    qtbot.wait(10)
    bar = panel.list_scroll.verticalScrollBar()
    assert bar.value() == 0
    assert panel.highlight("17")
    assert bar.value() > 0
    assert panel.row_for("17").highlighted
    assert not panel.row_for("0").highlighted
    assert not panel.highlight("nope")
    panel._unhighlight.timeout.emit()
    assert not any(r.highlighted for r in panel.rows)


def test_rows_do_not_overlap_each_other_or_the_text_below(qtbot) -> None:
    panel = make(qtbot)
    panel.resize(380, 100)
    panel.show()
    panel.set_sessions(
        [session("n", SessionState.NEEDS_YOU, needs_you_reason="x" * 300), session("w"), session("i")]
    )
    qtbot.wait(10)
    rows = panel.rows
    for upper, lower in zip(rows, rows[1:], strict=False):
        assert upper.geometry().bottom() < lower.geometry().top()
    for row in rows:  # every line inside its row
        for label in (row.title, row.detail, row.reason):
            if not label.isHidden():
                assert row.rect().contains(label.geometry())
    # The whole list fits its scroll area (three rows: no scrolling) and ends above the panel's end.
    assert panel.list_scroll.verticalScrollBar().maximum() == 0
    assert panel.list_scroll.geometry().bottom() <= panel.height()
    # A long reason is elided, not widening the panel.
    assert panel.rows[0].reason.minimumSizeHint().width() < 100


class FakeSessionsSource(QObject):
    """Stands in for the sessions service's Qt face: the signal and the current list."""

    sessions_changed = Signal(list)

    def __init__(self) -> None:
        super().__init__()
        self.sessions = [session("early")]
        self.running = False

    def start(self) -> None:
        self.running = True

    def stop(self) -> None:
        self.running = False


def test_make_panel_wires_the_service(qtbot) -> None:
    service = FakeSessionsSource()
    panel = make_panel(service, FakeClock(NOW))
    qtbot.addWidget(panel)
    assert [r.session.session_id for r in panel.rows] == ["early"]  # what the service holds
    service.sessions_changed.emit([session("x"), session("y")])
    assert [r.session.session_id for r in panel.rows] == ["x", "y"]
    panel.show()
    assert service.running
    panel.hide()
    assert not service.running


def test_in_the_popup_the_panel_grows_the_popup_when_sessions_arrive(qtbot) -> None:
    popup = Popup(FakeClock(NOW))
    qtbot.addWidget(popup)
    panel = SessionsPanel(FakeClock(NOW))
    popup.add_panel(panel)
    popup.show_at(None)
    before = popup.body_scroll.height()
    panel.set_sessions([session(str(i)) for i in range(3)])
    assert popup.body_scroll.height() > before
    assert popup.body.sizeHint().height() <= popup.body_scroll.height()


async def test_open_focuses_the_terminal_off_the_gui_thread_or_shows_the_row(qtbot, monkeypatch) -> None:
    """make_panel(..., focus) as the app wires it with platform.focus.focus_terminal_off_thread:
    the session's pid goes to focus_terminal on a worker lane; when focusing fails (here: no
    display) or the session has no pid, the row is highlighted instead."""
    import asyncio
    import subprocess
    import threading

    from trayapp import runtime
    from trayapp.platform import focus

    asked: list[tuple[int, bool]] = []
    answer = {"focused": None}

    def spy(pid: int) -> bool:
        asked.append((pid, threading.current_thread() is threading.main_thread()))
        return answer["focused"] if answer["focused"] is not None else real(pid)

    real = focus.focus_terminal
    monkeypatch.setattr(focus, "focus_terminal", spy)
    monkeypatch.delenv("DISPLAY", raising=False)
    sleeper = subprocess.Popen(["sleep", "30"])
    service = FakeSessionsSource()
    panel = make_panel(service, FakeClock(NOW), focus.focus_terminal_off_thread)
    qtbot.addWidget(panel)
    highlighted: list[str] = []
    monkeypatch.setattr(panel, "highlight", highlighted.append)

    async def press(sid: str) -> None:
        panel.row_for(sid).open_button.click()
        await runtime.wait(5)
        await asyncio.sleep(0)

    try:
        service.sessions_changed.emit([session("a", pid=sleeper.pid), session("b")])
        await press("a")
        assert asked == [(sleeper.pid, False)]  # asked, off the GUI thread
        assert highlighted == ["a"]  # no display: the popup shows the row
        await press("b")  # no pid: not asked
        assert asked == [(sleeper.pid, False)]
        assert highlighted == ["a", "b"]
        answer["focused"] = True
        await press("a")
        assert highlighted == ["a", "b"]  # focused: the row is not needed
        assert len(asked) == 2
    finally:
        sleeper.kill()
        sleeper.wait(5)


def test_the_same_list_again_keeps_the_rows(qtbot) -> None:
    panel = make(qtbot)
    panel.set_sessions([session("a"), session("b")])
    rows = list(panel.rows)
    panel.set_sessions([session("a"), session("b")])  # equal values, as a re-announce brings
    assert panel.rows == rows
    panel.set_sessions([session("a"), session("b", SessionState.NEEDS_YOU)])
    assert panel.rows[1] is not rows[1]
    assert panel.rows[1].chip.text() == "Needs you"
