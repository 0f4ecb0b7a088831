"""``claude-watch window start|status`` and ``schedule ...`` as real child processes: exit codes 0
(verified), 1 (did not open), 2 (refused); JSON outputs; the plan's rules and a broken plan file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.helpers.fake_claude import calls as read_calls
from tests.helpers.fixtures_sessions import FakeClaude
from tests.helpers.fixtures_usage import write_credentials
from tests.helpers.usage_window_server import UsageWindowServer


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "trayapp", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ),
    )


@pytest.fixture
def server(
    fake_claude: FakeClaude, claude_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[UsageWindowServer]:
    write_credentials(claude_dir, expires_at=datetime.now(UTC) + timedelta(hours=8))
    srv = UsageWindowServer(fake_claude.calls_path)
    srv.start()
    monkeypatch.setenv("CLAUDE_WATCH_API_BASE", srv.base_url)
    monkeypatch.setenv("TZ", "Europe/Berlin")
    yield srv
    srv.stop()


def test_start_verified_then_refused_exit_codes(server: UsageWindowServer, fake_claude: FakeClaude) -> None:
    done = cli("window", "start", "--verify", "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["schema_version"] == 1
    assert out["outcome"] == "verified"
    assert out["anchor"] is None
    assert out["detail"].startswith("window opened: resets at ")
    assert len(read_calls(fake_claude.calls_path)) == 1
    again = cli("window", "start")
    assert again.returncode == 2
    assert again.stderr.startswith("Not started: a window is open until ")
    assert len(read_calls(fake_claude.calls_path)) == 1
    status = json.loads(cli("window", "status", "--json").stdout)
    assert status["open"] is True
    assert [a["outcome"] for a in status["attempts"]] == ["verified", "refused"]
    text = cli("window", "status").stdout
    assert "5-hour window: open, resets at" in text
    assert "verified" in text


def test_open_window_refused_without_a_call(server: UsageWindowServer, fake_claude: FakeClaude) -> None:
    server.five_reset = datetime.now(UTC) + timedelta(hours=3)
    done = cli("window", "start", "--verify")
    assert done.returncode == 2
    assert "a window is open until" in done.stderr
    assert read_calls(fake_claude.calls_path) == []


def test_not_opened_exit_one_and_no_retry(server: UsageWindowServer, fake_claude: FakeClaude) -> None:
    fake_claude.script(p={"resets_in": None})
    done = cli("window", "start")
    assert done.returncode == 1
    assert done.stderr.startswith(
        "No window: did not open the window (headless use may be billed separately)"
    )
    again = cli("window", "start")
    assert again.returncode == 2
    assert "already tried" in again.stderr
    assert len(read_calls(fake_claude.calls_path)) == 1


def test_timer_anchor_must_still_be_planned(server: UsageWindowServer, fake_claude: FakeClaude) -> None:
    done = cli("window", "start", "--verify", "--anchor", "07:00")
    assert done.returncode == 2
    assert "no auto-start anchor at 07:00" in done.stderr
    assert cli("schedule", "add", "07:00", "--auto").returncode == 0
    assert cli("window", "start", "--verify", "--anchor", "07:00").returncode == 0
    assert len(read_calls(fake_claude.calls_path)) == 1


def test_window_status_without_any_reading() -> None:
    done = cli("window", "status")
    assert done.returncode == 0
    assert "5-hour window: unknown" in done.stdout
    assert "Next anchor:  none" in done.stdout


def test_schedule_commands() -> None:
    added = cli("schedule", "add", "07:00", "--days", "mon-fri", "--auto", "--json")
    assert added.returncode == 0, added.stderr
    plan = json.loads(added.stdout)
    assert plan["plan"]["anchors"] == [
        {"at": "07:00", "days": ["mon", "tue", "wed", "thu", "fri"], "mode": "auto", "in_quiet_hours": False}
    ]
    assert plan["coverage"]["07:00"] == "07:00 -> window 07:00-12:00, next free at 12:00"
    assert plan["next_anchor"]["id"] == "07:00"
    close = cli("schedule", "add", "09:00")
    assert close.returncode == 2
    assert "07:00 and 09:00 on Mon are 2 h apart; anchors need 5 h" in close.stderr
    listed = cli("schedule", "list")
    assert "07:00 -> window 07:00-12:00" in listed.stdout
    assert "headless use may be billed separately" in listed.stdout
    preset = json.loads(cli("schedule", "add", "--preset", "24_7", "--json").stdout)
    assert preset["preset_label"] == "24/7"
    assert [a["at"] for a in preset["plan"]["anchors"]] == ["00:00", "06:00", "12:00", "18:00"]
    removed = json.loads(cli("schedule", "remove", "06:00", "--json").stdout)
    assert [a["at"] for a in removed["plan"]["anchors"]] == ["00:00", "12:00", "18:00"]
    assert cli("schedule", "remove", "09:00").returncode == 2
    paused = json.loads(cli("schedule", "pause", "--today", "--json").stdout)
    assert paused["plan"]["paused_until"] is not None
    assert cli("schedule", "pause", "--until", "someday").returncode == 2
    assert cli("schedule", "pause", "--until", "2020-01-01").returncode == 2
    resumed = json.loads(cli("schedule", "resume", "--json").stdout)
    assert resumed["plan"]["paused_until"] is None
    assert cli("schedule", "timer", "status").stdout.strip().endswith("OS timer: off.")


def test_broken_plan_file_is_reported_and_not_overwritten(hermetic_env: Path) -> None:
    assert cli("schedule", "add", "07:00").returncode == 0
    plan_file = hermetic_env / "config" / "schedule.json"
    plan_file.write_text("{broken")
    listed = cli("schedule", "list", "--json")
    assert listed.returncode == 0
    out = json.loads(listed.stdout)
    assert "cannot be used" in out["error"]
    assert [a["at"] for a in out["plan"]["anchors"]] == ["07:00"]  # the last good plan
    refused = cli("schedule", "add", "12:00")
    assert refused.returncode == 2
    assert plan_file.read_text() == "{broken"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="systemd user units: Linux")
def test_schedule_timer_follows_the_plan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.unit.platform.test_os_timer import RECORDER

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "systemctl").write_text(RECORDER.format(python=sys.executable))
    (bin_dir / "systemctl").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_SYSTEMCTL_CALLS", str(tmp_path / "systemctl.jsonl"))
    unit_dir = tmp_path / "xdg-config" / "systemd" / "user"
    assert cli("schedule", "add", "07:00", "--auto").returncode == 0
    on = cli("schedule", "timer", "on")
    assert on.returncode == 0, on.stderr
    assert "OS timer installed for 1 auto-start anchor(s)." in on.stdout
    assert sorted(p.name for p in unit_dir.iterdir()) == [
        "claude-watch-window-0700.service",
        "claude-watch-window-0700.timer",
    ]
    moved = cli("schedule", "add", "13:00", "--auto", "--json")
    assert len(json.loads(moved.stdout)["os_timer"]) == 4  # the timer follows the plan
    assert cli("schedule", "remove", "all").returncode == 0
    assert list(unit_dir.iterdir()) == []
    back = cli("schedule", "add", "14:00", "--auto")  # still on: the new anchor gets its timer
    assert "OS timer installed for 1 auto-start anchor(s)." in back.stdout
    assert "OS timer: on, 2 file(s) installed." in cli("schedule", "timer", "status").stdout
    off = cli("schedule", "timer", "off")
    assert "OS timer removed (2 file(s))." in off.stdout
    assert list(unit_dir.iterdir()) == []
    assert cli("schedule", "add", "20:00", "--auto").returncode == 0
    assert list(unit_dir.iterdir()) == []  # off stays off


def test_endpoint_off_never_asks_the_server(server: UsageWindowServer, fake_claude: FakeClaude) -> None:
    assert cli("config", "set", "poll.endpoint", "false").returncode == 0
    done = cli("window", "start", "--verify", "--json")
    assert done.returncode == 0, done.stderr  # the run's own rate-limit event verifies it
    assert server.requests == []
    assert len(read_calls(fake_claude.calls_path)) == 1
