"""Popup polish (issue 20, "Popup text is clipped"): the weekly pace sentence ended "...before rese",
the sessions panel's last line was struck through by the separator, scrolled content drew over the
footer while a banner showed; Refresh gave no feedback; GUI text showed Markdown backticks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from PySide6.QtCore import QPoint
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QFrame, QWidget

from tests.helpers.states import NOW, account_state, error, window_state
from trayapp.core.clock import FakeClock
from trayapp.core.models import ErrorKind, ExtraUsage
from trayapp.ui.gauges import PAD_X, _font
from trayapp.ui.panels.local_usage import LocalUsagePanel
from trayapp.ui.panels.sessions import SessionsPanel
from trayapp.ui.popup import Popup

NEAR_LIMIT = account_state(
    window_state("five_hour", 93.0, timedelta(minutes=46), rate=22.0),
    # 19 % left at 0.7 %/h: full in 27 h, 23 h before a reset 50 h away: the longest pace sentence.
    window_state("seven_day", 81.0, timedelta(days=2, hours=2), rate=0.7),
    extra=ExtraUsage(False, None, None, None),
)
RATE_LIMITED = account_state(
    window_state("five_hour", 82.0, timedelta(seconds=54)),
    window_state("seven_day", 28.0, timedelta(hours=3)),
    window_state("seven_day_sonnet", 8.0, timedelta(hours=3), label="Weekly · Sonnet"),
    window_state("seven_day_opus", 16.0, timedelta(hours=3), label="Weekly · Fable 5"),
    extra=ExtraUsage(True, 5000, 1257, 25.1),
    error=error(ErrorKind.RATE_LIMITED),
)


@pytest.fixture
def popup(qtbot):
    p = Popup(FakeClock(NOW))
    qtbot.addWidget(p)
    return p


def with_panels(popup: Popup, sessions: list | None = None) -> tuple[SessionsPanel, LocalUsagePanel]:
    panel = SessionsPanel(FakeClock(NOW))
    popup.add_panel(panel)
    panel.set_sessions(sessions or [])
    local = LocalUsagePanel()
    popup.add_panel(local)
    return panel, local


def in_popup(popup: Popup, widget: QWidget) -> tuple[int, int]:
    """(top, bottom) of ``widget`` in the popup's coordinates."""
    top = widget.mapTo(popup, QPoint(0, 0)).y()
    return top, top + widget.height()


def test_the_long_weekly_pace_sentence_is_shown_whole(popup, qtbot) -> None:
    with_panels(popup)
    popup.set_state(NEAR_LIMIT)
    popup.show_at(None)
    qtbot.waitExposed(popup)
    row = popup.gauge("seven_day")
    pace = row.pace_text()
    assert pace.endswith("before reset")
    fm = QFontMetrics(_font(11, bold=True))
    room = row.width() - 2 * PAD_X
    assert fm.horizontalAdvance(pace) > room  # one line at the popup's width cuts it ("...before rese")
    assert row.pace_lines(row.width()) == 2
    assert row.pace_fits(row.width())  # on two lines it is all there
    assert row.height() >= row.heightForWidth(row.width())  # and the row got the height for them
    assert row.toolTip() == pace  # also in full in the tooltip
    short = popup.gauge("five_hour")
    assert short.pace_lines(short.width()) == 1
    assert short.height() < row.height()


def test_the_sessions_panel_ends_above_its_separator(popup, qtbot) -> None:
    from tests.visual.make_screenshots import sample_sessions

    for sessions in ([], sample_sessions(3)):
        p = Popup(FakeClock(NOW))
        qtbot.addWidget(p)
        panel, local = with_panels(p, sessions)
        p.set_state(NEAR_LIMIT)
        p.show_at(None)
        p.fit_height(4000)  # taller than the screen allows: nothing needs to scroll
        qtbot.waitExposed(p)
        rules = [r for r in p.body.findChildren(QFrame, "rule") if r.isVisible()]
        next_rule = min(
            (r for r in rules if in_popup(p, r)[0] >= in_popup(p, panel)[0]), key=lambda r: in_popup(p, r)[0]
        )
        shown = [w for w in panel.findChildren(QWidget) if w.isVisible() and w.parent() is panel]
        last = max(shown, key=lambda w: in_popup(p, w)[1])
        assert in_popup(p, last)[1] <= in_popup(p, next_rule)[0], (len(sessions), last)
        hfw = panel.hasHeightForWidth()
        needed = panel.heightForWidth(panel.width()) if hfw else panel.sizeHint().height()
        assert panel.height() >= needed  # not squeezed (wrapped lines measured at its width)
        assert in_popup(p, local)[1] <= in_popup(p, p.footer)[0]


