"""Installing into Claude Code's settings.json and back out again."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.helpers.statusline_support import FULL
from trayapp.cli.statusline import main as cli_main
from trayapp.statusline import install

OURS = "/opt/cw/bin/claude-watch statusline"
ORIGINAL_TEXT = """{
    "model": "opus",
    "statusLine": {
        "type": "command",
        "command": "~/.claude/statusline.sh",
        "padding": 1,
        "refreshInterval": 5
    },
    "permissions": {
        "allow": ["Bash(ls:*)"]
    },
    "env": {"FOO": "bär"}
}
"""


def backups(settings: Path) -> list[Path]:
    return sorted(settings.parent.glob("settings.json.claude-watch-backup-*"))


def test_fresh_install_creates_the_file_and_uninstall_removes_the_key(claude_dir: Path) -> None:
    settings = claude_dir / "settings.json"
    result = install.install(settings, OURS)
    assert result.code == 0
    assert result.changed
    assert result.chained is None
    data = json.loads(settings.read_text())
    assert data == {"statusLine": {"padding": 0, "type": "command", "command": OURS}}
    assert install.status(settings).installed
    assert install.uninstall(settings).changed
    assert json.loads(settings.read_text()) == {}
    assert not install.sidecar_for(settings).exists()


def test_round_trip_without_a_status_line_keeps_keys_and_order(claude_dir: Path) -> None:
    settings = claude_dir / "settings.json"
    text = '{\n  "model": "opus",\n  "hooks": {"Stop": []},\n  "zeta": 1\n}\n'
    settings.write_text(text)
    install.install(settings, OURS)
    data = json.loads(settings.read_text())
    assert list(data) == ["model", "hooks", "zeta", "statusLine"]
    assert len(backups(settings)) == 1
    assert backups(settings)[0].read_text() == text
    again = install.install(settings, OURS)
    assert again.code == 0
    assert not again.changed
    assert "already installed" in again.message
    assert len(backups(settings)) == 1
    install.uninstall(settings)
    assert settings.read_text() == text  # untouched meanwhile: the very bytes come back
    assert list(json.loads(settings.read_text())) == ["model", "hooks", "zeta"]


def test_existing_status_line_is_chained_and_restored_exactly(claude_dir: Path) -> None:
    settings = claude_dir / "settings.json"
    settings.write_text(ORIGINAL_TEXT)
    result = install.install(settings, OURS)
    assert result.chained == "~/.claude/statusline.sh"
    data = json.loads(settings.read_text())
    assert list(data) == ["model", "statusLine", "permissions", "env"]
    line = data["statusLine"]
    assert line["command"].startswith(OURS + " --chain ")
    assert str(install.sidecar_for(settings)) in line["command"]
    assert line["padding"] == 1
    assert line["refreshInterval"] == 5
    assert "    " in settings.read_text()
    assert "bär" in settings.read_text()
    assert install.install(settings, OURS).changed is False
    assert "chained: ~/.claude/statusline.sh" in install.status(settings).message
    install.uninstall(settings)
    assert settings.read_text() == ORIGINAL_TEXT
    assert not install.sidecar_for(settings).exists()


def test_uninstall_after_other_edits_keeps_them(claude_dir: Path) -> None:
    settings = claude_dir / "settings.json"
    settings.write_text(ORIGINAL_TEXT)
    install.install(settings, OURS)
    assert oct(install.sidecar_for(settings).stat().st_mode & 0o777) == "0o600"
    data = json.loads(settings.read_text())
    data["theme"] = "dark"  # Claude Code or the user changed something since
    settings.write_text(json.dumps(data, indent=4))
    install.uninstall(settings)
    restored = json.loads(settings.read_text())
    assert restored["theme"] == "dark"
    assert restored["statusLine"] == json.loads(ORIGINAL_TEXT)["statusLine"]
    assert list(restored) == ["model", "statusLine", "permissions", "env", "theme"]


def test_invalid_json_is_never_overwritten(claude_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = claude_dir / "settings.json"
    broken = '{"model": "opus",, }'
    settings.write_text(broken)
    for action in ("--install", "--uninstall", "--status"):
        assert cli_main([action]) == 2
        err = capsys.readouterr().err
        assert "not valid JSON" in err
        assert "untouched" in err
    assert settings.read_text() == broken
    assert backups(settings) == []
    assert not install.sidecar_for(settings).exists()
    settings.write_text("[1, 2]")
    assert install.install(settings, OURS).code == 2
    assert settings.read_text() == "[1, 2]"


def test_cli_uses_claude_config_dir_and_settings_option(
    claude_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli_main(["--install"]) == 0
    assert "installed in" in capsys.readouterr().out
    assert "statusline" in json.loads((claude_dir / "settings.json").read_text())["statusLine"]["command"]
    other = tmp_path / "proj" / ".claude" / "settings.local.json"
    assert cli_main(["--settings", str(other), "--install"]) == 0
    assert other.exists()
    assert cli_main(["--uninstall", "--settings", str(other)]) == 0
    assert json.loads(other.read_text()) == {}
    assert cli_main(["--install", "--bogus"]) == 2


def test_uninstall_leaves_a_foreign_status_line_alone(claude_dir: Path) -> None:
    settings = claude_dir / "settings.json"
    settings.write_text(ORIGINAL_TEXT)
    result = install.uninstall(settings)
    assert result.code == 0
    assert not result.changed
    assert settings.read_text() == ORIGINAL_TEXT


def test_symlinked_settings_stay_a_symlink(claude_dir: Path, tmp_path: Path) -> None:
    real = tmp_path / "dotfiles" / "settings.json"
    real.parent.mkdir()
    real.write_text('{"model": "opus"}\n')
    link = claude_dir / "settings.json"
    link.symlink_to(real)
    install.install(link, OURS)
    assert link.is_symlink()
    assert "statusLine" in json.loads(real.read_text())


def test_base_command_is_absolute_and_runs(tmp_path: Path, claude_dir: Path, state_dir: Path) -> None:
    """The command written works from this venv: run it through a shell like Claude Code does."""
    settings = claude_dir / "settings.json"
    settings.write_text(json.dumps({"statusLine": {"type": "command", "command": "echo ORIGINAL"}}))
    install.install(settings)
    command = json.loads(settings.read_text())["statusLine"]["command"]
    first = command.split()[0].strip("'\"")
    assert Path(first).is_absolute()
    done = subprocess.run(
        command, shell=True, input=FULL.read_bytes(), capture_output=True, timeout=60, check=False
    )
    assert done.returncode == 0
    assert done.stdout.startswith(b"ORIGINAL")  # theirs first, then ours (see test_run)
    assert b"Opus 4.8" in done.stdout
    assert (state_dir / "statusline" / "sessions" / "0f8e2c1a-7b3d-4c5e-9a61-2d4b8e6f1a01.json").exists()


def test_frozen_app_uses_its_executable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.frozen", True, raising=False)
    monkeypatch.setattr("sys.executable", "/Applications/Claude Watch.app/Contents/MacOS/claude-watch")
    assert install.base_command() == "'/Applications/Claude Watch.app/Contents/MacOS/claude-watch' statusline"


def test_is_ours() -> None:
    assert install.is_ours({"command": "/usr/bin/claude-watch statusline"})
    assert install.is_ours({"command": "'/a b/python' -m trayapp statusline --chain x"})
    assert not install.is_ours({"command": "npx ccstatusline"})
    assert not install.is_ours("claude-watch statusline")
