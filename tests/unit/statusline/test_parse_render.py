"""Parsing of statusline stdin and rendering of the line."""

from __future__ import annotations

import json

import pytest

from tests.helpers.statusline_support import EXAMPLES, NOW, example
from trayapp.core.humanize import format_countdown
from trayapp.core.models import level_for
from trayapp.statusline import parse, render
from trayapp.statusline.fastpaths import DEFAULT_SEGMENTS
from trayapp.statusline.render import colour_code


def norm(data: dict, now: float = NOW) -> tuple[dict, list[str]]:
    problems: list[str] = []
    return parse.normalize(data, now, problems), problems


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_normalizes_and_renders(path) -> None:
    data = json.loads(path.read_text())
    cap, problems = norm(data)
    assert problems == []
    assert cap["session_id"] == data["session_id"]
    assert cap["model_name"] == data["model"]["display_name"]
    assert cap["cost_usd"] == pytest.approx(data["cost"]["total_cost_usd"])
    assert cap["version"] == data["version"]
    line = render.render(cap, DEFAULT_SEGMENTS, NOW, colour=False)
    assert line.startswith(data["model"]["display_name"])
    assert "\n" not in line


def test_full_example_fields() -> None:
    cap, _ = norm(example("stdin-2.1.220-full.json"))
    assert cap["project_dir"] == "/Users/alice/code/webapp"
    assert cap["lines_added"] == 48
    assert cap["lines_removed"] == 6
    assert cap["context"] == {
        "used_percentage": 3.0,
        "size": 1000000,
        "input_tokens": 30382,
        "output_tokens": 612,
    }
    assert cap["rate_limits"] == {
        "five_hour": {"used_percentage": 37.0, "resets_at": 1786370400.0},
        "seven_day": {"used_percentage": 22.5, "resets_at": 1786687200.0},
    }
    line = render.render(
        cap, ("model", "five_hour", "seven_day", "session_cost", "context"), NOW, colour=False
    )
    assert line == "Opus 4.8 · 5h 37% 4h · wk 22% · $0.42 · ctx 3%"  # 4 h exactly: no "00m"


def test_session_start_has_no_rate_limits_and_null_context() -> None:
    cap, problems = norm(example("stdin-2.1.220-session-start.json"))
    assert problems == []
    assert cap["rate_limits"] == {}
    assert cap["context"]["used_percentage"] is None
    assert render.render(cap, ("model", "five_hour", "context"), NOW, colour=False) == "Sonnet 4.6"


def test_legacy_and_ccusage_examples_have_no_context_percent() -> None:
    # Before 2.1.132 the totals were cumulative, so they must not be read as a context fill.
    cap, _ = norm(example("ccusage-statusline-test-opus4.json"))
    assert cap["context"]["used_percentage"] is None
    assert cap["context"]["input_tokens"] == 85000


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            {"used_percentage": "41.5", "resets_at": "1786370400"},
            {"used_percentage": 41.5, "resets_at": 1786370400.0},
        ),
        (
            {"used_percentage": 12, "resets_at": "2026-08-10T14:00:00Z"},
            {"used_percentage": 12.0, "resets_at": 1786370400.0},
        ),
        (
            {"used_percentage": 12, "resets_at": "2026-08-10T14:00:00"},
            {"used_percentage": 12.0, "resets_at": 1786370400.0},
        ),
        (
            {"used_percentage": 12, "resets_at": 1786370400000},
            {"used_percentage": 12.0, "resets_at": 1786370400.0},
        ),
        ({"used_percentage": 12, "resets_at": None}, {"used_percentage": 12.0, "resets_at": None}),
        ({"utilization": 55, "resets_at": 1786370400}, {"used_percentage": 55.0, "resets_at": 1786370400.0}),
    ],
)
def test_rate_limit_value_forms(raw: dict, expected: dict) -> None:
    cap, _ = norm({"rate_limits": {"five_hour": raw}})
    assert cap["rate_limits"]["five_hour"] == expected


