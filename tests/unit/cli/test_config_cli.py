"""``claude-watch config`` as a real process: it merges into the file, refuses a file that does not
parse (leaving it byte for byte as it was), and ``app.start_at_login`` makes or removes the
autostart entry the way the Settings dialog does."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from trayapp import paths
from trayapp import settings as st

REPO = Path(__file__).resolve().parents[2]


def config(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "trayapp", "config", *args],
        cwd=REPO,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_set_keeps_everything_else_in_the_file() -> None:
    path = paths.settings_file()
    path.parent.mkdir(parents=True)
    path.write_text('[ui]\ntimeline_range = "7d"\n[future]\nthing = "x"\n[poll]\ninterval_minutes = 1\n')
    done = config("set", "ui.theme", "dark")
    assert done.returncode == 0, done.stderr
    text = path.read_text()
    assert 'timeline_range = "7d"' in text
    assert 'thing = "x"' in text
    assert "interval_minutes = 1" in text
    assert st.load().get("ui.theme") == "dark"


@pytest.mark.parametrize(
    "content", [b"this is [ not toml", b"[ui]\ntheme = 'dark'\n[ui]\n", b"\xff\xfe garbage"]
)
@pytest.mark.parametrize("action", [("set", "ui.theme", "dark"), ("reset", "ui.theme")])
def test_set_and_reset_refuse_a_file_that_does_not_parse(content: bytes, action: tuple[str, ...]) -> None:
    path = paths.settings_file()
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    done = config(*action)
    assert done.returncode == 1
    assert path.read_bytes() == content
    assert str(path) in done.stderr
    assert "left untouched" in done.stderr
    assert "not valid TOML" in done.stderr or "not UTF-8" in done.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="XDG autostart is the Linux mechanism")
def test_start_at_login_creates_and_removes_the_autostart_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    entry = tmp_path / "xdg" / "autostart" / "claude-watch.desktop"
    done = config("set", "app.start_at_login", "true")
    assert done.returncode == 0, done.stderr
    assert entry.is_file()
    assert "Exec=" in entry.read_text()
    assert st.load().get("app.start_at_login") is True
    entry.unlink()
    assert config("set", "app.start_at_login", "true").returncode == 0  # saving it again repairs it
    assert entry.is_file()
    assert config("set", "app.start_at_login", "false").returncode == 0
    assert not entry.exists()
    assert st.load().get("app.start_at_login") is False
    config("set", "app.start_at_login", "true")
    assert config("reset", "app.start_at_login").returncode == 0
    assert not entry.exists()
    assert st.load().is_default("app.start_at_login")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="XDG autostart is the Linux mechanism")
def test_start_at_login_that_cannot_be_written_is_not_saved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "xdg"
    blocker.write_text("a file where the autostart folder's parent should be")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(blocker))
    done = config("set", "app.start_at_login", "true")
    assert done.returncode == 1
    assert "could not change start at login" in done.stderr
    assert st.load().is_default("app.start_at_login")


def test_config_list_says_empty_not_default_dot() -> None:
    """An empty default read "Default ." (issue 20)."""
    out = config("list").stdout
    assert "Default ." not in out
    assert "alerts.quiet_hours = (empty)" in out
    assert "Default (empty)." in out
