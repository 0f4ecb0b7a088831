"""``claude-watch status`` end to end in a subprocess, with temp CLAUDE_WATCH_HOME/CLAUDE_CONFIG_DIR."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.helpers.fixtures_usage import write_credentials
from trayapp.demo import DemoHandle


def run_status(server: DemoHandle | None, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["HOME"] = str(home.parent / "fake-home")  # never the developer's ~/.claude
    if server is not None:
        env["CLAUDE_WATCH_API_BASE"] = server.base_url
    return subprocess.run(
        [sys.executable, "-m", "trayapp", "status", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_status_json_429_keeps_last_snapshot_and_honours_retry_after(
    usage_server: DemoHandle, hermetic_env: Path, claude_dir: Path
) -> None:
    cred = claude_dir / ".credentials.json"
    before = (cred.read_bytes(), cred.stat().st_mtime_ns)
    first = run_status(usage_server, hermetic_env, "--json")
    assert first.returncode == 0, first.stderr
    data = json.loads(first.stdout)
    assert {"source", "fetched_at", "stale", "age_seconds", "plan", "windows", "extra_usage", "error"} <= set(
        data
    )
    assert data["source"] == "api"
    assert data["stale"] is False
    assert data["error"] is None
    assert data["plan"] == "Max 5x"
    ids = [w["id"] for w in data["windows"]]
    assert ids[:2] == ["five_hour", "seven_day"]
    assert "weekly_scoped:Fable 5" in ids
    for w in data["windows"]:
        assert {"id", "label", "utilization", "resets_at", "burn_rate_per_hour", "projected_at_reset"} <= set(
            w
        )
    assert data["extra_usage"]["currency"] == "USD"

    # 31 s later in real terms is too slow for a test: age the manual throttle in the store instead.
    _age_last_attempt(hermetic_env)
    usage_server.simulator.script.append((429, {"error": "rate"}, {"Retry-After": "1800"}))
    asked = datetime.now(UTC)
    second = run_status(usage_server, hermetic_env, "--json")
    assert second.returncode == 3, second.stderr
    data2 = json.loads(second.stdout)
    assert data2["stale"] is True
    assert data2["fetched_at"] == data["fetched_at"]
    assert [w["id"] for w in data2["windows"]] == ids
    assert data2["error"]["kind"] == "rate_limited"
    retry_at = parse_iso(data2["error"]["retry_at"])
    assert asked + timedelta(seconds=1795) <= retry_at <= datetime.now(UTC) + timedelta(seconds=1800)

    # A third run does not even ask the server: the cooldown is remembered.
    _age_last_attempt(hermetic_env)
    n = len(usage_server.simulator.requests)
    third = run_status(usage_server, hermetic_env, "--json")
    assert third.returncode == 3
    assert len(usage_server.simulator.requests) == n
    assert parse_iso(json.loads(third.stdout)["error"]["retry_at"]) == retry_at
    assert (cred.read_bytes(), cred.stat().st_mtime_ns) == before


def _age_last_attempt(home: Path) -> None:
    from trayapp.store.usage_repo import UsageRepo

    repo = UsageRepo.open(home / "data" / "claude-watch.sqlite3")
    repo.set_last_attempt(datetime.now(UTC) - timedelta(minutes=1))
    repo.close()


def test_status_human_output(usage_server: DemoHandle, hermetic_env: Path) -> None:
    out = run_status(usage_server, hermetic_env)
    assert out.returncode == 0, out.stderr
    assert "5-hour" in out.stdout
    assert "Weekly · Fable 5" in out.stdout
    assert "Source: api" in out.stdout


def test_status_without_credentials_exits_1_with_the_fix(hermetic_env: Path) -> None:
    out = run_status(None, hermetic_env, "--json")
    assert out.returncode == 1
    data = json.loads(out.stdout)
    assert data["error"]["kind"] == "no_credentials"
    assert "claude" in data["error"]["message"]
    assert data["windows"] == []
    assert data["source"] is None


def test_status_offline_shows_stored_snapshot(usage_server: DemoHandle, hermetic_env: Path) -> None:
    assert run_status(usage_server, hermetic_env, "--json").returncode == 0
    _age_last_attempt(hermetic_env)
    usage_server.stop()
    out = run_status(usage_server, hermetic_env, "--json")
    assert out.returncode == 3
    data = json.loads(out.stdout)
    assert data["error"]["kind"] == "network"
    assert data["stale"]
    assert data["windows"]


def test_status_demo(hermetic_env: Path, claude_dir: Path) -> None:
    write_credentials(claude_dir, token="")  # the demo must not care about the real login
    out = run_status(None, hermetic_env, "--demo", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["source"] == "demo"
    assert data["account"]["email"] == "demo@example.invalid"
    assert not (hermetic_env / "data" / "claude-watch.sqlite3").exists()