def test_a_banner_keeps_the_scrolling_body_above_the_footer(popup, qtbot) -> None:
    with_panels(popup)
    popup.set_state(NEAR_LIMIT)
    popup.show_at(None)
    popup.fit_height(700)
    qtbot.waitExposed(popup)
    popup.set_state(RATE_LIMITED)  # the banner appears while the popup is open, at its height limit
    assert popup.banner.isVisible()
    assert popup.banner.height() >= popup.banner.heightForWidth(popup.banner.width())  # both lines
    banner_top, banner_bottom = in_popup(popup, popup.banner)
    body_top, body_bottom = in_popup(popup, popup.body_scroll)
    footer_top, footer_bottom = in_popup(popup, popup.footer)
    assert banner_bottom <= body_top
    assert body_bottom <= footer_top  # the scrolled content never draws over the footer
    assert footer_bottom <= popup.height()
    assert popup.height() <= 700
    assert popup.body_scroll.verticalScrollBar().maximum() > 0  # the rest is a scroll away


def test_refresh_is_busy_until_its_answer(popup, qtbot) -> None:
    popup.set_state(account_state())
    asked = []
    popup.refresh_requested.connect(lambda: asked.append(True))
    popup.refresh_button.click()
    assert asked == [True]
    assert popup.refreshing
    assert not popup.refresh_button.isEnabled()
    assert popup.footer.text() == "Refreshing…"
    popup._tick()  # the countdown tick does not overwrite it
    assert popup.footer.text() == "Refreshing…"
    popup.set_state(account_state())  # the answer
    assert popup.refresh_button.isEnabled()
    assert popup.footer.text().startswith("updated")
    popup._refresh_timeout.setInterval(20)  # REFRESH_TIMEOUT_MS, shortened
    popup.refresh_button.click()
    assert popup.refreshing
    qtbot.waitUntil(lambda: not popup.refreshing, timeout=2000)  # no answer: it stops looking busy
    assert popup.refresh_button.isEnabled()


async def test_a_throttled_refresh_says_when_the_next_one_is_allowed(popup, monkeypatch) -> None:
    """The real engine against the demo server: a second Refresh within 30 s is not sent, and the
    popup's banner says when it will be."""
    from trayapp.demo import start_demo
    from trayapp.services.usage_engine import create_engine

    demo = start_demo(rate_limit_every=0)
    engine = create_engine(demo=demo)
    try:
        await engine.poll(manual=True)
        popup.request_refresh()
        state = await engine.poll(manual=True)
    finally:
        await engine.aclose()
        demo.stop()
    assert len(demo.simulator.requests) == 1
    popup.set_state(state)
    assert not popup.refreshing
    assert not popup.banner.isHidden()
    assert "refresh is allowed in" in popup.banner.text()
    assert popup.banner.text().rstrip(".)").split()[-1] == "s"


def test_gui_text_shows_no_backticks(popup, qtbot) -> None:
    from trayapp.core.clock import FakeClock as Clock
    from trayapp.ui.tray import Tray

    popup.set_state(account_state(error=error(ErrorKind.NO_CREDENTIALS)))
    assert "`" not in popup.banner.text()
    _, local = with_panels(popup)
    local.set_message("Export failed: run `claude-watch doctor`")
    assert "`" not in local.message.text()
    tray = Tray(Clock(NOW))
    shown: list[tuple[str, str]] = []
    tray.icon.showMessage = lambda title, body, *rest: shown.append(
        (title, body)
    )  # the real balloon needs a tray
    tray.show_message("Claude Code hooks need reinstalling", "run `claude-watch hooks --install` again")
    assert shown == [("Claude Code hooks need reinstalling", "run “claude-watch hooks --install” again")]
