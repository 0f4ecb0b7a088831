"""The engine's commands inside a real desktop session: `doctor` sees the keyring, the
notification server and the tray; `status --demo` works end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def _run(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("QT_QPA_PLATFORM", None)  # let doctor's Qt probe use the real (Xvfb) display
    return subprocess.run(
        [sys.executable, "-m", "trayapp", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=90,
        check=False,
    )


@pytest.mark.integration
def test_doctor_finds_the_desktop_services(desktop_services: object, hermetic_env: Path) -> None:
    out = _run("doctor", "--json", home=hermetic_env)
    checks = {c["name"]: c for c in json.loads(out.stdout)}
    assert checks["Keyring"]["status"] == "ok", checks["Keyring"]
    assert "SecretService" in checks["Keyring"]["detail"]
    assert checks["Notifications"]["status"] == "ok", checks["Notifications"]
    assert checks["Tray"]["status"] == "ok", checks["Tray"]
    # No Claude login in the temp config dir: doctor says so, with the fix, and exits 1.
    assert checks["Credentials"]["status"] == "fail"
    assert "claude" in checks["Credentials"]["fix"]
    assert out.returncode == 1


@pytest.mark.integration
def test_status_demo_in_the_desktop_session(desktop_services: object, hermetic_env: Path) -> None:
    out = _run("status", "--demo", "--json", home=hermetic_env)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["source"] == "demo"
    assert data["plan"] == "Max 20x"
    assert any(w["id"] == "weekly_scoped:Fable 5" for w in data["windows"])
