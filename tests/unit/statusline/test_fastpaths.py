"""The statusline's own directory and settings lookups agree with trayapp.paths / settings."""

from __future__ import annotations

from pathlib import Path

import platformdirs
import pytest

from trayapp import APP_ID, paths, settings
from trayapp.statusline import fastpaths


def _same_as_paths() -> None:
    fast = fastpaths.app_dirs()
    real = paths.app_dirs()
    assert Path(fast["config"]) == real.config
    assert Path(fast["state"]) == real.state
    assert Path(fast["logs"]) == real.logs


def test_constants_match_the_app() -> None:
    assert fastpaths.APP_ID == APP_ID
    assert fastpaths.HOME_ENV == paths.HOME_ENV
    assert fastpaths.SEGMENTS == settings.STATUSLINE_SEGMENTS
    assert list(fastpaths.DEFAULT_SEGMENTS) == settings.BY_KEY["statusline.segments"].default


@pytest.mark.parametrize("home", ["/tmp/cw home", "~/cw", "/tmp/cw/"])
def test_with_claude_watch_home(monkeypatch: pytest.MonkeyPatch, home: str) -> None:
    monkeypatch.setenv("CLAUDE_WATCH_HOME", home)
    _same_as_paths()


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"XDG_STATE_HOME": "/x/state", "XDG_CONFIG_HOME": "/x/config"},
        {"XDG_STATE_HOME": "relative/ignored", "XDG_CONFIG_HOME": ""},
    ],
)
def test_linux_matches_platformdirs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, env: dict) -> None:
    monkeypatch.delenv("CLAUDE_WATCH_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    for var in ("XDG_STATE_HOME", "XDG_CONFIG_HOME"):
        monkeypatch.delenv(var, raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    _same_as_paths()


@pytest.mark.parametrize("env", [{}, {"XDG_STATE_HOME": "/x/state", "XDG_CONFIG_HOME": "/x/config"}])
def test_macos_rules_match_platformdirs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, env: dict) -> None:
    from platformdirs.macos import MacOS

    monkeypatch.delenv("CLAUDE_WATCH_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    for var in ("XDG_STATE_HOME", "XDG_CONFIG_HOME"):
        monkeypatch.delenv(var, raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    pd = MacOS(appname=APP_ID, appauthor=False)
    fast = fastpaths.app_dirs("darwin")
    assert fast == {"config": pd.user_config_dir, "state": pd.user_state_dir, "logs": pd.user_log_dir}


def test_windows_falls_back_to_the_real_implementation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLAUDE_WATCH_HOME")
    real = paths.app_dirs()
    assert fastpaths.app_dirs("win32") == {
        "config": str(real.config),
        "state": str(real.state),
        "logs": str(real.logs),
    }
    assert platformdirs.__name__  # imported there, as expected off the fast path


@pytest.mark.parametrize(
    "text",
    [
        None,
        '[statusline]\nsegments = ["context", "today_cost"]\n',
        '[statusline]\nsegments = ["model", "bogus"]\n',
        "[statusline]\nsegments = 5\n",
        "not = [valid toml",
        '[tracking]\ntimezone = "Europe/Berlin"\n',
    ],
)
def test_settings_reader_matches_settings_load(tmp_path: Path, text: str | None) -> None:
    if text is not None:
        (tmp_path / "settings.toml").write_text(text)
    segments, tz, problems = fastpaths.read_settings(str(tmp_path))
    real = settings.load(tmp_path / "settings.toml")
    assert list(segments) == real.get("statusline.segments")
    assert tz == real.get("tracking.timezone")
    assert bool(problems) == any("statusline" in w or "TOML" in w for w in real.warnings)
