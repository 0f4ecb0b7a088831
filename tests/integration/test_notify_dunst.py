"""Native notifications end to end: dunst on the private bus receives exactly one notification
for a crossing, a restart does not repeat it, and with no notification server the tray's own
message is used instead."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.helpers.app_process import UsageServer, app_env, start_app, stop_app, usage_body, wait_for
from tests.integration.conftest import DesktopSession
from trayapp.demo import write_demo_credentials

NO_SERVICES_CONF = """<busconfig><type>session</type><listen>unix:tmpdir=/tmp</listen>
<policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/>
<allow own="*"/></policy></busconfig>
"""


def ours() -> list[dict]:
    """Claude Watch notifications dunst has shown (displayed ones are closed into history first)."""
    subprocess.run(["dunstctl", "close-all"], check=True)
    data = json.loads(
        subprocess.run(["dunstctl", "history"], capture_output=True, text=True, check=True).stdout
    )
    return [n for n in data["data"][0] if n["appname"]["data"] == "Claude Watch"]


@pytest.fixture
def usage_server():
    server = UsageServer(usage_body(five_hour=81.0))
    yield server
    server.stop()


@pytest.fixture
def app_environment(usage_server, claude_dir: Path, hermetic_env: Path) -> dict[str, str]:
    write_demo_credentials(claude_dir)
    return app_env(CLAUDE_WATCH_API_BASE=usage_server.base_url, CLAUDE_CONFIG_DIR=str(claude_dir))


def log_text(home: Path) -> str:
    path = home / "logs" / "claude-watch.log"
    return path.read_text() if path.exists() else ""


def test_crossing_gives_exactly_one_notification_and_restart_does_not_repeat(
    desktop_services: DesktopSession, app_environment, usage_server, hermetic_env: Path
) -> None:
    before = {n["id"]["data"] for n in ours()}
    app = start_app(env=app_environment)
    try:
        assert wait_for(lambda: "alert five_hour@" in log_text(hermetic_env), timeout=20), log_text(
            hermetic_env
        )
        new = wait_for(lambda: [n for n in ours() if n["id"]["data"] not in before], timeout=10)
    finally:
        out = stop_app(app)
    assert len(new) == 1, out
    note = new[0]
    assert note["summary"]["data"] == "5-hour at 81%"
    assert "You passed 75% of your 5-hour limit" in note["body"]["data"]
    assert note["icon_path"]["data"].endswith("claude-watch-128.png")
    # Restart with the same state dir: the same reading comes back, no second notification.
    seen = {n["id"]["data"] for n in ours()}
    requests = usage_server.requests
    again = start_app(env=app_environment)
    try:
        assert wait_for(
            lambda: "Claude Watch running" in log_text(hermetic_env).split("alert five_hour@")[-1], timeout=20
        )
        wait_for(lambda: usage_server.requests > requests, timeout=10)
        subprocess.run(["sleep", "2"])
        assert [n for n in ours() if n["id"]["data"] not in seen] == []
    finally:
        stop_app(again)


def test_without_a_notification_server_the_tray_message_is_used(
    desktop_services: DesktopSession, app_environment, tmp_path: Path, hermetic_env: Path
) -> None:
    conf = tmp_path / "session-noservices.conf"
    conf.write_text(NO_SERVICES_CONF)
    env = dict(app_environment)
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    before = {n["id"]["data"] for n in ours()}
    app = start_app(env=env, wrap=["dbus-run-session", f"--config-file={conf}", "--"])
    try:
        assert wait_for(lambda: "tray fallback" in log_text(hermetic_env), timeout=20), log_text(hermetic_env)
    finally:
        stop_app(app)
    assert [n for n in ours() if n["id"]["data"] not in before] == []
    assert os.environ.get("DBUS_SESSION_BUS_ADDRESS")  # dunst's bus was untouched


def test_clicking_the_notification_opens_the_dashboard(
    desktop_services: DesktopSession, app_environment, hermetic_env: Path
) -> None:
    from tests.helpers.app_process import visible_windows

    subprocess.run(["dunstctl", "close-all"], check=True)
    app = start_app(env=app_environment)
    try:
        assert wait_for(lambda: "via desktop: notification server" in log_text(hermetic_env), timeout=20)
        assert not visible_windows("Claude Watch dashboard")
        shown = subprocess.run(["dunstctl", "count", "displayed"], capture_output=True, text=True).stdout
        assert shown.strip() != "0"
        subprocess.run(["dunstctl", "action", "0"], check=True)
        assert wait_for(lambda: visible_windows("Claude Watch dashboard"), timeout=5)
    finally:
        stop_app(app)