@pytest.mark.parametrize(
    "bad",
    [
        {"used_percentage": 1786370400, "resets_at": 1786370400},  # the known epoch leak
        {"used_percentage": -3},
        {"used_percentage": "lots"},
        {"used_percentage": True},
        {"used_percentage": None},
        {"used_percentage": float("nan")},
    ],
)
def test_unusable_percentages_drop_the_window(bad: dict) -> None:
    cap, problems = norm({"rate_limits": {"five_hour": bad, "seven_day": {"used_percentage": 5}}})
    assert "five_hour" not in cap["rate_limits"]
    assert cap["rate_limits"]["seven_day"]["used_percentage"] == 5.0
    if bad["used_percentage"] is not None:
        assert any("five_hour" in p for p in problems)


def test_scoped_windows_kept_and_foreign_keys_ignored() -> None:
    cap, _ = norm(
        {
            "rate_limits": {
                "seven_day_opus": {"used_percentage": 80, "resets_at": 1786687200},
                "seven_day_sonnet": None,
                "mystery": {"used_percentage": 1},
                "seven_day_../../x": {"used_percentage": 1},
            }
        }
    )
    assert list(cap["rate_limits"]) == ["seven_day_opus"]


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"   \n",
        b"garbage",
        b"[1,2,3]",
        b"null",
        b'"text"',
        b"{" * 100000,
        b'{"model": 5}',
        b"\xff\xfe\x00",
    ],
)
def test_garbage_still_gives_a_line(raw: bytes) -> None:
    problems: list[str] = []
    data = parse.decode(raw, problems)
    cap = parse.normalize(data, NOW, problems) if data else None
    line = render.render(cap, ("model", "five_hour", "seven_day", "session_cost"), NOW, colour=False)
    assert line
    assert "\n" not in line


def test_huge_stdin_is_refused_not_parsed() -> None:
    problems: list[str] = []
    big = b'{"x": "' + b"a" * (parse.MAX_STDIN + 10) + b'"}'
    assert parse.decode(big, problems) == {}
    assert "too large" in problems[0]


def test_wrong_types_everywhere() -> None:
    data = {
        "session_id": 12345,
        "model": {"id": None, "display_name": ["x"]},
        "cost": {"total_cost_usd": "0.5", "total_lines_added": "7", "total_duration_ms": "abc"},
        "context_window": {"used_percentage": "150", "context_window_size": "200000"},
        "workspace": "nope",
        "rate_limits": [1, 2],
    }
    cap, _ = norm(data)
    assert cap["session_id"] == "12345"
    assert cap["model_name"] is None
    assert cap["cost_usd"] == 0.5
    assert cap["lines_added"] == 7
    assert cap["duration_ms"] is None
    assert cap["context"]["used_percentage"] is None  # > 100 is not a fill
    assert cap["rate_limits"] == {}
    assert render.render(cap, ("model", "session_cost"), NOW, colour=False) == "$0.50"


def test_colours_follow_the_level_thresholds() -> None:
    names = render.LEVEL_NAMES
    for pct in (0, 10, 74.9, 75, 89.99, 90, 99.5, 100, 140):
        assert names[colour_code(pct)] == level_for(pct).value


def test_colour_and_no_colour_output() -> None:
    cap, _ = norm({"model": {"display_name": "Opus"}, "rate_limits": {"five_hour": {"used_percentage": 92}}})
    coloured = render.render(cap, ("model", "five_hour"), NOW, colour=True)
    assert "\x1b[31m92%\x1b[0m" in coloured
    plain = render.render(cap, ("model", "five_hour"), NOW, colour=False)
    assert plain == "Opus · 5h 92%"
    assert "\x1b" not in plain


def test_control_characters_never_reach_the_terminal() -> None:
    cap, _ = norm({"model": {"display_name": "Evil\n\x1b[2Jname"}})
    line = render.render(cap, ("model",), NOW, colour=False)
    assert "\n" not in line
    assert "\x1b" not in line


def test_countdown_forms() -> None:
    """The statusline's compact countdowns (a zero second unit is left out, as in the popup)."""

    def countdown(seconds: float) -> str:
        return format_countdown(seconds, compact=True)

    assert countdown(30) == "<1m"
    assert countdown(45 * 60) == "45m"
    assert countdown(2 * 3600 + 5 * 60) == "2h05m"
    assert countdown(2 * 3600 + 30) == "2h"
    assert countdown(3 * 86400 + 4 * 3600 + 59) == "3d4h"
    assert countdown(3 * 86400 + 59 * 60) == "3d"


