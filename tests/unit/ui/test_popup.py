"""Popup dashboard contents for given states: ok, stale, each error, no scoped limits, extra usage."""

from __future__ import annotations

from datetime import timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from tests.helpers.states import NOW, account_state, error, window_state
from trayapp.core.clock import FakeClock
from trayapp.core.models import ErrorKind, ExtraUsage, Level
from trayapp.ui.popup import FOCUS_GRACE, Popup


@pytest.fixture
def popup(qtbot):
    p = Popup(FakeClock(NOW))
    qtbot.addWidget(p)
    return p


def test_healthy_state_shows_a_gauge_per_window_with_countdowns(popup) -> None:
    state = account_state(
        window_state("five_hour", 37.0, timedelta(hours=1, minutes=12), rate=8.0),
        window_state("seven_day", 22.0, timedelta(days=3), rate=0.3),
        window_state("seven_day_opus", 9.0, timedelta(days=3), label="Weekly · Fable 5"),
    )
    popup.set_state(state)
    assert [g.title() for g in popup.gauges()] == ["5-hour", "Weekly", "Weekly · Fable 5"]
    five = popup.gauge("five_hour")
    assert five.percent_text() == "37%"
    assert five.reset_text().startswith("resets in 1 h 12 min")
    assert five.pace_text() == "on track: about 47% at reset"
    assert five.burn_text() == "+8.0%/h"
    assert five.level() is Level.OK
    assert popup.banner.isHidden()
    assert popup.account.text() == "Max 5x · ada@example.com"
    assert popup.footer.text() == "updated 1 min ago · via usage API"
    assert popup.placeholder.isHidden()


def test_running_out_says_when(popup) -> None:
    popup.set_state(account_state(window_state("five_hour", 70.0, timedelta(hours=2), rate=30.0)))
    assert popup.gauge("five_hour").pace_text() == (
        "at this pace: 100% at "
        + (NOW + timedelta(hours=1)).astimezone().strftime("%H:%M")
        + ", 1 h before reset"
    )


def test_no_scoped_limits_means_just_two_gauges(popup) -> None:
    popup.set_state(account_state())
    assert [g.ws.window.id for g in popup.gauges()] == ["five_hour", "seven_day"]
    # A scoped limit that disappears takes its gauge with it.
    popup.set_state(account_state(window_state("five_hour"), window_state("seven_day_opus", 5.0)))
    popup.set_state(account_state())
    assert popup.gauge("seven_day_opus") is None


def test_stale_state_shows_a_banner_and_grey_gauges(popup) -> None:
    popup.set_state(account_state(stale=True, age=3 * 3600))
    assert not popup.banner.isHidden()
    assert "stale" in popup.banner.text().lower()
    assert "3 h ago" in popup.banner.text()
    assert all(g.level() is Level.STALE for g in popup.gauges())
    assert all(g.pace_text() == "" for g in popup.gauges())


@pytest.mark.parametrize("kind", list(ErrorKind))
def test_each_error_kind_shows_its_fix(popup, kind) -> None:
    popup.set_state(account_state(error=error(kind)))
    assert not popup.banner.isHidden()
    assert popup.banner_is_error
    assert popup.banner.text()
    assert popup.banner.text() != "failed"
    if kind is ErrorKind.AUTH:
        assert popup.banner.text().startswith("Login expired: open Claude Code")


def test_error_before_any_reading(popup) -> None:
    popup.set_state(account_state(no_snapshot=True, error=error(ErrorKind.NO_CREDENTIALS)))
    assert not popup.placeholder.isHidden()
    assert popup.gauges() == []
    assert "No Claude Code login found" in popup.banner.text()


def test_extra_usage_in_its_currency_and_off(popup) -> None:
    popup.set_state(account_state(extra=ExtraUsage(True, 15500, 5652, 36.5, "AUD")))
    assert popup.extra_row.amount_text() == "A$56.52 / A$155.00"
    assert popup.extra_row.detail_text().startswith("36% of this month")
    popup.set_state(account_state(extra=ExtraUsage(False, None, None, None)))
    assert popup.extra_row.amount_text() == "off"
    popup.set_state(account_state())
    assert popup.extra_row is None


def test_countdown_ticks_only_while_visible(popup, qtbot) -> None:
    popup.set_state(account_state(window_state("five_hour", 20.0, timedelta(minutes=10))))
    assert not popup.ticking
    popup.show_at(None)
    qtbot.waitExposed(popup)
    assert popup.ticking
    popup.clock.advance(9 * 60 + 30)
    popup._tick()
    assert popup.gauge("five_hour").reset_text().startswith("resets in 30 s")
    qtbot.keyClick(popup, Qt.Key.Key_Escape)
    assert popup.isHidden()
    assert not popup.ticking


