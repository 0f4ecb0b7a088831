"""The hooks installer's round trip on copies of realistic Claude Code settings files."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from trayapp import runtime
from trayapp.core.sessions import HookEventName
from trayapp.services import hooks_install
from trayapp.services.hook_receiver import HOOK_PATH, RunningReceiver, start_receiver
from trayapp.store import local_endpoint
from trayapp.store.local_endpoint import LocalEndpoint

ENDPOINT = LocalEndpoint(47123, "A" * 43)
# Odd indentation (3 spaces), non-ASCII, other tools' hooks on events we use and on ones we don't,
# a status line, env entries, permissions.
REALISTIC = """{
   "$schema": "https://json.schemastore.org/claude-code-settings.json",
   "model": "opus",
   "env": {"ANTHROPIC_LOG": "debug", "NAME": "Zoë"},
   "statusLine": {"type": "command", "command": "npx ccstatusline", "padding": 0},
   "hooks": {
      "Stop": [{"hooks": [{"type": "command", "command": "afplay done.aiff"}]}],
      "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "guard.sh"}]}],
      "Notification": [
         {"matcher": "permission_prompt", "hooks": [{"type": "http", "url": "http://127.0.0.1:9000/other"}]}
      ]
   },
   "permissions": {"allow": ["Bash(ls:*)"], "deny": []}
}
"""


def write(tmp_path: Path, text: str = REALISTIC) -> Path:
    settings = tmp_path / "claude" / "settings.json"
    settings.parent.mkdir(exist_ok=True)
    settings.write_text(text, encoding="utf-8")
    return settings


def backups(settings: Path) -> list[Path]:
    return sorted(settings.parent.glob("settings.json.claude-watch-backup-*"))


def ours(data: dict[str, object], event: str) -> list[dict[str, object]]:
    groups = data["hooks"][event]  # type: ignore[index]
    return [g for g in groups if any(hooks_install.is_ours(h) for h in g["hooks"])]


def test_install_adds_one_group_per_event_and_keeps_everything_else(tmp_path: Path) -> None:
    settings = write(tmp_path)
    before = json.loads(REALISTIC)
    result = hooks_install.install(settings, ENDPOINT)
    assert result.code == 0
    assert result.changed
    data = json.loads(settings.read_text())
    assert list(data) == list(before)  # existing keys in their order
    assert data["statusLine"] == before["statusLine"]
    assert data["permissions"] == before["permissions"]
    assert data["env"] == {**before["env"], "CLAUDE_WATCH_HOOK_TOKEN": ENDPOINT.hook_token}
    assert data["hooks"]["PreToolUse"] == before["hooks"]["PreToolUse"]  # not ours to touch
    assert data["hooks"]["Stop"][0] == before["hooks"]["Stop"][0]
    assert data["hooks"]["Notification"][0] == before["hooks"]["Notification"][0]
    for event in HookEventName:
        (group,) = ours(data, event.value)
        (hook,) = group["hooks"]  # type: ignore[misc]
        assert hook == {
            "type": "http",
            "url": f"http://127.0.0.1:47123{HOOK_PATH}",
            "headers": {"Authorization": "Bearer $CLAUDE_WATCH_HOOK_TOKEN"},
            "allowedEnvVars": ["CLAUDE_WATCH_HOOK_TOKEN"],
            "timeout": 2,
        }
        tool_event = event in (HookEventName.PERMISSION_REQUEST, HookEventName.POST_TOOL_USE)
        assert group.get("matcher") == ("*" if tool_event else None)
    assert '\n   "model"' in settings.read_text()  # the file's own 3-space indentation
    assert "Zoë" in settings.read_text()
    assert [b.read_text() for b in backups(settings)] == [REALISTIC]
    assert os.stat(hooks_install.sidecar_for(settings)).st_mode & 0o777 == 0o600


def test_installing_twice_changes_nothing(tmp_path: Path) -> None:
    settings = write(tmp_path)
    hooks_install.install(settings, ENDPOINT)
    text = settings.read_text()
    again = hooks_install.install(settings, ENDPOINT)
    assert again.code == 0
    assert not again.changed
    assert "already installed" in again.message
    assert settings.read_text() == text
    assert len(backups(settings)) == 1


def test_new_port_and_token_update_our_entries_in_place(tmp_path: Path) -> None:
    settings = write(tmp_path)
    hooks_install.install(settings, ENDPOINT)
    first = json.loads(settings.read_text())
    moved = LocalEndpoint(50001, "B" * 43)
    result = hooks_install.install(settings, moved)
    assert "updated" in result.message
    data = json.loads(settings.read_text())
    assert data["env"]["CLAUDE_WATCH_HOOK_TOKEN"] == "B" * 43
    for event in HookEventName:
        assert len(ours(data, event.value)) == 1
        position = data["hooks"][event.value].index(ours(data, event.value)[0])
        assert position == first["hooks"][event.value].index(ours(first, event.value)[0])
        assert "50001" in json.dumps(ours(data, event.value))
    hooks_install.uninstall(settings)
    assert settings.read_text() == REALISTIC  # still the pre-install bytes


def test_uninstall_restores_the_exact_bytes_and_leaves_other_hooks(tmp_path: Path) -> None:
    settings = write(tmp_path)
    hooks_install.install(settings, ENDPOINT)
    result = hooks_install.uninstall(settings)
    assert result.changed
    assert settings.read_text() == REALISTIC
    assert not hooks_install.sidecar_for(settings).exists()
    assert not hooks_install.uninstall(settings).changed


def test_uninstall_after_other_edits_removes_only_ours(tmp_path: Path) -> None:
    settings = write(tmp_path)
    hooks_install.install(settings, ENDPOINT)
    data = json.loads(settings.read_text())
    data["theme"] = "dark"  # the user or Claude Code changed something since
    data["hooks"]["Stop"].append({"hooks": [{"type": "command", "command": "later.sh"}]})
    data["env"]["LATER"] = "1"
    settings.write_text(json.dumps(data, indent=2))
    hooks_install.uninstall(settings)
    after = json.loads(settings.read_text())
    expected = json.loads(REALISTIC)
    expected["theme"] = "dark"
    expected["hooks"]["Stop"].append({"hooks": [{"type": "command", "command": "later.sh"}]})
    expected["env"]["LATER"] = "1"
    assert after == expected
    assert list(after) == [*json.loads(REALISTIC), "theme"]


def test_fresh_file_round_trip_leaves_an_empty_object(tmp_path: Path) -> None:
    settings = tmp_path / "new" / "settings.json"
    settings.parent.mkdir()
    hooks_install.install(settings, ENDPOINT)
    assert set(json.loads(settings.read_text())) == {"hooks", "env"}
    hooks_install.uninstall(settings)
    assert json.loads(settings.read_text()) == {}


def test_a_mixed_group_keeps_the_other_tools_hook(tmp_path: Path) -> None:
    mine = hooks_install.hook_entry(47123)
    other = {"type": "command", "command": "other.sh"}
    text = json.dumps({"hooks": {"Stop": [{"hooks": [other, mine]}]}}, indent=2)
    settings = write(tmp_path, text)
    hooks_install.uninstall(settings)
    assert json.loads(settings.read_text()) == {"hooks": {"Stop": [{"hooks": [other]}]}}


@pytest.mark.parametrize(
    "broken",
    [
        '{"model": "opus",, }',
        "[1, 2]",
        '{"a": NaN}',
        '{"hooks": []}',
        '{"hooks": {"Stop": {}}}',
        '{"env": 1}',
    ],
)
def test_invalid_settings_are_never_touched(tmp_path: Path, broken: str) -> None:
    settings = write(tmp_path, broken)
    assert hooks_install.install(settings, ENDPOINT).code == 2
    if broken != '{"env": 1}':  # status and uninstall do not need env to be an object
        assert hooks_install.status(settings, ENDPOINT, probe=False).code == 2
        assert hooks_install.uninstall(settings).code == 2
    assert settings.read_text() == broken
    assert backups(settings) == []
    assert not hooks_install.sidecar_for(settings).exists()


def test_symlinked_settings_stay_a_symlink_and_keep_their_mode(tmp_path: Path) -> None:
    real = tmp_path / "dotfiles" / "settings.json"
    real.parent.mkdir()
    real.write_text(REALISTIC)
    real.chmod(0o640)
    link = tmp_path / "settings.json"
    link.symlink_to(real)
    hooks_install.install(link, ENDPOINT)
    assert link.is_symlink()
    assert os.stat(real).st_mode & 0o777 == 0o640
    assert "CLAUDE_WATCH_HOOK_TOKEN" in real.read_text()


def test_status_reports_stale_port_and_token(tmp_path: Path) -> None:
    settings = write(tmp_path)
    assert not hooks_install.status(settings, ENDPOINT, probe=False).installed
    hooks_install.install(settings, ENDPOINT)
    fine = hooks_install.status(settings, ENDPOINT, probe=False)
    assert fine.installed
    assert fine.details["up_to_date"]
    assert fine.details["events"] == [e.value for e in HookEventName]
    assert fine.details["missing_events"] == []
    stale = hooks_install.status(settings, LocalEndpoint(50002, "C" * 43), probe=False)
    assert not stale.details["up_to_date"]
    assert "the app uses 50002" in stale.message
    assert "not the app's current token" in stale.message
    assert "hooks --install" in stale.message
    assert ENDPOINT.hook_token not in stale.message


@pytest.fixture
async def app_receiver(state_dir: Path) -> AsyncIterator[RunningReceiver]:
    started = await start_receiver(lambda _e: None)
    yield started
    await started.stop()


async def test_status_sees_whether_the_app_listens(tmp_path: Path, app_receiver: RunningReceiver) -> None:
    settings = write(tmp_path)
    endpoint = local_endpoint.load()
    assert endpoint is not None
    hooks_install.install(settings, endpoint)
    up = await runtime.run_blocking(hooks_install.status, settings, endpoint)
    assert up.details["app_listening"]
    assert "the app is listening" in up.message
    await app_receiver.stop()
    down = await runtime.run_blocking(hooks_install.status, settings, endpoint)
    assert not down.details["app_listening"]
    assert "not running" in down.message


def test_update_keeps_our_group_where_it_was(tmp_path: Path) -> None:
    settings = write(tmp_path)
    hooks_install.install(settings, ENDPOINT)
    data = json.loads(settings.read_text())
    later = {"hooks": [{"type": "command", "command": "added-after-us.sh"}]}
    data["hooks"]["Stop"].append(later)
    settings.write_text(json.dumps(data, indent=2))
    hooks_install.install(settings, LocalEndpoint(50001, "B" * 43))
    stop = json.loads(settings.read_text())["hooks"]["Stop"]
    assert stop[2] == later
    assert hooks_install.is_ours(stop[1]["hooks"][0])
    assert "50001" in stop[1]["hooks"][0]["url"]
