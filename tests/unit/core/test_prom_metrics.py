"""The /metrics renderer: valid names, HELP/TYPE for every family, escaping, no duplicate series,
and the snapshot built from the app's values; checked by promtool and prometheus_client's parser."""

from __future__ import annotations

import math
import re
from datetime import timedelta

import pytest

from tests.helpers.prometheus import promtool_check, series_keys
from tests.helpers.states import NOW, account_state, window_state
from trayapp.core import prom_metrics
from trayapp.core.models import ErrorKind, ExtraUsage, FetchError
from trayapp.core.prom_metrics import (
    FAMILIES,
    LABEL_RE,
    NAME_RE,
    AccountFigures,
    BuildInfo,
    MetricsSnapshot,
    WindowFigures,
    escape_label,
    format_value,
    render,
)
from trayapp.core.prom_snapshot import Activity, snapshot
from trayapp.core.telemetry import TelemetryTotals

BUILD = BuildInfo("1.2.3", "3.11.7", "6.8.0")
HOSTILE = [
    'evil"} 1\nclaude_watch_build_info{version="x"} 2',
    "back\\slash\\",
    "new\nline",
    "quote\"'",
    "tab\there\rcr\x00nul\x7f",
    "ünïcødé 🤖",
    "",
]


def full_snapshot(models: list[str] | None = None) -> MetricsSnapshot:
    names = models or ["claude-opus-4", "claude-sonnet-4"]
    telemetry = TelemetryTotals(
        tokens={(m, t): 10 * i + 1 for i, m in enumerate(names) for t in ("input", "output", "cacheRead")},
        cost_usd={m: 0.5 * (i + 1) for i, m in enumerate(names)},
        requests={m: i + 3 for i, m in enumerate(names)},
        rejected_posts=2,
    )
    extra = ExtraUsage(True, 5000.0, 1234.0, 24.68, "EUR")
    state = account_state(extra=extra)
    activity = Activity(
        polls={"ok": 7, "rate_limited": 1},
        cooldown_until=NOW + timedelta(seconds=90),
        next_poll_at=NOW + timedelta(minutes=5),
        consecutive_failures=2,
        sessions=("working", "needs_you", "idle", "idle"),
        agents=("working",),
        hook_events={"Stop": 3, "Notification": 1},
    )
    return snapshot(state, activity, telemetry, BUILD, NOW)


def test_family_names_and_labels_follow_the_conventions() -> None:
    names = [f.name for f in FAMILIES]
    assert len(names) == len(set(names))
    for f in FAMILIES:
        assert NAME_RE.match(f.name), f.name
        assert f.name.startswith("claude_watch_"), f.name
        assert f.type in ("gauge", "counter")
        assert f.name.endswith("_total") == (f.type == "counter"), f.name
        assert all(LABEL_RE.match(label) and not label.startswith("__") for label in f.labels)
        assert not re.search(r"_(milli|micro)?seconds_total$|_percent", f.name)  # base units


def test_the_docstring_table_lists_every_family_with_its_type_and_labels() -> None:
    doc = prom_metrics.__doc__ or ""
    rows = {
        m.group(1): (m.group(2), m.group(3).split())
        for m in re.finditer(r"^(claude_watch_\w+)\s+(gauge|counter)\s+(.*?)\s{2,}", doc, re.M)
    }
    assert rows == {f.name: (f.type, list(f.labels)) for f in FAMILIES}


def test_every_family_has_help_and_type_before_its_samples() -> None:
    text = render(full_snapshot())
    seen: set[str] = set()
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("# HELP "):
            name = line.split()[2]
            assert lines[i + 1].startswith(f"# TYPE {name} "), line
            seen.add(name)
        elif not line.startswith("#"):
            name = re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line).group(0)  # type: ignore[union-attr]
            assert name in seen, f"sample before its HELP: {line}"
    assert seen == {f.name for f in FAMILIES}
    assert text.endswith("\n")


def test_full_output_passes_promtool_and_has_no_duplicate_series() -> None:
    text = render(full_snapshot())
    result = promtool_check(text)
    assert result.returncode == 0, result.stdout + result.stderr
    keys = series_keys(text)
    assert len(keys) == len(set(keys))
    got = dict(zip(keys, [line.rsplit(" ", 1)[1] for line in text.splitlines() if not line.startswith("#")],
                   strict=True))  # fmt: skip
    assert (
        got[("claude_watch_window_utilization_ratio", (("account", "default"), ("window", "five_hour")))]
        == "0.3"
    )
    assert got[
        ("claude_watch_window_time_to_reset_seconds", (("account", "default"), ("window", "seven_day")))
    ] == str(3 * 86400.0)
    assert got[("claude_watch_extra_usage_used", (("account", "default"), ("currency", "EUR")))] == "12.34"
    assert got[("claude_watch_extra_usage_limit", (("account", "default"), ("currency", "EUR")))] == "50.0"
    assert got[("claude_watch_polls_total", (("account", "default"), ("outcome", "ok")))] == "7"
    assert got[("claude_watch_polls_total", (("account", "default"), ("outcome", "network")))] == "0"
    assert got[("claude_watch_poll_cooldown_seconds", (("account", "default"),))] == "90.0"
    assert got[("claude_watch_sessions", (("state", "idle"),))] == "2"
    assert got[("claude_watch_sessions", (("state", "done"),))] == "0"
    assert got[("claude_watch_agents", (("state", "working"),))] == "1"
    assert got[("claude_watch_hook_events_total", (("event", "Stop"),))] == "3"
    assert got[("claude_watch_hook_events_total", (("event", "SessionStart"),))] == "0"
    model = (("account", "default"), ("model", "claude-sonnet-4"))
    assert got[("claude_watch_telemetry_cost_usd_total", model)] == "1.0"
    assert got[("claude_watch_telemetry_tokens_total", (*model, ("type", "output")))] == "11"
    assert got[("claude_watch_telemetry_rejected_posts_total", ())] == "2"
    assert (
        got[("claude_watch_build_info", (("python", "3.11.7"), ("qt", "6.8.0"), ("version", "1.2.3")))] == "1"
    )