def test_range_switch_reloads_history_and_is_announced(popup, qtbot) -> None:
    calls = []
    popup.set_history_loader(lambda since: calls.append(since) or [])
    popup.set_state(account_state())
    with qtbot.waitSignal(popup.range_changed) as sig:
        popup.range_buttons["7d"].click()
    assert sig.args == ["7d"]
    assert calls[-1] == NOW - timedelta(days=7)


def test_failing_history_loader_does_not_break_the_popup(popup) -> None:
    def boom(since):
        raise RuntimeError("database locked")

    popup.set_history_loader(boom)
    popup.set_state(account_state())
    popup.reload_history()
    assert popup.timeline.series == []


def test_add_panel_puts_sections_below_the_timeline(popup, qtbot) -> None:
    popup.set_state(account_state())
    popup.show_at(None)
    qtbot.waitExposed(popup)
    panel = QLabel("Local usage today: 1.2 M tokens")
    popup.add_panel(panel)  # added while open: it must be shown and laid out at once
    assert popup.isAncestorOf(panel)
    assert panel.isVisible()
    timeline = popup.timeline.geometry()
    below = panel.geometry()
    assert popup.timeline.parentWidget() is panel.parentWidget()  # one coordinate system
    assert timeline.height() > 0
    assert below.height() > 0
    assert below.top() > timeline.bottom()


def test_theme_setting_switches_palette(popup) -> None:
    settings = {
        "ui.theme": "dark",
        "ui.timeline_range": "7d",
        "alerts.five_hour_thresholds": [50, 80],
        "alerts.weekly_thresholds": [60],
    }
    popup.apply_settings(settings.get)
    assert popup.theme.dark
    assert popup.range_key == "7d"
    assert popup.thresholds == (50, 60, 80)
    settings["ui.theme"] = "light"
    popup.apply_settings(settings.get)
    assert not popup.theme.dark


def test_window_mode_when_there_is_no_tray(popup, qtbot) -> None:
    popup.set_window_mode(True)
    popup.show_at(None)
    qtbot.waitExposed(popup)
    assert popup.windowFlags() & Qt.WindowType.Window
    assert not (popup.windowFlags() & Qt.WindowType.FramelessWindowHint)


def test_switching_theme_restyles_the_labels(qtbot) -> None:
    def title_ink(p: Popup) -> str:
        img = p.title.grab().toImage()
        counts: dict[str, int] = {}
        for x in range(img.width()):
            for y in range(img.height()):
                c = img.pixelColor(x, y)
                if c.alpha() > 200:
                    counts[c.name()] = counts.get(c.name(), 0) + 1
        return max(counts, key=counts.__getitem__)

    settings = {
        "ui.theme": "light",
        "ui.timeline_range": "24h",
        "alerts.five_hour_thresholds": [50],
        "alerts.weekly_thresholds": [50],
    }
    light = Popup(FakeClock(NOW))
    qtbot.addWidget(light)
    light.apply_settings(settings.get)
    light.show()
    dark = Popup(FakeClock(NOW))
    qtbot.addWidget(dark)
    settings["ui.theme"] = "dark"
    dark.apply_settings(settings.get)
    dark.show()
    assert title_ink(light) == light.theme.text
    assert title_ink(dark) == dark.theme.text != light.theme.text


def test_focus_loss_closes_except_right_after_opening(popup, qtbot) -> None:
    popup.set_state(account_state())
    popup.show_at(None)
    qtbot.waitExposed(popup)
    reactivated: list[bool] = []
    # Offscreen cannot really activate a window: record the request and leave it inactive.
    popup.activateWindow = lambda: reactivated.append(True)
    assert not popup.isActiveWindow()
    popup.clock.advance(FOCUS_GRACE - 0.1)
    popup._hide_if_inactive()  # just opened: a focus bounce takes focus back instead of closing
    assert popup.isVisible()
    assert reactivated == [True]
    popup.clock.advance(0.2)  # past the grace period on the popup's (fake) monotonic clock
    popup._hide_if_inactive()
    assert popup.isHidden()
    assert reactivated == [True]


def test_body_scrolls_instead_of_outgrowing_the_screen(qtbot) -> None:
    from PySide6.QtWidgets import QLabel

    from trayapp.ui.popup import Popup

    popup = Popup()
    qtbot.addWidget(popup)
    tall = QLabel("tall panel")
    tall.setMinimumHeight(900)
    popup.add_panel(tall)
    popup.fit_height(None)
    natural = popup.sizeHint().height()
    assert natural > 900  # unconstrained, the panel gets its full height
    popup.fit_height(700)
    assert popup.sizeHint().height() <= 700
    assert popup.body_scroll.height() < 900


