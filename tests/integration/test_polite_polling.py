"""Issue 19 end to end: the real tray app against a loopback usage server that answers with the
exact hostile inputs. Counts the requests that arrive; before the fix a single 429 with
``Retry-After: \\xb2`` brought about 180 requests a second, and a stored year-1 reset made the app
exit with code 1 at start."""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.helpers.app_process import UsageServer, app_env, start_app, stop_app, usage_body, wait_for
from tests.integration.conftest import DesktopSession
from trayapp.core.models import Source, UsageSnapshot, Window, WindowKind
from trayapp.demo import write_demo_credentials
from trayapp.store.usage_repo import UsageRepo

WATCH_SECONDS = 8.0


def log_text(home: Path) -> str:
    path = home / "logs" / "claude-watch.log"
    return path.read_text() if path.exists() else ""


def run_app_for(server: UsageServer, claude_dir: Path, home: Path, seconds: float) -> tuple[int | None, str]:
    """Start the app, let it run ``seconds`` after it says it is running; (exit code or None, output)."""
    write_demo_credentials(claude_dir)
    env = app_env(CLAUDE_WATCH_API_BASE=server.base_url, CLAUDE_CONFIG_DIR=str(claude_dir))
    app = start_app(env=env)
    try:
        wait_for(lambda: "Claude Watch running" in log_text(home) or app.poll() is not None, timeout=30)
        wait_for(lambda: server.requests > 0 or app.poll() is not None, timeout=15)
        time.sleep(seconds)
        code = app.poll()
    finally:
        out = stop_app(app)
    return code, out


@pytest.mark.integration
def test_a_429_with_a_unicode_digit_retry_after_gets_one_request(
    desktop_services: DesktopSession, claude_dir: Path, hermetic_env: Path
) -> None:
    server = UsageServer(
        {"type": "error", "error": {"type": "rate_limit_error"}}, 429, {"Retry-After": "\xb2"}
    )
    try:
        code, out = run_app_for(server, claude_dir, hermetic_env, WATCH_SECONDS)
    finally:
        server.stop()
    assert code is None, out  # still running
    assert server.requests == 1, f"{server.requests} requests in {WATCH_SECONDS:g} s"


@pytest.mark.integration
def test_a_year_one_reset_is_not_stored_and_the_app_keeps_running(
    desktop_services: DesktopSession, claude_dir: Path, hermetic_env: Path
) -> None:
    body = usage_body(40.0)
    body["seven_day"]["resets_at"] = "0001-01-03T00:00:00Z"
    server = UsageServer(body)
    try:
        code, out = run_app_for(server, claude_dir, hermetic_env, 3.0)
    finally:
        server.stop()
    assert code is None, out
    assert server.requests == 1
    repo = UsageRepo.open(hermetic_env / "data" / "claude-watch.sqlite3")
    try:
        assert repo.latest_snapshot() is None
        outcome = repo.last_outcome()
        assert outcome is not None
        assert outcome.error is not None
        assert outcome.error.kind == "bad_response"
    finally:
        repo.close()


@pytest.mark.integration
def test_the_app_starts_with_a_poisoned_reading_in_its_database(
    desktop_services: DesktopSession, claude_dir: Path, hermetic_env: Path
) -> None:
    db = hermetic_env / "data" / "claude-watch.sqlite3"
    repo = UsageRepo.open(db)
    now = datetime.now(UTC)
    good = Window("five_hour", "5-hour", WindowKind.FIVE_HOUR, 40.0, now + timedelta(hours=2))
    weekly = Window(
        "seven_day", "Weekly", WindowKind.WEEKLY, 20.0, now + timedelta(days=3), timedelta(days=7)
    )
    repo.save_snapshot(UsageSnapshot(now - timedelta(minutes=1), Source.API, (good, weekly)))
    repo.close()
    conn = sqlite3.connect(db)
    conn.execute("UPDATE window_samples SET resets_at = -62135596800.0 WHERE window_id = 'seven_day'")
    conn.commit()
    conn.close()
    server = UsageServer(usage_body(41.0))
    try:
        code, out = run_app_for(server, claude_dir, hermetic_env, 2.0)
    finally:
        server.stop()
    assert code is None, out
    assert "Claude Watch running" in log_text(hermetic_env)
    assert server.requests == 1
