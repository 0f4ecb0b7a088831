"""``trayapp.paths`` computes platformdirs' user directories by hand on Linux/BSD and macOS (the import
costs every command about 7 ms); here both are compared under the environment variations that
matter, and the fallback to platformdirs is checked."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import platformdirs
import pytest

from trayapp import APP_ID, paths

XDG = ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME")
ENVS = [
    {},
    {
        "XDG_CONFIG_HOME": "/x/config",
        "XDG_DATA_HOME": "/x/data",
        "XDG_CACHE_HOME": "/x/cache",
        "XDG_STATE_HOME": "/x/state",
    },  # fmt: skip
    {
        "XDG_CONFIG_HOME": "relative/ignored",
        "XDG_DATA_HOME": "",
        "XDG_CACHE_HOME": "~/not-expanded",
        "XDG_STATE_HOME": "/x/state/",
    },  # fmt: skip
    {"XDG_DATA_HOME": "/x/data with space"},
]


def _setup(monkeypatch: pytest.MonkeyPatch, home: str, env: dict[str, str]) -> None:
    monkeypatch.delenv("CLAUDE_WATCH_HOME", raising=False)
    monkeypatch.setenv("HOME", home)
    for var in XDG:
        monkeypatch.delenv(var, raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)


def _expected(pd: platformdirs.api.PlatformDirsABC) -> dict[str, Path]:
    return {
        "config": Path(pd.user_config_dir),
        "data": Path(pd.user_data_dir),
        "cache": Path(pd.user_cache_dir),
        "logs": Path(pd.user_log_dir),
        "state": Path(pd.user_state_dir),
    }


@pytest.mark.parametrize("env", ENVS)
@pytest.mark.parametrize("home_kind", ["plain", "trailing-slash"])
def test_linux_rules_match_platformdirs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, env: dict[str, str], home_kind: str
) -> None:
    from platformdirs.unix import Unix

    _setup(monkeypatch, str(tmp_path) + ("/" if home_kind == "trailing-slash" else ""), env)
    fast = paths.platform_dirs("linux")
    assert fast is not None
    assert fast.all() == _expected(Unix(appname=APP_ID, appauthor=False))


@pytest.mark.parametrize("env", ENVS)
def test_macos_rules_match_platformdirs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, env: dict[str, str]
) -> None:
    from platformdirs.macos import MacOS

    _setup(monkeypatch, str(tmp_path), env)
    fast = paths.platform_dirs("darwin")
    assert fast is not None
    assert fast.all() == _expected(MacOS(appname=APP_ID, appauthor=False))


def test_app_dirs_without_home_override_is_platformdirs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _setup(monkeypatch, str(tmp_path), {"XDG_STATE_HOME": "/x/state"})
    assert paths.app_dirs().all() == _expected(platformdirs.PlatformDirs(appname=APP_ID, appauthor=False))
    if sys.platform.startswith("linux"):
        assert paths.data_dir() == tmp_path / ".local" / "share" / APP_ID
        assert paths.state_dir() == Path("/x/state") / APP_ID


def test_other_platforms_and_odd_homes_fall_back(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _setup(monkeypatch, str(tmp_path), {})
    assert paths.platform_dirs("win32") is None
    assert paths.platform_dirs("emscripten") is None
    monkeypatch.setenv("HOME", "relative/home")
    assert paths.platform_dirs("linux") is None
    # The fallback is the real thing.
    assert paths.app_dirs().all() == _expected(platformdirs.PlatformDirs(appname=APP_ID, appauthor=False))


def test_app_dirs_does_not_import_platformdirs(tmp_path: Path) -> None:
    code = "import sys, trayapp.paths as p; p.app_dirs(); print('platformdirs' in sys.modules)"
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ("False" if sys.platform.startswith("linux") else "True")
