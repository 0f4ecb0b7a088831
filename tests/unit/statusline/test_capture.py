"""Capture files: atomic writes, compare-and-replace, the day ledger, parallel writers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from tests.helpers.statusline_support import NOW
from trayapp.statusline import capture, parse


def make(
    session: str, at: float, cost: float = 0.0, pct: float | None = None, duration_ms: float = 0
) -> dict:
    data: dict = {
        "session_id": session,
        "cost": {"total_cost_usd": cost, "total_duration_ms": duration_ms},
        "version": "2.1.220",
    }
    if pct is not None:
        data["rate_limits"] = {"five_hour": {"used_percentage": pct, "resets_at": 1786370400}}
    return parse.normalize(data, at, [])


def test_session_file_written_atomically_and_readable(tmp_path: Path) -> None:
    day, start = capture.local_day(NOW)
    capture.write_session(str(tmp_path), make("abc", NOW, 1.5), day, start)
    files = list((tmp_path / "statusline" / "sessions").iterdir())
    assert [f.name for f in files] == ["abc.json"]
    data = json.loads(files[0].read_text())
    assert data["cost_usd"] == 1.5
    assert data["today"]["day"] == day
    assert oct(files[0].stat().st_mode & 0o777) == "0o600"


def test_unsafe_session_ids_stay_inside_the_directory(tmp_path: Path) -> None:
    day, start = capture.local_day(NOW)
    capture.write_session(str(tmp_path), make("../../etc/passwd", NOW), day, start)
    capture.write_session(str(tmp_path), make("..", NOW), day, start)
    names = sorted(p.name for p in (tmp_path / "statusline" / "sessions").iterdir())
    assert names == ["_.._etc_passwd.json", "unknown.json"]


def test_older_capture_never_replaces_newer(tmp_path: Path) -> None:
    day, start = capture.local_day(NOW)
    capture.write_session(str(tmp_path), make("s", NOW, 2.0, pct=50), day, start)
    capture.update_latest(str(tmp_path), make("s", NOW, 2.0, pct=50))
    capture.write_session(str(tmp_path), make("s", NOW - 5, 1.0, pct=40), day, start)
    assert not capture.update_latest(str(tmp_path), make("other", NOW - 5, 1.0, pct=40))
    assert capture.read_json(str(tmp_path / "statusline" / "sessions" / "s.json"))["cost_usd"] == 2.0
    latest = capture.read_latest(str(tmp_path))
    assert latest is not None
    assert latest["rate_limits"]["five_hour"]["used_percentage"] == 50
    assert capture.update_latest(str(tmp_path), make("other", NOW + 5, 1.0, pct=60))
    assert capture.read_latest(str(tmp_path))["session_id"] == "other"


def test_capture_without_rate_limits_leaves_latest_alone(tmp_path: Path) -> None:
    assert not capture.update_latest(str(tmp_path), make("s", NOW))
    assert capture.read_latest(str(tmp_path)) is None


def test_readers_tolerate_torn_and_foreign_files(tmp_path: Path) -> None:
    (tmp_path / "torn.json").write_text('{"captured_at": 17')
    (tmp_path / "list.json").write_text("[1]")
    assert capture.read_json(str(tmp_path / "torn.json")) is None
    assert capture.read_json(str(tmp_path / "list.json")) is None
    assert capture.read_json(str(tmp_path / "missing.json")) is None


def test_day_ledger_sums_today_across_sessions_and_clear(tmp_path: Path) -> None:
    state = str(tmp_path)
    day, start = capture.local_day(NOW)
    # Session A started today: everything counts, including what came before a /clear.
    for at, cost in ((start + 60, 0.5), (start + 120, 1.0), (start + 180, 0.2), (start + 240, 0.3)):
        capture.write_session(state, make("A", at, cost, duration_ms=(at - start - 30) * 1000), day, start)
    # Session B was running since yesterday: only what it spends after first being seen counts.
    capture.write_session(state, make("B", start + 100, 5.0, duration_ms=86_400_000), day, start)
    capture.write_session(state, make("B", start + 200, 5.75, duration_ms=86_500_000), day, start)
    # Files written "now" have a current mtime; make the day start fit the test's clock.
    total = capture.today_cost(state, day, 0)
    assert round(total, 6) == round(1.0 + 0.3 + 0.75, 6)


def test_ledger_rolls_over_at_midnight(tmp_path: Path) -> None:
    state = str(tmp_path)
    day1, start1 = capture.local_day(NOW)
    capture.write_session(state, make("A", NOW, 2.0), day1, start1)
    day2, start2 = capture.local_day(NOW + 86400)
    capture.write_session(state, make("A", NOW + 86400, 2.5), day2, start2)
    data = capture.read_json(str(tmp_path / "statusline" / "sessions" / "A.json"))
    assert data is not None
    assert data["today"] == {"day": day2, "base": 2.0, "carry": 0.0}
    assert capture.ledger_cost(data, day2) == 0.5
    assert capture.ledger_cost(data, day1) == 0.0


def test_local_day_honours_a_time_zone() -> None:
    # 2026-08-10 10:00 UTC is still 2026-08-10 in Tokyo (19:00) but 03:00 in Los Angeles.
    assert capture.local_day(NOW, "Asia/Tokyo")[0] == "2026-08-10"
    day, midnight = capture.local_day(NOW - 11 * 3600, "America/Los_Angeles")
    assert day == "2026-08-09"
    assert midnight < NOW - 11 * 3600
    assert capture.local_day(NOW, "Not/AZone")[0] == capture.local_day(NOW)[0]


def test_prune_removes_old_sessions_and_temp_files(tmp_path: Path) -> None:
    state = str(tmp_path)
    day, start = capture.local_day(NOW)
    capture.write_session(state, make("old", NOW), day, start)
    capture.write_session(state, make("new", NOW), day, start)
    sessions = tmp_path / "statusline" / "sessions"
    stray = sessions / ".x.json.1.2.tmp"
    stray.write_text("{")
    long_ago = time.time() - 8 * 86400
    os.utime(sessions / "old.json", (long_ago, long_ago))
    os.utime(stray, (long_ago, long_ago))
    capture.prune(state, time.time())
    assert sorted(p.name for p in sessions.iterdir()) == ["new.json"]
    os.utime(sessions / "new.json", (long_ago, long_ago))
    capture.prune(state, time.time())  # the stamp says "done today": nothing happens
    assert (sessions / "new.json").exists()


WRITER = textwrap.dedent(
    """
    import io, json, sys, time
    from trayapp.statusline.run import main
    worker, rounds = int(sys.argv[1]), int(sys.argv[2])
    for i in range(rounds):
        payload = {
            "session_id": f"session-{worker}",
            "model": {"display_name": "Opus"},
            "version": f"2.1.{worker}",
            "cost": {"total_cost_usd": i / 100},
            "rate_limits": {"five_hour": {"used_percentage": worker * 10 + i % 10, "resets_at": 1786370400}},
        }
        out = io.BytesIO()
        assert main([], stdin=io.BytesIO(json.dumps(payload).encode()), stdout=out) == 0
        assert out.getvalue().strip()
    """
)


def test_parallel_writers_never_corrupt_or_lose_captures(state_dir: Path, tmp_path: Path) -> None:
    """Ten real processes render at once; a reader polls the files all along."""
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    rounds = 40
    procs = [
        subprocess.Popen([sys.executable, str(script), str(w), str(rounds)], stderr=subprocess.PIPE)
        for w in range(10)
    ]
    base = state_dir / "statusline"
    torn = 0
    reads = 0
    while any(p.poll() is None for p in procs):
        for path in [base / "rate-limits.json", *(base / "sessions").glob("*.json")] if base.exists() else []:
            try:
                text = path.read_text()
            except FileNotFoundError:
                continue
            reads += 1
            try:
                json.loads(text)
            except ValueError:
                torn += 1
    for p in procs:
        _, err = p.communicate(timeout=60)
        assert p.returncode == 0, err.decode()
    assert torn == 0, f"{torn} torn reads out of {reads}"
    sessions = sorted((base / "sessions").glob("*.json"))
    assert [p.name for p in sessions] == sorted(f"session-{w}.json" for w in range(10))
    captures = [json.loads(p.read_text()) for p in sessions]
    # Every session's last capture survived (cost of round rounds-1).
    assert all(c["cost_usd"] == (rounds - 1) / 100 for c in captures)
    latest = json.loads((base / "rate-limits.json").read_text())
    newest = max(c["captured_at"] for c in captures)
    assert latest["captured_at"] <= newest
    # The source still finds the newest reading, whichever writer won the shared file.
    from datetime import UTC, datetime, timedelta

    from trayapp.sources.statusline_capture import fresh_snapshot

    snap = fresh_snapshot(datetime.now(UTC), timedelta(minutes=5))
    assert snap is not None
    assert abs(snap.fetched_at.timestamp() - newest) < 1e-5
    assert not list(base.glob(".*.tmp"))
    assert not list((base / "sessions").glob(".*.tmp"))
