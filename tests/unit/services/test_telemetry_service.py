"""The telemetry service with its real SQLite store: totals survive a restart without counting a
cumulative series twice, a malformed body stores nothing, raw events are pruned, the daily report."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from tests.helpers.otlp_bodies import T_NS, logs_message, metrics_message
from trayapp.services.telemetry_service import TelemetryService
from trayapp.sources.otlp_decode import JSON, PROTOBUF, OtlpError
from trayapp.store.telemetry_repo import RAW_DAYS

NOW = datetime.fromtimestamp(T_NS / 1e9, UTC) + timedelta(seconds=5)
S = 10**9


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def request_body(t_ns: int, tokens: int = 100) -> bytes:
    message = logs_message(t_ns, input_tokens=str(tokens), output_tokens="10", cost_usd="0.5")
    return message.SerializeToString()


def service(path: Path, clock: Clock) -> TelemetryService:
    svc = TelemetryService(UTC, path=path, clock=clock)
    svc.open_blocking()
    return svc


def test_totals_survive_a_restart_and_a_cumulative_series_is_not_counted_twice(tmp_path: Path) -> None:
    path, clock = tmp_path / "telemetry.sqlite3", Clock()
    first = service(path, clock)
    first.ingest_body("logs", request_body(T_NS), PROTOBUF, None)
    first.ingest_body("logs", request_body(T_NS + S), PROTOBUF, None)
    # The counters' cumulative series of the same process: cacheRead 7 so far.
    first.ingest_body(
        "metrics", metrics_message(7.0, time_ns=T_NS + 2 * S).SerializeToString(), PROTOBUF, None
    )
    before = first.totals()
    assert before is not None
    assert before.requests == {"opus": 2}
    assert before.tokens[("opus", "input")] == 200
    assert before.tokens[("opus", "cacheRead")] == 7
    assert before.sessions["s1"].tokens == 227
    assert first.repo is not None
    first.repo.close()

    second = service(path, clock)  # the app restarted; Claude Code kept running
    assert second.totals() == before
    second.ingest_body(
        "metrics", metrics_message(9.0, time_ns=T_NS + 3 * S).SerializeToString(), PROTOBUF, None
    )
    after = second.totals()
    assert after is not None
    assert after.tokens[("opus", "cacheRead")] == 9  # 7, then 2 more: not 7 + 9
    assert after.today_tokens == 229


def test_a_malformed_body_stores_nothing_and_counts_as_rejected(tmp_path: Path) -> None:
    svc = service(tmp_path / "t.sqlite3", Clock())
    for body in (b"\xff\x00garbage", b'{"resourceLogs": 5}'):
        with pytest.raises(OtlpError):
            svc.ingest_body("logs", body, PROTOBUF if body[0] == 0xFF else JSON, None)
        svc.reject()
    assert svc.repo is not None
    assert set(svc.repo.counts().values()) == {0}
    totals = svc.totals()
    assert totals is not None
    assert (totals.requests, totals.rejected_posts) == ({}, 2)


def test_raw_events_are_pruned_and_the_daily_report_reads_the_cells(tmp_path: Path) -> None:
    clock = Clock()
    svc = service(tmp_path / "t.sqlite3", clock)
    svc.ingest_body("logs", request_body(T_NS), PROTOBUF, None)
    assert svc.repo is not None
    day = datetime.fromtimestamp(T_NS / 1e9, UTC).date()
    report = svc.repo.daily(UTC, None, None)
    assert report == {
        day.isoformat(): {
            "opus": {
                "inputTokens": 100,
                "outputTokens": 10,
                "cacheReadTokens": 0,
                "cacheCreationTokens": 0,
                "costUSD": 0.5,
                "requests": 1,
            }
        }
    }
    assert svc.repo.daily(UTC, day + timedelta(days=1), None) == {}
    assert svc.repo.daily(UTC, date(2020, 1, 1), day - timedelta(days=1)) == {}
    assert svc.repo.prune(NOW + timedelta(days=RAW_DAYS - 1)) == 0
    assert svc.repo.prune(NOW + timedelta(days=RAW_DAYS + 1)) == 1
    assert svc.repo.counts()["api_requests"] == 0
    assert svc.repo.daily(UTC, None, None)[day.isoformat()]["opus"]["requests"] == 1  # counters stay


def test_today_follows_a_new_time_zone(tmp_path: Path) -> None:
    from zoneinfo import ZoneInfo

    clock = Clock()
    day = datetime.fromtimestamp(T_NS / 1e9, UTC).replace(hour=21, minute=30, second=0, microsecond=0)
    clock.now = day + timedelta(hours=1)  # 22:30 UTC, 00:30 the next day in UTC+2
    svc = service(tmp_path / "t.sqlite3", clock)
    svc.ingest_body("logs", request_body(int(day.timestamp()) * S), PROTOBUF, None)
    assert svc.totals().today_tokens == 110  # type: ignore[union-attr]
    told: list[int] = []
    svc.subscribe(lambda: told.append(1))
    svc.set_timezone(ZoneInfo("Etc/GMT-2"))
    assert svc.totals().today_tokens == 0  # type: ignore[union-attr]
    assert told == [1]