def test_window_past_its_reset_shows_zero() -> None:
    cap, _ = norm({"rate_limits": {"five_hour": {"used_percentage": 88, "resets_at": NOW - 60}}})
    assert render.render(cap, ("five_hour",), NOW, colour=False) == "5h 0%"


def test_fresh_latest_fills_in_and_stale_latest_does_not() -> None:
    cap, _ = norm({"model": {"display_name": "Opus"}})
    latest = {
        "captured_at": NOW - 120,
        "rate_limits": {"five_hour": {"used_percentage": 40, "resets_at": None}},
    }
    assert render.render(cap, ("model", "five_hour"), NOW, colour=False, latest=latest) == "Opus · 5h 40%"
    latest["captured_at"] = NOW - 601
    assert render.render(cap, ("model", "five_hour"), NOW, colour=False, latest=latest) == "Opus"


def test_today_segment() -> None:
    assert render.render(None, ("today_cost",), NOW, colour=False, today=1.234) == "today $1.23"
    assert render.render(None, ("model",), NOW, colour=False) == render.FALLBACK


def test_huge_integers_are_not_numbers() -> None:
    cap, _ = norm(
        {"cost": {"total_cost_usd": 10**400}, "rate_limits": {"five_hour": {"used_percentage": 10**400}}}
    )
    assert cap["cost_usd"] is None
    assert cap["rate_limits"] == {}


def test_width_drops_the_limit_figures_last() -> None:
    """Too narrow a row loses costs and context first, then the model name, then the weekly
    figure; the 5-hour figure stays (issue 20: at 20 columns it kept the model instead)."""
    cap, _ = norm(example("stdin-2.1.220-full.json"))
    segments = ("model", "five_hour", "seven_day", "session_cost", "context")
    full_line = render.render(cap, segments, NOW, colour=True)
    assert render.visible_len(full_line) == len("Opus 4.8 · 5h 37% 4h · wk 22% · $0.42 · ctx 3%")
    assert (
        render.render(cap, segments, NOW, colour=False, width=38) == "Opus 4.8 · 5h 37% 4h · wk 22% · ctx 3%"
    )
    assert render.render(cap, segments, NOW, colour=False, width=30) == "Opus 4.8 · 5h 37% 4h · wk 22%"
    assert render.render(cap, segments, NOW, colour=False, width=28) == "5h 37% 4h · wk 22%"
    assert render.render(cap, segments, NOW, colour=False, width=20) == "5h 37% 4h · wk 22%"
    assert render.render(cap, segments, NOW, colour=False, width=17) == "5h 37% 4h"
    narrow = render.render(cap, segments, NOW, colour=True, width=30)
    assert render.visible_len(narrow) <= 30
    assert "\x1b" in narrow
    assert render.render(cap, segments, NOW, colour=False, width=3) == "5h 37% 4h"
    only_model = render.render(cap, ("model", "session_cost"), NOW, colour=False, width=10)
    assert only_model == "Opus 4.8"


@pytest.mark.parametrize(
    "evil",
    [
        "Evil\x9b2Jname",  # C1 CSI: an escape sequence on some terminals
        "Evil\x85\x90\x9dname",  # other C1 controls
        "Evil\u202ename",  # right-to-left override
        "Evil\u2066\u2067\u2068\u2069name",  # isolates
        "Evil\u202a\u202b\u202c\u202dname",  # embeddings and the left-to-right override
        "Evil\u200e\u200f\u061cname",  # marks
        "Evil\u2028\u2029name",  # line and paragraph separators
    ],
)
def test_c1_and_bidi_controls_never_reach_the_terminal(evil: str) -> None:
    cap, _ = norm({"model": {"display_name": evil}})
    line = render.render(cap, ("model",), NOW, colour=False)
    assert line == "Evilname" or line == "Evil2Jname", ascii(line)