def test_hostile_model_names_are_escaped_and_round_trip() -> None:
    text = render(full_snapshot(HOSTILE))
    result = promtool_check(text)
    assert result.returncode == 0, result.stdout + result.stderr
    models = {dict(labels)["model"] for name, labels in series_keys(text) if name.endswith("cost_usd_total")}
    expected = {re.sub(r"[\x00-\x09\x0b-\x1f\x7f]", "\ufffd", m) for m in HOSTILE}
    assert models == expected
    # The injected line never becomes a sample of its own.
    assert [k for k in series_keys(text) if k[0] == "claude_watch_build_info"] == [
        ("claude_watch_build_info", (("python", "3.11.7"), ("qt", "6.8.0"), ("version", "1.2.3")))
    ]


def test_escape_label_escapes_the_three_and_caps_length() -> None:
    assert escape_label('a\\b"c\nd') == 'a\\\\b\\"c\\nd'
    assert len(escape_label("x" * 10_000)) == prom_metrics.MAX_LABEL_VALUE


def test_labels_equal_after_the_cap_are_one_series_and_counters_add_up() -> None:
    long_a = "m" * 300 + "a"
    long_b = "m" * 300 + "b"
    figures = AccountFigures(cost_usd={long_a: 1.5, long_b: 2.0}, requests={long_a: 1, long_b: 2})
    text = render(MetricsSnapshot(BUILD, accounts=(figures,)))
    keys = series_keys(text)
    assert len(keys) == len(set(keys))
    lines = [line for line in text.splitlines() if line.startswith("claude_watch_telemetry_cost_usd_total{")]
    assert len(lines) == 1
    assert lines[0].endswith(" 3.5")


def test_counters_never_carry_negative_or_nan_values() -> None:
    figures = AccountFigures(cost_usd={"a": -1.0, "b": math.nan, "c": math.inf, "d": 2.0})
    text = render(MetricsSnapshot(BUILD, accounts=(figures,)))
    cost = [line for line in text.splitlines() if line.startswith("claude_watch_telemetry_cost_usd_total{")]
    assert cost == ['claude_watch_telemetry_cost_usd_total{account="default",model="d"} 2.0']


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1, "1"),
        (True, "1"),
        (False, "0"),
        (0.25, "0.25"),
        (math.nan, "NaN"),
        (math.inf, "+Inf"),
        (-math.inf, "-Inf"),
        (1e-7, "1e-07"),
    ],  # fmt: skip
)
def test_format_value(value: float, text: str) -> None:
    assert format_value(value) == text


def test_snapshot_from_the_app_values() -> None:
    error = FetchError(ErrorKind.RATE_LIMITED, "slow down", NOW + timedelta(minutes=3))
    state = account_state(window_state("five_hour", 104.0, timedelta(minutes=30)), error=error, stale=True)
    snap = snapshot(state, Activity(), None, BUILD, NOW)
    (acc,) = snap.accounts
    assert acc.account == "default"
    assert acc.windows == (WindowFigures("five_hour", 1.04, 1800.0),)
    assert acc.errors["rate_limited"] is True
    assert not any(v for k, v in acc.errors.items() if k != "rate_limited")
    assert acc.stale is True
    assert acc.last_success_timestamp == (NOW - timedelta(seconds=60)).timestamp()
    assert set(acc.polls) == {"ok", *(k.value for k in ErrorKind)}
    assert not any(acc.polls.values())
    assert snap.telemetry_rejected is None
    assert not acc.tokens
    text = render(snap)
    assert "\nclaude_watch_telemetry_rejected_posts_total " not in text  # no receiver: no sample


def test_no_state_yet_still_renders_the_activity() -> None:
    text = render(snapshot(None, Activity(polls={"network": 2}), None, BUILD, NOW))
    assert promtool_check(text).returncode == 0
    assert 'claude_watch_polls_total{account="default",outcome="network"} 2' in text
    assert "claude_watch_window_utilization_ratio{" not in text
    assert "claude_watch_last_success_timestamp_seconds{" not in text
