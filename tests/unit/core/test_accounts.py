"""core.accounts: labels, uniqueness, staggering, binding account, hints and alert titles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from trayapp.core import accounts as ac
from trayapp.core.accounts import Account, AccountError
from trayapp.core.models import AccountState, Level, Source, UsageSnapshot, Window, WindowKind, WindowState

NOW = datetime(2026, 8, 10, 12, 0, tzinfo=UTC)
H5, D7 = timedelta(hours=5), timedelta(days=7)


def state(five: float, week: float) -> AccountState:
    windows = (
        Window(
            "five_hour", "5-hour", WindowKind.FIVE_HOUR, five, NOW + timedelta(hours=2), timedelta(hours=5)
        ),
        Window("seven_day", "Weekly", WindowKind.WEEKLY, week, NOW + timedelta(days=3), D7),
    )
    snap = UsageSnapshot(NOW, Source.API, windows)
    states = tuple(WindowState(w, Level.OK, None, None, None, None) for w in windows)
    binding = max(states, key=lambda ws: ws.window.utilization)
    return AccountState(snap, states, binding)


@pytest.mark.parametrize(
    "bad", ["", "   ", "x" * 33, "a\x00b", "tab\there", "a/b", "a\\b", "zero\u200bwidth"]
)
def test_bad_labels_are_refused(bad: str) -> None:
    with pytest.raises(AccountError):
        ac.validate_label(bad)


def test_labels_are_stripped_and_unicode_is_fine() -> None:
    assert ac.validate_label("  Arbeit ü  ") == "Arbeit ü"


def test_check_new_refuses_duplicates_case_blind_and_same_folder() -> None:
    accounts = [Account("default", Path("/h/.claude"), "default"), Account("Work", Path("/h/w"), "Work")]
    with pytest.raises(AccountError, match="already an account"):
        ac.check_new(accounts, "work", Path("/h/x"))
    with pytest.raises(AccountError, match="already the folder"):
        ac.check_new(accounts, "Other", Path("/h/w"))
    renamed = [Account("Personal", Path("/h/.claude"), "default")]
    with pytest.raises(AccountError, match="was the name"):
        ac.check_new(renamed, "default", Path("/h/y"))
    assert ac.check_new(accounts, "Home", Path("/h/home")) == "Home"


def test_stagger_spreads_first_polls_over_one_interval() -> None:
    offsets = ac.stagger_offsets(["a", "b", "c"], timedelta(minutes=6))
    assert offsets == {"a": timedelta(0), "b": timedelta(minutes=2), "c": timedelta(minutes=4)}


def test_next_turn_is_the_earliest_due_never_closer_than_the_gap() -> None:
    gap = ac.min_gap(2, timedelta(minutes=5))
    assert gap == timedelta(minutes=1)
    assert ac.min_gap(1, timedelta(minutes=5)) == timedelta(0)
    due = {"a": NOW, "b": NOW - timedelta(seconds=5), "c": None}
    assert ac.next_turn(due, None, gap) == ("b", NOW - timedelta(seconds=5))
    # Both due at once: the second waits the gap after the first's poll.
    assert ac.next_turn({"a": NOW}, NOW, gap) == ("a", NOW + gap)
    assert ac.next_turn({"c": None}, NOW, gap) is None


def test_binding_account_is_the_tightest_and_falls_back_to_the_first() -> None:
    states = {"default": state(20, 30), "Work": state(85, 40)}
    assert ac.binding_label(states, ["default", "Work"]) == "Work"
    assert ac.binding_label({"default": AccountState(None)}, ["default", "Work"]) == "default"


def test_headroom_hint_names_the_roomiest_other_account() -> None:
    states = {"Work": state(95, 80), "Personal": state(10, 38), "Spare": state(5, 90)}
    assert ac.headroom_hint(states, "Work") == "Personal has 62% weekly left"
    assert ac.headroom_hint(states, "Personal") is None  # nobody has more room than Personal
    assert ac.headroom_hint({"Work": state(95, 80)}, "Work") is None


def test_alert_titles_and_keys_per_account() -> None:
    assert ac.account_title("Work", "5-hour at 90%", several=True) == "Work: 5-hour at 90%"
    assert ac.account_title("Work", "5-hour at 90%", several=False) == "5-hour at 90%"
    assert ac.account_key("default", "five_hour@1:t90") == "five_hour@1:t90"
    assert ac.account_key("Work", "five_hour@1:t90") == "account:Work:five_hour@1:t90"


def test_account_of_path_prefers_the_deepest_folder() -> None:
    accounts = [Account("default", Path("/h/.claude"), "default"), Account("W", Path("/h/.claude/w"), "W")]
    assert ac.account_of_path(accounts, Path("/h/.claude/w/projects/x.jsonl")).label == "W"  # type: ignore[union-attr]
    assert ac.account_of_path(accounts, Path("/h/.claude/projects/x.jsonl")).label == "default"  # type: ignore[union-attr]
    assert ac.account_of_path(accounts, Path("/elsewhere/x.jsonl")) is None
