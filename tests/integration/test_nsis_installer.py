"""The Windows installer script (packaging/windows/installer.nsi) compiles with Debian's makensis
against a stand-in bundle, warnings as errors: a syntax and packaging check of the script (the
real installer is built by .github/workflows/release.yml on Windows). Skips without makensis,
fails under CI=true (packaging/system-deps.sh test installs nsis)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from trayapp.platform import autostart

ROOT = Path(__file__).parents[2]
SCRIPT = ROOT / "packaging" / "windows" / "installer.nsi"


def _makensis() -> str:
    found = shutil.which("makensis")
    if found is None:
        reason = "makensis not installed (apt-get install nsis; packaging/system-deps.sh test)"
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true: " + reason)
        pytest.skip(reason)
    return found


def _standin(tmp_path: Path) -> Path:
    bundle = tmp_path / "bundle"
    (bundle / "_internal").mkdir(parents=True)
    (bundle / "claude-watch.exe").write_bytes(b"MZ console stand-in")
    (bundle / "ClaudeWatch.exe").write_bytes(b"MZ windowed stand-in")
    (bundle / "_internal" / "base_library.zip").write_bytes(b"PK stand-in")
    return bundle


def _compile(tmp_path: Path, *defines: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_makensis(), "-WX", "-V4", *defines, str(SCRIPT)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        check=False,
    )


def test_installer_compiles_with_the_bundle_as_payload(tmp_path: Path) -> None:
    out = tmp_path / "claude-watch-0.1.0-setup.exe"
    done = _compile(tmp_path, "-DVERSION=0.1.0", f"-DSRCDIR={_standin(tmp_path)}", f"-DOUTFILE={out}")
    assert done.returncode == 0, done.stdout + done.stderr
    assert out.read_bytes()[:2] == b"MZ"
    assert b"Nullsoft" in out.read_bytes()
    packed = set(re.findall(r'File: "([^"]+)"', done.stdout))
    assert {"claude-watch.exe", "ClaudeWatch.exe", "base_library.zip"} <= packed


def test_installer_fails_without_a_version_or_with_a_missing_bundle(tmp_path: Path) -> None:
    no_version = _compile(tmp_path, f"-DSRCDIR={_standin(tmp_path)}")
    assert no_version.returncode != 0
    assert "pass -DVERSION" in no_version.stdout + no_version.stderr
    missing = _compile(tmp_path, "-DVERSION=0.1.0", f"-DSRCDIR={tmp_path / 'nothing'}")
    assert missing.returncode != 0


def test_installer_is_per_user_and_matches_the_apps_autostart() -> None:
    text = SCRIPT.read_text(encoding="utf-8")
    assert "RequestExecutionLevel user" in text
    assert 'InstallDir "$LOCALAPPDATA\\Programs\\${APPNAME}"' in text
    assert "HKLM" not in text
    # "Start at login" writes the value the app's own setting reads and removes.
    assert f'!define RUN_KEY "{autostart.RUN_KEY}"' in text
    assert f'!define RUN_VALUE "{autostart.RUN_VALUE}"' in text
    assert 'WriteRegStr HKCU "${UNINST_KEY}" "UninstallString"' in text
