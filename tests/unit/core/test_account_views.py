"""How several accounts are shown: cards, tooltip lines, which accounts get a tray icon, and which
account the popup shows."""

from __future__ import annotations

from datetime import timedelta

from tests.helpers.states import NOW, account_state, error, window_state
from trayapp.core import account_views as av
from trayapp.core.models import ErrorKind, Level


def two_windows(five: float, week: float, resets_in: timedelta = timedelta(hours=2, minutes=10)):
    return account_state(window_state("five_hour", five, resets_in), window_state("seven_day", week))


def test_a_card_carries_both_windows_with_their_levels_and_the_reset() -> None:
    c = av.card("Work", two_windows(91.0, 61.0), NOW)
    assert (c.label, c.five_hour, c.weekly) == ("Work", 91.0, 61.0)
    assert (c.five_level, c.weekly_level) == (Level.CRITICAL, Level.OK)
    assert c.reset == "resets in 2h10m"
    assert (c.signed_out, c.note) == (False, "")


def test_a_stale_card_is_grey_and_says_how_old() -> None:
    state = account_state(window_state("five_hour", 80.0), stale=True, age=7200)
    c = av.card("Home", state, NOW)
    assert c.five_level is Level.STALE
    assert c.weekly is None
    assert c.weekly_level is Level.STALE
    assert c.note == "2 h ago"


def test_a_401_or_missing_credentials_is_signed_out_whatever_the_last_numbers() -> None:
    for kind in (ErrorKind.AUTH, ErrorKind.NO_CREDENTIALS):
        state = account_state(error=error(kind, "refused"))
        c = av.card("Work", state, NOW)
        assert c.signed_out
        assert c.note == "signed out"
        assert c.five_level is Level.STALE  # its numbers are no longer updated
        assert av.tooltip_line("Work", state) == "Work: signed out"
    assert not av.signed_out(account_state(error=error(ErrorKind.NETWORK)))
    assert not av.signed_out(None)


def test_no_reading_yet() -> None:
    assert av.card("New", None, NOW).note == "waiting…"
    assert av.card("New", account_state(no_snapshot=True), NOW).note == "waiting…"
    failed = account_state(no_snapshot=True, error=error(ErrorKind.NETWORK))
    assert av.card("New", failed, NOW).note == "no reading yet"
    assert av.tooltip_line("New", None) == "New: waiting for the first reading"


def test_a_reset_already_due() -> None:
    c = av.card("Work", two_windows(10.0, 5.0, resets_in=timedelta(minutes=-1)), NOW)
    assert c.reset == "reset due"


def test_tooltip_lines_one_per_account() -> None:
    states = {"Work": two_windows(42.0, 61.0), "Personal": two_windows(3.0, 38.4)}
    assert av.several_tooltip(states) == "Claude Watch\nWork: 5h 42% · week 61%\nPersonal: 5h 3% · week 38%"
    stale = account_state(window_state("five_hour", 50.0), stale=True)
    assert av.tooltip_line("Old", stale) == "Old: 5h 50% (stale)"


def test_an_account_icon_tooltip_starts_with_its_label() -> None:
    text = av.account_tooltip("Work", two_windows(42.0, 61.0), NOW)
    lines = text.split("\n")
    assert lines[0] == "Work · Claude Watch"
    assert lines[1].startswith("5-hour: 42%, resets in 2 h 10 min")
    assert av.account_tooltip("Work", None, NOW) == "Work · Claude Watch\nWaiting for the first reading…"


def test_tray_icons_only_for_each_with_several_accounts_at_most_four() -> None:
    six = ["a", "b", "c", "d", "e", "f"]
    assert av.tray_accounts(six, av.TRAY_EACH) == ["a", "b", "c", "d"]
    assert av.tray_accounts(["a", "b"], av.TRAY_EACH) == ["a", "b"]
    assert av.tray_accounts(["a"], av.TRAY_EACH) == []  # one account: the option changes nothing
    assert av.tray_accounts(six, av.TRAY_BINDING) == []
    assert av.tray_accounts(six, "nonsense") == []


def test_the_popup_shows_the_chosen_account_while_it_is_there() -> None:
    assert av.shown_label(None, ["a", "b"], "b") == "b"  # default: the binding account
    assert av.shown_label("a", ["a", "b"], "b") == "a"
    assert av.shown_label("gone", ["a", "b"], "b") == "b"  # removed: back to the binding one
