"""The telemetry fold: events and counters counted once, either temporality, retries ignored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from trayapp.core.telemetry import ApiRequest
from trayapp.core.telemetry_fold import COST, Changes, CounterPoint, TelemetryFold

NOW = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)
NS = 10**9


def request(at: datetime = NOW, session: str = "s1", model: str = "opus", n: int = 100) -> ApiRequest:
    return ApiRequest(at, session, model, input_tokens=n, output_tokens=10, cost_usd=0.5)


def point(value: float, *, kind: str = "input", start: int = 1, end: int = 2, cumulative: bool = False,
          session: str = "s1") -> CounterPoint:  # fmt: skip
    base = int(NOW.timestamp()) * NS
    return CounterPoint(session, "opus", kind, base + start * NS, base + end * NS, value, cumulative)


def test_events_count_and_a_retried_batch_adds_nothing() -> None:
    fold = TelemetryFold(UTC)
    changes = Changes()
    fold.add_requests([request(), request(NOW + timedelta(seconds=1))], NOW, changes)
    fold.add_requests([request()], NOW, changes)  # the exporter's retry of the first
    totals = fold.totals(NOW)
    assert totals.requests == {"opus": 2}
    assert totals.tokens[("opus", "input")] == 200
    assert totals.tokens[("opus", "output")] == 20
    assert totals.cost_usd["opus"] == 1.0
    assert totals.sessions["s1"].requests == 2
    assert totals.sessions["s1"].tokens == 220
    assert totals.today_tokens == 220
    assert changes.duplicates == 1
    assert len(changes.events) == 2


def test_delta_points_count_once_per_window() -> None:
    fold = TelemetryFold(UTC)
    fold.add_points([point(30, start=0, end=60)], NOW, Changes())
    fold.add_points([point(30, start=0, end=60)], NOW, Changes())  # retry
    fold.add_points([point(12, start=60, end=120)], NOW, Changes())
    assert fold.totals(NOW).tokens[("opus", "input")] == 42


def test_cumulative_points_count_growth_and_a_restart_counts_whole() -> None:
    fold = TelemetryFold(UTC)
    for value, end in ((30, 60), (30, 120), (50, 180), (50, 170)):  # same, growth, stale
        fold.add_points([point(value, start=0, end=end, cumulative=True)], NOW, Changes())
    assert fold.totals(NOW).tokens[("opus", "input")] == 50
    fold.add_points([point(7, start=500, end=560, cumulative=True)], NOW, Changes())  # a new process
    assert fold.totals(NOW).tokens[("opus", "input")] == 57
    fold.add_points([point(3, start=0, end=240, cumulative=True)], NOW, Changes())  # reset, same start
    assert fold.totals(NOW).tokens[("opus", "input")] == 60


def test_events_and_counters_of_the_same_requests_are_not_added_up() -> None:
    fold = TelemetryFold(UTC)
    fold.add_requests([request(n=100), request(NOW + timedelta(seconds=1), n=50)], NOW, Changes())
    fold.add_points([point(150, start=0, end=60)], NOW, Changes())  # the same 150 input tokens
    assert fold.totals(NOW).tokens[("opus", "input")] == 150
    # The counters saw a request the events missed (a lost log batch): only the difference counts.
    fold.add_points([point(40, start=60, end=120)], NOW, Changes())
    assert fold.totals(NOW).tokens[("opus", "input")] == 190
    fold.add_requests([request(NOW + timedelta(seconds=2), n=40)], NOW, Changes())  # that one, late
    assert fold.totals(NOW).tokens[("opus", "input")] == 190
    fold.add_points([point(0.2, kind=COST, start=0, end=60)], NOW, Changes())
    assert fold.totals(NOW).cost_usd["opus"] == 1.5  # events' 3 x 0.5 lead


def test_today_follows_the_time_zone_and_midnight() -> None:
    fold = TelemetryFold(UTC)
    fold.add_requests([request(NOW - timedelta(days=1), session="old")], NOW, Changes())
    fold.add_requests([request(NOW)], NOW, Changes())
    assert fold.totals(NOW).today_tokens == 110
    assert fold.totals(NOW + timedelta(days=1)).today_tokens == 0
    assert fold.totals(NOW).tokens[("opus", "input")] == 200


def test_prune_forgets_dedupe_keys_after_a_day_and_old_cells() -> None:
    fold = TelemetryFold(UTC)
    fold.add_requests([request()], NOW, Changes())
    fold.prune(NOW + timedelta(days=2))
    fold.add_requests([request()], NOW + timedelta(days=2), Changes())  # no longer remembered
    assert fold.totals(NOW).requests == {"opus": 2}
    fold.prune(NOW + timedelta(days=40))
    assert fold.cells == {}
    assert fold.totals(NOW).tokens[("opus", "input")] == 200  # all-time totals stay
