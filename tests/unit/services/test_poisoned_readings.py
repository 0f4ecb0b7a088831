"""Issue 19, item 2: one answer with an absurd reset time must not brick the app.

A 200 answer whose ``resets_at`` is year 1 is refused at the parser (a ``bad_response``, nothing
stored). A row that an older version did store is skipped by every read, so the engine starts,
``status --json`` prints JSON, and ``doctor`` says what it skipped.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest

from tests.unit.cli.test_cli_doctor import doctor
from tests.unit.cli.test_cli_status import run_status
from trayapp.core.clock import FakeClock
from trayapp.core.models import ErrorKind, Source, UsageSnapshot, Window, WindowKind
from trayapp.demo import DemoHandle
from trayapp.services.usage_engine import UsageEngine
from trayapp.sources.credentials import load_credentials
from trayapp.sources.usage_api import UsageClient
from trayapp.sources.usage_parse import BadResponse, parse_usage
from trayapp.store.usage_repo import UsageRepo

YEAR_ONE = -62135596800.0  # 0001-01-01T00:00:00Z as an epoch


def poisoned_body(key: str, when: str) -> dict[str, object]:
    good = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    body: dict[str, object] = {
        "five_hour": {"utilization": 40.0, "resets_at": good},
        "seven_day": {"utilization": 20.0, "resets_at": good},
    }
    body[key] = {"utilization": 30.0, "resets_at": when}
    return body


@pytest.mark.parametrize(
    ("key", "when"),
    [
        ("five_hour", "0001-01-01T00:00:00Z"),
        ("seven_day", "0001-01-03T00:00:00Z"),
        ("seven_day_opus", "9999-12-31T23:59:59Z"),
    ],
)
def test_parser_refuses_an_impossible_reset(key: str, when: str) -> None:
    with pytest.raises(BadResponse, match="impossible reset time"):
        parse_usage(json.dumps(poisoned_body(key, when)), datetime.now(UTC))


async def test_poisoned_answer_is_a_bad_response_and_nothing_is_stored(
    usage_server: DemoHandle, claude_dir: Path, tmp_path: Path
) -> None:
    usage_server.simulator.script.append((200, poisoned_body("five_hour", "0001-01-01T00:00:00Z"), {}))
    repo = UsageRepo.open(tmp_path / "db.sqlite3")
    engine = UsageEngine(
        repo,
        clock=FakeClock(datetime.now(UTC)),
        client=UsageClient(usage_server.base_url),
        credentials_loader=partial(load_credentials, config_dirs=[claude_dir], home=claude_dir),
        probe_version=False,
    )
    state = await engine.poll()
    assert state.error is not None
    assert state.error.kind is ErrorKind.BAD_RESPONSE
    assert repo.latest_snapshot() is None
    await engine.aclose()
    # A fresh engine on the same database (the next start) is fine.
    UsageEngine(UsageRepo.open(tmp_path / "db.sqlite3"), probe_version=False)


def store_poisoned_reading(db: Path) -> None:
    """What an older version stored from such an answer: a good window and a year-1 weekly one."""
    repo = UsageRepo.open(db)
    now = datetime.now(UTC)
    good = Window("five_hour", "5-hour", WindowKind.FIVE_HOUR, 40.0, now + timedelta(hours=2))
    week = timedelta(days=7)
    weekly = Window("seven_day", "Weekly", WindowKind.WEEKLY, 20.0, now + timedelta(days=3), week)
    repo.save_snapshot(UsageSnapshot(now - timedelta(minutes=1), Source.API, (good, weekly)))
    repo.close()
    conn = sqlite3.connect(db)
    conn.execute("UPDATE window_samples SET resets_at = ? WHERE window_id = 'seven_day'", (YEAR_ONE,))
    conn.commit()
    conn.close()


def test_a_stored_year_one_reset_is_skipped_and_the_engine_starts(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"
    store_poisoned_reading(db)
    repo = UsageRepo.open(db)
    snap = repo.latest_snapshot()
    assert snap is not None
    assert [w.id for w in snap.windows] == ["five_hour"]
    assert repo.implausible_samples() == 1
    engine = UsageEngine(repo, clock=FakeClock(datetime.now(UTC)), probe_version=False)
    assert engine.state.snapshot is not None
    assert engine.state.binding is not None
    rows = repo.history(["seven_day"], datetime.now(UTC) - timedelta(hours=1))
    assert rows
    assert rows[0][3] is None


def test_status_json_and_doctor_with_a_poisoned_store(hermetic_env: Path, claude_dir: Path) -> None:
    store_poisoned_reading(hermetic_env / "data" / "claude-watch.sqlite3")
    out = run_status(None, hermetic_env, "--json")  # no login: shows the stored reading
    data = json.loads(out.stdout)
    assert out.returncode in (1, 3), out.stderr
    assert "Traceback" not in out.stderr
    assert [w["id"] for w in data["windows"]] == ["five_hour"]
    report = doctor(hermetic_env, "--json")
    checks = {c["name"]: c for c in json.loads(report.stdout)}
    assert "1 stored window reading" in checks["Stored readings"]["detail"]


def test_status_json_with_a_unicode_digit_retry_after_prints_json(
    usage_server: DemoHandle, hermetic_env: Path
) -> None:
    usage_server.simulator.script.append((429, {"error": "rate"}, {"Retry-After": "\xb2"}))
    out = run_status(usage_server, hermetic_env, "--json")
    assert "Traceback" not in out.stderr, out.stderr
    data = json.loads(out.stdout)
    assert data["error"]["kind"] == "rate_limited"
    retry_at = datetime.fromisoformat(data["error"]["retry_at"])
    assert retry_at - datetime.now(UTC) > timedelta(minutes=4)
    assert len(usage_server.simulator.requests) == 1