def _five_gauges() -> object:
    return account_state(
        window_state("five_hour", 37.0, timedelta(minutes=6), rate=7.6),
        window_state("seven_day", 27.0, timedelta(hours=3), rate=0.2),
        window_state("seven_day_sonnet", 8.0, timedelta(hours=3), label="Weekly · Sonnet"),
        window_state("seven_day_opus", 15.0, timedelta(hours=3), label="Weekly · Opus"),
        extra=ExtraUsage(True, 5000, 1234, 24.7),
    )


def test_gauges_timeline_and_panels_fit_a_small_screen_by_scrolling(popup) -> None:
    # An 800-pixel screen leaves 728 pixels: five gauges, the timeline and two panels need more.
    for name in ("sessions", "local usage"):
        panel = QLabel(name)
        panel.setMinimumHeight(120)
        popup.add_panel(panel)
    popup.set_state(_five_gauges())
    popup.fit_height(None)
    natural = popup.sizeHint().height()
    assert natural > 728
    popup.fit_height(728)
    assert popup.sizeHint().height() <= 728
    popup.show()
    assert popup.height() <= 728
    assert popup.body_scroll.verticalScrollBar().maximum() > 0  # the rest is a scroll away
    # The header (title, refresh and settings) and the footer stay outside the scrolling body.
    assert not popup.body.isAncestorOf(popup.title)
    assert not popup.body.isAncestorOf(popup.footer)


def test_a_reading_that_adds_gauges_while_open_keeps_the_popup_on_screen(popup) -> None:
    from PySide6.QtGui import QGuiApplication

    from trayapp.ui.placement import Rect

    screen = QGuiApplication.primaryScreen().availableGeometry()
    popup.set_state(account_state())
    # A tray icon in a bottom panel: the popup opens above it, so growing downwards would cover
    # the panel and leave the screen.
    popup.show_at(Rect(screen.right() - 40, screen.bottom() - 24, 22, 24))
    assert popup.frameGeometry().bottom() < screen.bottom() - 24
    for k in range(6):
        panel = QLabel(f"panel {k}")
        panel.setMinimumHeight(150)
        popup.add_panel(panel)
    popup.set_state(_five_gauges())  # grows while showing
    assert all(row.isVisible() for row in popup._gauges.values())
    assert popup.extra_row.isVisible()
    g = popup.frameGeometry()
    assert g.height() <= screen.height() - 72
    assert screen.top() <= g.top()
    assert g.bottom() <= screen.bottom()


def test_panels_follow_the_popup_theme_not_the_system_palette(popup) -> None:
    from datetime import UTC, datetime

    from trayapp.core.sessions import Session, SessionState
    from trayapp.ui.panels.local_usage import LocalUsagePanel
    from trayapp.ui.panels.sessions import SessionsPanel
    from trayapp.ui.theme import DARK, LIGHT

    sessions = SessionsPanel()
    usage = LocalUsagePanel()
    popup.add_panel(sessions)
    popup.add_panel(usage)
    popup.apply_settings(lambda key: {"ui.theme": "dark"}.get(key, "24h" if "range" in key else 50))
    assert DARK.text in sessions.heading.styleSheet()
    assert DARK.text in usage.today.styleSheet()
    assert DARK.muted in usage.caption.styleSheet()
    # A session row that arrives later takes the current theme too.
    live = Session("s1", SessionState.WORKING, "app", "/work/app", model="Opus", context_percent=40.0,
                   last_activity=datetime(2026, 3, 1, tzinfo=UTC), cost_usd=1.5)  # fmt: skip
    sessions.set_sessions([live])
    assert DARK.text in sessions.rows[0].title.styleSheet()
    popup.apply_settings(lambda key: {"ui.theme": "light"}.get(key, "24h" if "range" in key else 50))
    assert LIGHT.text in sessions.rows[0].title.styleSheet()
    assert LIGHT.text in usage.heading.styleSheet()


def test_the_banner_shows_no_backticks(qapp) -> None:
    from tests.helpers.states import account_state, error
    from trayapp.core.models import ErrorKind
    from trayapp.ui.popup import Popup

    popup = Popup()
    popup.set_state(account_state(error=error(ErrorKind.NO_CREDENTIALS)))
    assert "claude" in popup.banner.text()
    assert "`" not in popup.banner.text()


def test_it_reopens_at_the_top(popup) -> None:
    """Issue 20: the popup reopened scrolled past the gauges, where it was left."""
    for name in ("sessions", "local usage"):
        panel = QLabel(name)
        panel.setMinimumHeight(400)
        popup.add_panel(panel)
    popup.set_state(_five_gauges())
    popup.show_at(None)
    bar = popup.body_scroll.verticalScrollBar()
    assert bar.maximum() > 0
    bar.setValue(bar.maximum())
    popup.hide()
    popup.show_at(None)
    assert bar.value() == 0
