"""The app-side reader: fresh snapshot for the engine, version, live sessions."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.helpers.statusline_support import FULL, NOW
from trayapp.core.models import Source, WindowKind
from trayapp.sources import statusline_capture as sc
from trayapp.statusline import capture, parse


def store(state: Path, payload: dict, at: float) -> None:
    cap = parse.normalize(payload, at, [])
    day, start = capture.local_day(at)
    if cap.get("session_id"):
        capture.write_session(str(state), cap, day, start)
    capture.update_latest(str(state), cap)


def when(at: float) -> datetime:
    return datetime.fromtimestamp(at, UTC)


def full() -> dict:
    return json.loads(FULL.read_text())


def test_fresh_snapshot_from_a_capture(state_dir: Path) -> None:
    payload = full()
    payload["rate_limits"]["seven_day_opus"] = {"used_percentage": "61", "resets_at": "2026-08-14T06:00:00Z"}
    store(state_dir, payload, NOW - 30)
    snap = sc.fresh_snapshot(when(NOW), timedelta(minutes=5))
    assert snap is not None
    assert snap.source is Source.STATUSLINE
    assert snap.client_version == "2.1.220"
    assert snap.fetched_at == when(NOW - 30)
    assert [w.id for w in snap.windows] == ["five_hour", "seven_day", "seven_day_opus"]
    five, week, opus = snap.windows
    assert five.kind is WindowKind.FIVE_HOUR
    assert five.utilization == 37
    assert five.resets_at == when(1786370400)
    assert five.length == timedelta(hours=5)
    assert week.kind is WindowKind.WEEKLY
    assert week.utilization == 22.5
    assert week.length == timedelta(days=7)
    assert opus.kind is WindowKind.WEEKLY_SCOPED
    assert opus.utilization == 61
    assert opus.label.startswith("Weekly")


def test_too_old_and_stale_captures_are_ignored(state_dir: Path) -> None:
    store(state_dir, full(), NOW - 400)
    assert sc.fresh_snapshot(when(NOW), timedelta(minutes=5)) is None
    assert sc.fresh_snapshot(when(NOW), timedelta(minutes=7)) is not None
    # Whatever the caller asks, older than 10 minutes is stale.
    assert sc.fresh_snapshot(when(NOW + 300), timedelta(hours=1)) is None
    # Far-future captures (a broken clock) are not trusted either.
    assert sc.fresh_snapshot(when(NOW - 1000), timedelta(minutes=5)) is None


def test_no_rate_limits_no_snapshot(state_dir: Path) -> None:
    store(state_dir, json.loads((FULL.parent / "stdin-2.1.220-session-start.json").read_text()), NOW)
    assert sc.fresh_snapshot(when(NOW), timedelta(minutes=5)) is None
    assert sc.fresh_snapshot(when(NOW), timedelta(minutes=5), state_dir / "nowhere") is None


def test_newest_of_shared_file_and_sessions_wins(state_dir: Path) -> None:
    a, b = full(), full()
    b["session_id"] = "other"
    b["rate_limits"]["five_hour"]["used_percentage"] = 55
    store(state_dir, a, NOW - 20)
    store(state_dir, b, NOW - 10)
    # Simulate a lost race: an older writer replaced the shared file last.
    latest = state_dir / "statusline" / "rate-limits.json"
    data = json.loads(latest.read_text())
    data["captured_at"] = NOW - 20
    data["rate_limits"]["five_hour"]["used_percentage"] = 37
    latest.write_text(json.dumps(data))
    snap = sc.fresh_snapshot(when(NOW), timedelta(minutes=5))
    assert snap is not None
    assert snap.window("five_hour").utilization == 55


def test_torn_files_are_skipped(state_dir: Path) -> None:
    store(state_dir, full(), NOW - 5)
    (state_dir / "statusline" / "sessions" / "torn.json").write_text('{"captured_at": 17')
    (state_dir / "statusline" / "rate-limits.json").write_text("")
    assert sc.fresh_snapshot(when(NOW), timedelta(minutes=5)) is not None
    assert len(sc.live_sessions(when(NOW), timedelta(minutes=5))) == 1


def test_latest_client_version(state_dir: Path) -> None:
    assert sc.latest_client_version() is None
    old = full()
    old["version"] = "2.1.100"
    old["session_id"] = "old"
    store(state_dir, old, NOW - 100)
    store(state_dir, full(), NOW - 50)
    assert sc.latest_client_version() == "2.1.220"


def test_live_sessions(state_dir: Path) -> None:
    store(state_dir, full(), NOW - 30)
    gone = full()
    gone["session_id"] = "gone"
    store(state_dir, gone, NOW - 3600)
    legacy = json.loads((FULL.parent / "stdin-2.0.14-legacy.json").read_text())
    store(state_dir, legacy, NOW - 10)
    sessions = sc.live_sessions(when(NOW), timedelta(minutes=5))
    assert [s.session_id for s in sessions] == [legacy["session_id"], "0f8e2c1a-7b3d-4c5e-9a61-2d4b8e6f1a01"]
    s = sessions[1]
    assert s.project == "webapp"
    assert s.model == "Opus 4.8"
    assert s.context_percent == 3
    assert s.cost_usd == 0.4215325
    assert s.lines_added == 48
    assert s.lines_removed == 6
    assert s.duration == timedelta(milliseconds=1017394)
    assert s.session_name == "Dark-mode toggle for the settings page"
    assert sessions[0].context_percent is None


def test_local_source_callable_for_the_engine(state_dir: Path) -> None:
    store(state_dir, full(), NOW - 30)
    interval = [timedelta(minutes=5)]
    source = sc.local_source(lambda: interval[0])
    assert source(when(NOW)) is not None
    interval[0] = timedelta(seconds=10)
    assert source(when(NOW)) is None


def test_idle_rerenders_do_not_refresh_the_reading(state_dir: Path) -> None:
    """refreshInterval re-renders repeat old numbers: the reading keeps its first time."""
    payload = full()
    store(state_dir, payload, NOW - 900)
    store(state_dir, payload, NOW - 10)  # same numbers, no new API time: nothing new learned
    assert sc.fresh_snapshot(when(NOW), timedelta(minutes=5)) is None
    assert sc.live_sessions(when(NOW), timedelta(minutes=5))  # the session itself is live
    payload["cost"]["total_api_duration_ms"] += 1500  # a new API response, same percentages
    store(state_dir, payload, NOW - 5)
    snap = sc.fresh_snapshot(when(NOW), timedelta(minutes=5))
    assert snap is not None
    assert snap.fetched_at == when(NOW - 5)
