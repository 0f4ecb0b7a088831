"""``claude-watch doctor`` in a subprocess without desktop services: every line guarded."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.helpers.fixtures_usage import write_credentials
from trayapp.core.models import ErrorKind, FetchError
from trayapp.store.usage_repo import UsageRepo


def doctor(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["HOME"] = str(home.parent / "fake-home")
    for var in ("DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS"):
        env.pop(var, None)
    return subprocess.run(
        [sys.executable, "-m", "trayapp", "doctor", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_doctor_reports_credentials_and_last_poll(hermetic_env: Path, claude_dir: Path) -> None:
    now = datetime.now(UTC)
    write_credentials(
        claude_dir, expires_at=now + timedelta(hours=3), login_expires_at=now + timedelta(days=2)
    )
    repo = UsageRepo.open(hermetic_env / "data" / "claude-watch.sqlite3")
    repo.record_outcome(now - timedelta(minutes=3), FetchError(ErrorKind.RATE_LIMITED, "slow down"), 429)
    repo.set_cooldown("k" * 64, now + timedelta(minutes=20))
    repo.close()
    out = doctor(hermetic_env, "--json")
    checks = {c["name"]: c for c in json.loads(out.stdout)}
    assert checks["Credentials"]["status"] == "ok"
    assert "Max 5x" in checks["Credentials"]["detail"]
    # The popup's countdown wording (cut, not rounded): a few seconds after "3 h" is "2 h 59 min".
    assert checks["Access token"]["status"] == "ok"
    assert re.fullmatch(r"valid for (3 h|2 h 5\d min) more", checks["Access token"]["detail"])
    assert checks["Login"]["status"] == "warn"
    assert "/login" in checks["Login"]["fix"]
    assert checks["Scopes"]["status"] == "ok"
    assert checks["Last poll"]["status"] == "warn"
    assert "rate_limited" in checks["Last poll"]["detail"]
    assert checks["Rate limit"]["status"] == "warn"
    assert checks["Tray"]["detail"].startswith("no display")
    assert checks["Notifications"]["status"] in ("warn", "ok")
    assert "sk-ant" not in out.stdout
    assert out.returncode == 0  # warnings only


def test_doctor_human_output_without_login(hermetic_env: Path) -> None:
    out = doctor(hermetic_env)
    assert out.returncode == 1
    assert "✗ Credentials: no usable Claude Code login" in out.stdout
    assert "fix: No Claude Code login found. Sign in with `claude`" in out.stdout


def test_doctor_shows_the_update_check(hermetic_env: Path) -> None:
    from trayapp import paths, settings
    from trayapp.cli import doctor
    from trayapp.services.update_check import STATE_FILE

    now = datetime.now(UTC)
    assert doctor.check_updates(now).detail == "off (setting updates.check)"
    settings.load().update({"updates.check": True})
    assert doctor.check_updates(now).detail == "on, not checked yet"
    state = {
        "checked_at": now.isoformat(),
        "latest": "9.0.0",
        "link": "https://example.org/r/9",
        "newer": True,
    }
    paths.ensure(paths.state_dir())
    (paths.state_dir() / STATE_FILE).write_text(json.dumps(state))
    check = doctor.check_updates(now)
    assert check.status == "warn"
    assert check.detail.startswith("9.0.0 available (you have ")
    assert check.detail.endswith(": https://example.org/r/9")
