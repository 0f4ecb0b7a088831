"""``claude-watch hooks`` end to end, as a child process like a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from trayapp.core.sessions import HookEventName

ORIGINAL = (  # tab-indented, with another tool's Stop hook
    '{\n\t"model": "sonnet",\n\t"hooks": {"Stop": [{"hooks": [{"type": "command", "command": "x"}]}]}\n}\n'
)


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "trayapp", "hooks", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ),
        check=False,
    )


def test_install_status_uninstall_round_trip(tmp_path: Path, state_dir: Path) -> None:
    settings = tmp_path / "settings.json"
    settings.write_text(ORIGINAL)
    done = cli("--install", "--settings", str(settings))
    assert done.returncode == 0, done.stderr
    assert "hooks installed" in done.stdout
    endpoint = json.loads((state_dir / "local-server.json").read_text())
    data = json.loads(settings.read_text())
    assert data["env"]["CLAUDE_WATCH_HOOK_TOKEN"] == endpoint["hook_token"]
    assert f"127.0.0.1:{endpoint['port']}/hooks/v1/event" in settings.read_text()
    assert endpoint["hook_token"] not in done.stdout + done.stderr

    status = cli("--status", "--settings", str(settings), "--json")
    assert status.returncode == 0, status.stderr
    report = json.loads(status.stdout)
    assert report["installed"]
    assert report["events"] == [e.value for e in HookEventName]
    assert report["settings_ports"] == [endpoint["port"]]
    assert report["app_port"] == endpoint["port"]
    assert report["token_matches"]
    assert report["app_listening"] is False  # no app in this test
    assert endpoint["hook_token"] not in status.stdout

    again = cli("--install", "--settings", str(settings), "--json")
    assert json.loads(again.stdout)["changed"] is False

    gone = cli("--uninstall", "--settings", str(settings))
    assert gone.returncode == 0, gone.stderr
    assert settings.read_text() == ORIGINAL
    assert "hooks not installed" in cli("--status", "--settings", str(settings)).stdout


def test_status_says_to_reinstall_after_the_token_changed(tmp_path: Path, state_dir: Path) -> None:
    settings = tmp_path / "settings.json"
    assert cli("--install", "--settings", str(settings)).returncode == 0
    (state_dir / "local-server.json").write_text("corrupt")  # the app will choose a new token
    cli_status = cli("--status", "--settings", str(settings))
    assert "not the app's current token" not in cli_status.stdout  # status never creates one
    assert "never run" in cli_status.stdout
    assert cli("--install", "--settings", str(settings)).returncode == 0  # creates a new endpoint
    (state_dir / "local-server.json").write_text(
        json.dumps({"schema": 1, "port": 40001, "hook_token": "N" * 43})
    )
    stale = cli("--status", "--settings", str(settings))
    assert "not the app's current token" in stale.stdout
    assert "the app uses 40001" in stale.stdout
    assert "hooks --install" in stale.stdout


def test_invalid_settings_exit_2_and_stay(tmp_path: Path) -> None:
    settings = tmp_path / "settings.json"
    settings.write_text("{broken")
    for action in ("--install", "--uninstall", "--status"):
        done = cli(action, "--settings", str(settings))
        assert done.returncode == 2
        assert "not valid JSON" in done.stderr
    assert settings.read_text() == "{broken"
    assert cli("--install", "--uninstall").returncode == 2  # one action at a time
    assert cli().returncode == 2


def test_default_settings_file_is_in_claude_config_dir(claude_dir: Path, state_dir: Path) -> None:
    assert cli("--install").returncode == 0
    assert "CLAUDE_WATCH_HOOK_TOKEN" in (claude_dir / "settings.json").read_text()
