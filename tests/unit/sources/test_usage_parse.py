"""The usage-response parser on every reference payload and on hostile ones."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trayapp.core.models import Source, WindowKind
from trayapp.sources.usage_parse import BadResponse, parse_usage, window_label

NOW = datetime(2026, 8, 10, 12, 0, tzinfo=UTC)


def load(oauth_dir: Path, name: str) -> bytes:
    return (oauth_dir / name).read_bytes()


def test_newest_shape(oauth_dir: Path) -> None:
    parsed = parse_usage(load(oauth_dir, "usage-response-2026-08.json"), NOW)
    snap = parsed.snapshot
    assert [w.id for w in snap.windows] == [
        "five_hour",
        "seven_day",
        "seven_day_sonnet",
        "weekly_scoped:Fable 5",
    ]
    five = snap.window("five_hour")
    assert five is not None
    assert five.utilization == 37.0
    assert five.kind is WindowKind.FIVE_HOUR
    assert five.resets_at == datetime(2026, 8, 10, 14, 0, 0, 482913, tzinfo=UTC)
    fable = snap.window("weekly_scoped:Fable 5")
    assert fable is not None
    assert fable.utilization == 9
    assert fable.label == "Weekly · Fable 5"
    assert fable.kind is WindowKind.WEEKLY_SCOPED
    assert snap.window("seven_day_sonnet").label == "Weekly · Sonnet"
    extra = snap.extra_usage
    assert extra is not None
    assert extra.is_enabled
    assert extra.used == 12.34
    assert extra.monthly_limit == 50.0
    assert extra.currency == "USD"
    assert snap.source is Source.API
    assert snap.fetched_at == NOW
    assert parsed.notes == ()


def test_claude_ai_shape(oauth_dir: Path) -> None:
    snap = parse_usage(load(oauth_dir, "claude-ai-usage-response.json"), NOW).snapshot
    assert [w.id for w in snap.windows] == ["five_hour", "seven_day", "seven_day_sonnet"]


def test_minimal_2025_shape_drops_placeholder(oauth_dir: Path) -> None:
    snap = parse_usage(load(oauth_dir, "usage-response-2025-12-minimal.json"), NOW).snapshot
    # seven_day_opus is {0.0, null}: a placeholder, not a window.
    assert [w.id for w in snap.windows] == ["five_hour", "seven_day"]
    assert snap.extra_usage is not None
    assert not snap.extra_usage.is_enabled
    assert snap.extra_usage.used is None
    assert snap.extra_usage.monthly_limit is None


def test_enterprise_credits_has_no_windows(oauth_dir: Path) -> None:
    snap = parse_usage(load(oauth_dir, "usage-response-enterprise-credits.json"), NOW).snapshot
    assert snap.windows == ()
    assert snap.extra_usage is not None
    assert snap.extra_usage.currency == "AUD"
    assert snap.extra_usage.used == pytest.approx(56.52)


def test_every_reference_usage_payload_parses(oauth_dir: Path) -> None:
    names = [p.name for p in oauth_dir.glob("*usage-response*.json")]
    assert len(names) == 4
    for name in names:
        parse_usage(load(oauth_dir, name), NOW)


def test_scoped_limit_with_flat_twin_is_not_duplicated() -> None:
    body = {
        "seven_day_sonnet": {"utilization": 4.0, "resets_at": "2026-08-14T06:00:00+00:00"},
        "limits": [
            {
                "kind": "weekly_scoped",
                "percent": 4,
                "resets_at": "2026-08-14T06:00:00+00:00",
                "scope": {"model": {"display_name": "Sonnet"}},
            },
        ],
    }
    snap = parse_usage(json.dumps(body), NOW).snapshot
    assert [w.id for w in snap.windows] == ["seven_day_sonnet"]


def test_limits_fill_in_null_flat_windows() -> None:
    body = {
        "five_hour": None,
        "seven_day": None,
        "limits": [
            {"kind": "session", "percent": 12, "resets_at": "2026-08-10T14:00:00Z"},
            {"kind": "weekly_all", "percent": 30, "resets_at": "2026-08-14T06:00:00Z"},
            {"kind": "something_new", "percent": 99},
        ],
    }
    snap = parse_usage(json.dumps(body), NOW).snapshot
    assert [(w.id, w.utilization) for w in snap.windows] == [("five_hour", 12.0), ("seven_day", 30.0)]


def test_other_seven_day_keys_are_labelled() -> None:
    body = {"seven_day_cowork": {"utilization": 5, "resets_at": None}, "seven_day_oauth_apps": None}
    snap = parse_usage(json.dumps(body), NOW).snapshot
    assert [(w.id, w.label) for w in snap.windows] == [("seven_day_cowork", "Weekly · Cowork")]
    assert window_label("seven_day_opus") == "Weekly · Opus"


def test_unknown_keys_ignored() -> None:
    body = {"five_hour": {"utilization": 1, "resets_at": None, "new": [1]}, "iguana_necktie": {"x": 1}}
    snap = parse_usage(json.dumps(body), NOW).snapshot
    assert [w.id for w in snap.windows] == ["five_hour"]


@pytest.mark.parametrize(
    "body",
    [
        b"<!DOCTYPE html><html><body>Cloudflare</body></html>",
        b"",
        b"[1, 2, 3]",
        b"null",
        b'"text"',
        b"{}",
        b'{"hello": "world"}',
        b"[" * 100000,
        b"\xff\xfe\x00garbage",
    ],
)
def test_garbage_bodies_are_typed_errors(body: bytes) -> None:
    with pytest.raises(BadResponse):
        parse_usage(body, NOW)


@pytest.mark.parametrize(
    "value",
    ["NaN", "Infinity", "-Infinity", "-5", "1e400", "1e308", '"37"', "true", "[]", "{}"],
)
def test_hostile_numbers_skip_the_field_with_a_note(value: str) -> None:
    body = (
        '{"five_hour": {"utilization": %s, "resets_at": null},'
        ' "seven_day": {"utilization": 5, "resets_at": null}}'
    )
    parsed = parse_usage(body % value, NOW)
    assert [w.id for w in parsed.snapshot.windows] == ["seven_day"]
    assert parsed.notes
    assert parsed.notes[0].startswith("five_hour.utilization")


def test_all_fields_broken_is_a_typed_error() -> None:
    with pytest.raises(BadResponse):
        parse_usage('{"five_hour": "x", "seven_day": {"utilization": NaN}}', NOW)


def test_bad_reset_time_keeps_the_window() -> None:
    parsed = parse_usage('{"five_hour": {"utilization": 3, "resets_at": "tomorrow"}}', NOW)
    w = parsed.snapshot.window("five_hour")
    assert w is not None
    assert w.resets_at is None
    assert parsed.notes


def test_extra_usage_hostile_fields() -> None:
    body = {
        "five_hour": None,
        "extra_usage": {
            "is_enabled": "yes",
            "monthly_limit": -1,
            "used_credits": math.inf,
            "utilization": None,
            "currency": "dollars",
            "decimal_places": 99,
        },
    }
    parsed = parse_usage(json.dumps(body, allow_nan=True), NOW)
    e = parsed.snapshot.extra_usage
    assert e is not None
    assert e.is_enabled is False
    assert e.monthly_limit_minor is None
    assert e.used_minor is None
    assert e.currency == "USD"
    assert e.decimal_places == 2
    assert len(parsed.notes) >= 4


def test_decimal_places_respected() -> None:
    body = {
        "extra_usage": {
            "is_enabled": True,
            "monthly_limit": 15500,
            "used_credits": 5652,
            "currency": "JPY",
            "decimal_places": 0,
        }
    }
    e = parse_usage(json.dumps(body), NOW).snapshot.extra_usage
    assert e is not None
    assert e.used == 5652
    assert e.currency == "JPY"


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=30,
)
usage_like = st.fixed_dictionaries(
    {},
    optional={
        "five_hour": json_values,
        "seven_day": json_values,
        "seven_day_opus": json_values,
        "seven_day_x": st.fixed_dictionaries(
            {}, optional={"utilization": json_values, "resets_at": json_values}
        ),
        "extra_usage": st.dictionaries(
            st.sampled_from(
                ["is_enabled", "monthly_limit", "used_credits", "utilization", "currency", "decimal_places"]
            ),
            json_values,
        ),
        "limits": st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "kind": st.sampled_from(["session", "weekly_all", "weekly_scoped", "x"]) | json_values,
                    "percent": json_values,
                    "resets_at": json_values | st.datetimes().map(lambda d: d.isoformat()),
                    "scope": json_values
                    | st.fixed_dictionaries({"model": st.fixed_dictionaries({"display_name": json_values})}),
                },
            ),
            max_size=4,
        ),
    },
)


@settings(max_examples=300, deadline=None)
@given(body=json_values | usage_like)
def test_arbitrary_json_never_raises_anything_but_bad_response(body: object) -> None:
    text = json.dumps(body, allow_nan=True)
    try:
        parsed = parse_usage(text, NOW)
    except BadResponse:
        return
    for w in parsed.snapshot.windows:
        assert math.isfinite(w.utilization)
        assert 0 <= w.utilization <= 1000


@settings(max_examples=100, deadline=None)
@given(raw=st.binary(max_size=200))
def test_arbitrary_bytes_never_raise_anything_but_bad_response(raw: bytes) -> None:
    try:
        parse_usage(raw, NOW)
    except BadResponse:
        pass
