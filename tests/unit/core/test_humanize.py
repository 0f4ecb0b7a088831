"""Countdowns, ages, money and the projection sentences."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest

from tests.helpers.states import NOW, account_state, error, window_state
from trayapp.core import humanize
from trayapp.core.models import ErrorKind, ExtraUsage


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(seconds=-5), "now"),
        (timedelta(0), "now"),
        (timedelta(seconds=30), "30 s"),
        (timedelta(minutes=1), "1 min"),
        (timedelta(minutes=45, seconds=59), "45 min"),
        (timedelta(hours=1), "1 h"),
        (timedelta(hours=1, minutes=12), "1 h 12 min"),
        (timedelta(days=2, hours=4, minutes=3), "2 d 4 h"),
        (timedelta(days=3), "3 d"),
        (None, "—"),
    ],
)
def test_countdown(delta, text) -> None:
    assert humanize.format_countdown(delta) == text


@pytest.mark.parametrize(
    ("age", "text"),
    [
        (None, "not updated yet"),
        (10, "updated just now"),
        (180, "updated 3 min ago"),
        (7200, "updated 2 h ago"),
        (3 * 86400, "updated 3 d ago"),
    ],
)
def test_age(age, text) -> None:
    assert humanize.format_age(age) == text


def test_money_in_its_currency() -> None:
    assert humanize.format_money(12.345, "USD") == "$12.35"
    assert humanize.format_money(1234.5, "EUR") == "€1,234.50"
    assert humanize.format_money(5, "CHF") == "5.00 CHF"
    on = ExtraUsage(True, 15500, 5652, 36.5, "AUD")
    assert humanize.extra_usage_text(on) == "A$56.52 of A$155.00 this month"
    assert humanize.extra_usage_text(ExtraUsage(False, None, None, None)) == "Extra usage is off"


def test_pace_words_run_out_and_on_track() -> None:
    runs_out = window_state("five_hour", 60.0, timedelta(hours=2), rate=40.0)
    assert humanize.pace_text(runs_out, NOW, UTC) == "at this pace: 100% at 13:00, 1 h before reset"
    fine = window_state("five_hour", 30.0, timedelta(hours=2), rate=10.0)
    assert humanize.pace_text(fine, NOW, UTC) == "on track: about 50% at reset"
    idle = window_state("five_hour", 30.0, timedelta(hours=2), rate=None)
    assert humanize.pace_text(idle, NOW, UTC) == ""
    full = window_state("five_hour", 100.0, timedelta(hours=2))
    assert humanize.pace_text(full, NOW, UTC) == "limit reached: wait for the reset"


def test_a_projection_past_100_without_a_time_says_over_the_limit() -> None:
    """Issue 20: a projection above 100% read "on track: about 100% at reset"."""
    from dataclasses import replace

    over = replace(window_state("five_hour", 60.0, timedelta(hours=2), rate=10.0), projected_at_reset=120.0)
    over = replace(over, projected_full_at=None)
    assert humanize.pace_text(over, NOW, UTC) == "at this pace: over the limit by 20% at reset"


def test_reset_text_counts_from_now() -> None:
    ws = window_state("seven_day", 20.0, timedelta(days=2, hours=3))
    assert humanize.reset_text(ws, NOW, UTC) == "resets in 2 d 3 h · Wed 15:00"
    assert humanize.reset_text(ws, NOW + timedelta(days=3), UTC) == "reset due now"


def test_tooltip_lists_every_window() -> None:
    state = account_state()
    text = humanize.tooltip_text(state, NOW, UTC)
    assert text.splitlines() == ["Claude Watch", "5-hour: 30%, resets in 2 h", "Weekly: 20%, resets in 3 d"]
    failed = account_state(no_snapshot=True, error=error(ErrorKind.AUTH))
    assert "Login expired" in humanize.tooltip_text(failed, NOW, UTC)


@pytest.mark.parametrize("kind", list(ErrorKind))
def test_every_error_kind_has_a_fix(kind) -> None:
    text = humanize.banner_text(account_state(error=error(kind)), NOW, UTC)
    assert text
    assert "failed" not in text


@pytest.mark.parametrize(
    ("name", "short"),
    [
        ("claude-sonnet-4-5-20250929", "sonnet-4.5"),
        ("claude-opus-4-8-fast", "opus-4.8-fast"),
        ("claude-haiku-4-5-20251001", "haiku-4.5"),
        ("claude-opus-4-1", "opus-4.1"),
        ("claude-3-5-sonnet-20241022", "3.5-sonnet"),
        ("claude-mystery-9", "mystery-9"),
        ("gpt-5", "gpt-5"),
    ],
)
def test_short_model_names(name: str, short: str) -> None:
    assert humanize.short_model_name(name) == short


def test_display_text_turns_code_marks_into_quotes() -> None:
    """Issue 20: GUI text showed literal Markdown backticks."""
    assert humanize.display_text("run `claude` and use `/login`") == "run “claude” and use “/login”"
    assert humanize.display_text("no marks") == "no marks"
    assert humanize.display_text("one ` stray") == "one ` stray"  # unbalanced: left alone
