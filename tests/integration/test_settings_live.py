"""Settings have one source of truth, with the real app on the test desktop: a `claude-watch config
set` made while the app runs is applied by the app within 2 s, survives the app saving a setting of
its own (the popup's 7 d range, clicked through the keyboard) and survives a restart."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers.app_process import (
    REPO,
    UsageServer,
    app_env,
    start_app,
    stop_app,
    usage_body,
    visible_windows,
    wait_for,
)
from tests.integration.conftest import DesktopSession
from trayapp import settings as st
from trayapp.demo import write_demo_credentials


def log_text(home: Path) -> str:
    path = home / "logs" / "claude-watch.log"
    return path.read_text() if path.exists() else ""


def config(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "trayapp", "config", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.strip()


def choose_7d_range_with_the_keyboard(settings_file: Path) -> bool:
    """Move the dashboard's focus along (Tab) and press Right: on the checked "24 h" button of the
    range pair that checks "7 d" (Qt's arrow keys in an exclusive button group); on the other
    widgets before it, Right does nothing. Stops as soon as the app has saved the range."""
    for _ in range(12):
        subprocess.run(["xdotool", "key", "Tab"], check=True)
        subprocess.run(["xdotool", "key", "Right"], check=True)
        if wait_for(lambda: 'timeline_range = "7d"' in settings_file.read_text(), timeout=0.5):
            return True
    return False


@pytest.fixture
def usage_server():
    server = UsageServer(usage_body(five_hour=30.0))
    yield server
    server.stop()


def test_config_set_while_the_app_runs_is_applied_and_survives_the_popup_and_a_restart(
    desktop_services: DesktopSession, usage_server, claude_dir: Path, hermetic_env: Path
) -> None:
    write_demo_credentials(claude_dir)
    env = app_env(
        CLAUDE_WATCH_API_BASE=usage_server.base_url,
        CLAUDE_CONFIG_DIR=str(claude_dir),
        CLAUDE_WATCH_SHOW_DASHBOARD="1",
    )
    settings_file = hermetic_env / "config" / "settings.toml"
    # Written by hand before the app starts: a good value, and one the app cannot use (out of
    # range: it runs on the default and warns), which is still the user's to fix, not the app's
    # to delete when it saves something else.
    settings_file.parent.mkdir(parents=True)
    settings_file.write_text('[alerts]\nquiet_hours = "22:00-07:00"\n\n[sound]\nvolume = 150\n')
    app = start_app(env=env)
    try:
        assert wait_for(lambda: "Claude Watch running" in log_text(hermetic_env), timeout=20), log_text(
            hermetic_env
        )
        assert wait_for(lambda: visible_windows("Claude Watch dashboard"), timeout=10)
        time.sleep(0.5)  # the dashboard has the keyboard focus once it is mapped and activated
        # 1. `config set` in another process while the app runs: applied within 2 s. The usage
        #    service logs the interval it now polls at (its subscription's own effect).
        config("set", "poll.interval_minutes", "15", env=env)
        written = time.monotonic()
        assert wait_for(
            lambda: "usage polling every 15 minutes from now on" in log_text(hermetic_env), timeout=2.0
        ), log_text(hermetic_env)
        assert time.monotonic() - written < 2.0
        assert "poll.interval_minutes changed" in log_text(hermetic_env)
        # 2. The app saves a setting of its own: the dashboard's 7 d range, chosen by key presses.
        assert choose_7d_range_with_the_keyboard(settings_file), log_text(hermetic_env)
        saved = st.load(settings_file)
        assert saved.get("ui.timeline_range") == "7d"
        assert saved.get("poll.interval_minutes") == 15  # the CLI's change survived the app's save
        assert saved.get("alerts.quiet_hours") == "22:00-07:00"
        assert "volume = 150" in settings_file.read_text()
    finally:
        out = stop_app(app)
    # 3. A restart (start-up and shutdown save nothing of their own): the CLI's change is still there.
    again = start_app(env=env)
    try:
        assert wait_for(lambda: log_text(hermetic_env).count("Claude Watch running") == 2, timeout=20), out
    finally:
        stop_app(again)
    assert config("get", "poll.interval_minutes", env=env) == "15"
    assert config("get", "ui.timeline_range", env=env) == "7d"
    assert config("get", "alerts.quiet_hours", env=env) == "22:00-07:00"
    assert "volume = 150" in settings_file.read_text()
