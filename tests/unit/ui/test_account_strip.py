"""The popup's account strip: a card per account at the top of the popup with level colours,
"signed out" in red, the shown account highlighted, the headroom hint, a click that
names the account, and no room at all with one account."""

from __future__ import annotations

from datetime import timedelta

import pytest
from PySide6.QtCore import Qt

from tests.helpers.states import NOW, account_state, error, window_state
from trayapp.core import account_views as av
from trayapp.core.clock import FakeClock
from trayapp.core.models import ErrorKind, Level
from trayapp.ui.account_strip import AccountStrip
from trayapp.ui.popup import Popup
from trayapp.ui.theme import DARK, LIGHT


def state(five: float, week: float):
    return account_state(
        window_state("five_hour", five, timedelta(hours=1, minutes=5)), window_state("seven_day", week)
    )


def cards(**states):
    return [av.card(label, s, NOW) for label, s in states.items()]


@pytest.fixture
def popup(qtbot):
    p = Popup(FakeClock(NOW))
    qtbot.addWidget(p)
    p.set_state(state(30.0, 20.0))
    return p


@pytest.fixture
def strip(popup):
    s = AccountStrip()
    popup.add_panel(s)
    return s


def test_one_card_per_account_in_order_with_both_windows(strip) -> None:
    strip.set_cards(cards(Work=state(91.0, 61.0), Home=state(12.0, 38.0)), "Work")
    assert list(strip.cards) == ["Work", "Home"]
    work = strip.cards["Work"]
    assert (work.name.text(), work.five.text(), work.week.text()) == ("Work", "5h 91%", "week 61%")
    assert work.note.text() == "resets in 1h05m"
    assert strip.showing


def test_level_colours_come_from_the_palette_and_follow_the_theme(strip) -> None:
    strip.set_theme(LIGHT)
    strip.set_cards(cards(Work=state(91.0, 61.0), Home=state(100.0, 80.0)), "Work")
    work, home = strip.cards["Work"], strip.cards["Home"]
    assert LIGHT.levels[Level.CRITICAL] in work.five.styleSheet()
    assert LIGHT.levels[Level.OK] in work.week.styleSheet()
    assert LIGHT.levels[Level.AT_LIMIT] in home.five.styleSheet()
    assert LIGHT.levels[Level.WARNING] in home.week.styleSheet()
    strip.set_theme(DARK)
    assert DARK.levels[Level.CRITICAL] in work.five.styleSheet()


def test_a_signed_out_account_says_so_in_red(strip) -> None:
    strip.set_theme(LIGHT)
    out = account_state(error=error(ErrorKind.AUTH, "401"))
    strip.set_cards(cards(Work=out, Home=state(12.0, 38.0)), "Home")
    work = strip.cards["Work"]
    assert work.note.text() == "signed out"
    assert LIGHT.levels[Level.AT_LIMIT] in work.note.styleSheet()
    assert LIGHT.levels[Level.STALE] in work.five.styleSheet()  # its old numbers in grey
    assert LIGHT.levels[Level.AT_LIMIT] not in strip.cards["Home"].note.styleSheet()


def test_the_shown_account_is_highlighted(strip) -> None:
    strip.set_theme(LIGHT)
    strip.set_cards(cards(Work=state(91.0, 61.0), Home=state(12.0, 38.0)), "Home")
    assert strip.cards["Home"].selected
    assert not strip.cards["Work"].selected
    assert LIGHT.accent in strip.cards["Home"].styleSheet()
    assert LIGHT.accent not in strip.cards["Work"].styleSheet()
    strip.set_cards(cards(Work=state(91.0, 61.0), Home=state(12.0, 38.0)), "Work")
    assert strip.cards["Work"].selected
    assert LIGHT.accent in strip.cards["Work"].styleSheet()


def test_a_click_or_enter_on_a_card_names_its_account(qtbot, popup, strip) -> None:
    assert strip.set_cards(cards(Work=state(91.0, 61.0), Home=state(12.0, 38.0)), "Work")
    popup.show_at(None)
    qtbot.waitExposed(popup)
    qtbot.waitUntil(lambda: strip.cards["Home"].height() > 20)  # laid out
    with qtbot.waitSignal(strip.account_selected) as blocker:
        qtbot.mouseClick(strip.cards["Home"], Qt.MouseButton.LeftButton)
    assert blocker.args == ["Home"]
    with qtbot.waitSignal(strip.account_selected) as blocker:
        qtbot.keyClick(strip.cards["Work"], Qt.Key.Key_Space)
    assert blocker.args == ["Work"]


def test_the_headroom_hint_under_the_cards(strip) -> None:
    strip.set_cards(cards(Work=state(91.0, 80.0), Home=state(12.0, 38.0)), "Work", "Home has 62% weekly left")
    assert strip.hint.text() == "Home has 62% weekly left"
    assert not strip.hint.isHidden()
    strip.set_cards(cards(Work=state(91.0, 80.0), Home=state(12.0, 38.0)), "Home", None)
    assert strip.hint.isHidden()


def test_the_strip_sits_under_the_header_above_the_gauges(qtbot, popup, strip) -> None:
    strip.set_cards(cards(Work=state(91.0, 61.0), Home=state(12.0, 38.0)), "Work")
    popup.show_at(None)
    qtbot.waitExposed(popup)
    qtbot.waitUntil(lambda: strip.height() >= 2 * 24)  # two cards' worth, laid out
    top = strip.mapTo(popup, strip.rect().topLeft()).y()
    bottom = strip.mapTo(popup, strip.rect().bottomLeft()).y()
    assert popup.title.mapTo(popup, popup.title.rect().bottomLeft()).y() < top
    assert bottom < popup.body_scroll.mapTo(popup, popup.body_scroll.rect().topLeft()).y()


def test_with_one_account_it_takes_no_room(qtbot, popup) -> None:
    popup.show_at(None)
    qtbot.waitExposed(popup)
    before = popup.height()
    s = AccountStrip()
    popup.add_panel(s)
    assert not s.set_cards(cards(Work=state(91.0, 61.0)), "Work")  # nothing to refit
    popup.fit_height(None)
    assert not s.showing
    assert popup.height() == before
    assert s.set_cards(cards(Work=state(91.0, 61.0), Home=state(12.0, 38.0)), "Work")
    assert not s.set_cards(cards(Work=state(92.0, 61.0), Home=state(12.0, 38.0)), "Home")  # same shape
    popup.fit_height(None)
    assert s.showing
    assert s.isVisible()
    assert popup.height() > before + 40
    s.set_cards([], "Work")  # an account removed: gone again
    popup.fit_height(None)
    assert popup.height() == before


def test_a_long_name_ends_with_an_ellipsis_and_the_columns_line_up(qtbot, popup, strip) -> None:
    long = "Old laptop with a very long name"
    strip.set_cards(cards(**{"Work": state(91.0, 61.0), long: state(100.0, 38.0)}), "Work")
    popup.show_at(None)
    qtbot.waitExposed(popup)
    qtbot.waitUntil(lambda: strip.cards[long].name.text().endswith("…"))
    assert long in strip.cards[long].toolTip()  # the whole name on hover
    work, old = strip.cards["Work"], strip.cards[long]
    for column in ("five", "week", "note"):
        assert getattr(work, column).x() == getattr(old, column).x()
