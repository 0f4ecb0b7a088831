"""Native notifications end to end: dunst on the private bus receives exactly one notification
for a crossing, a restart does not repeat it, and with no notification server the tray's own
message is used instead."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
from collections import Counter
from contextlib import closing
from pathlib import Path

import pytest

from tests.helpers.app_process import UsageServer, app_env, start_app, stop_app, usage_body, wait_for
from tests.integration.conftest import DesktopSession
from tests.integration.test_tray_embed import tray_icon
from trayapp.demo import write_demo_credentials
from trayapp.paths import database_file

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


def five_hour_readings() -> list[float]:
    """The 5-hour utilizations the app stored, oldest first (read-only: the app may be running)."""
    if not database_file().exists():
        return []
    with closing(sqlite3.connect(f"file:{database_file()}?mode=ro", uri=True)) as db:
        sql = "SELECT utilization FROM window_samples WHERE window_id = 'five_hour' ORDER BY fetched_at"
        return [row[0] for row in db.execute(sql)]


def balloons() -> list[tuple[str, int, int, int, int]]:
    """Claude Watch's tray balloons on the display: its mapped tooltip-type windows (the balloon
    ``QSystemTrayIcon.showMessage`` shows), as (id, x, y, width, height) in root coordinates."""
    ids = subprocess.run(
        ["xdotool", "search", "--onlyvisible", "--class", "Claude Watch"], capture_output=True, text=True
    ).stdout.split()
    found = []
    for wid in ids:
        kind = subprocess.run(["xprop", "-id", wid, "_NET_WM_WINDOW_TYPE"], capture_output=True, text=True)
        if "_NET_WM_WINDOW_TYPE_TOOLTIP" not in kind.stdout:
            continue
        info = subprocess.run(["xwininfo", "-id", wid], capture_output=True, text=True).stdout
        geometry = [
            int(re.search(rf"{label}:\s+(-?\d+)", info).group(1))
            for label in ("Absolute upper-left X", "Absolute upper-left Y", "Width", "Height")
        ]
        found.append((wid, *geometry))
    return found


def screen_pixels(x: int, y: int, w: int, h: int) -> list[tuple[int, int, int]]:
    """What the display shows in that rectangle (a screenshot of the root window, cropped)."""
    ppm = subprocess.run(
        ["import", "-window", "root", "-crop", f"{w}x{h}+{x}+{y}", "-depth", "8", "ppm:-"],
        capture_output=True,
        check=True,
    ).stdout
    magic, width, height, maxval, data = ppm.split(maxsplit=4)
    assert (magic, int(width), int(height), int(maxval)) == (b"P6", w, h, 255)
    return [tuple(data[i : i + 3]) for i in range(0, 3 * w * h, 3)]


def away_from_the_tray() -> None:
    """Park the pointer in a corner: hovering the tray icon would show its tooltip (also a tooltip window)."""
    subprocess.run(["xdotool", "mousemove", "5", "795"], check=True)


def test_crossing_gives_exactly_one_notification_and_restart_does_not_repeat(
    desktop_services: DesktopSession, app_environment, usage_server, hermetic_env: Path
) -> None:
    away_from_the_tray()
    before = {n["id"]["data"] for n in ours()}
    app = start_app(env=app_environment)
    try:
        assert wait_for(lambda: "alert five_hour@" in log_text(hermetic_env), timeout=20), log_text(
            hermetic_env
        )
        new = wait_for(lambda: [n for n in ours() if n["id"]["data"] not in before], timeout=10)
        assert balloons() == []  # with a notification server the tray's balloon is not used
    finally:
        out = stop_app(app)
    assert len(new) == 1, out
    note = new[0]
    assert note["summary"]["data"] == "5-hour at 81%"
    assert "You passed 75% of your 5-hour limit" in note["body"]["data"]
    # Our own icon (never the Python logo): the alert's gauge, 81% in the warning colour.
    assert note["icon_path"]["data"].endswith("/notification-icons/warning-81.png")
    # Restart with the same state dir: the same reading comes back, no second notification.
    seen = {n["id"]["data"] for n in ours()}
    requests = usage_server.requests
    readings = five_hour_readings()
    assert readings == [81.0]
    again = start_app(env=app_environment)
    try:
        assert wait_for(
            lambda: "Claude Watch running" in log_text(hermetic_env).split("alert five_hour@")[-1], timeout=20
        )
        # The restarted app really polls again and receives the same reading (stored as a new sample,
        # then evaluated by the alert service in the same turn)...
        assert wait_for(lambda: usage_server.requests > requests, timeout=10), (
            "the restarted app did not poll"
        )
        assert wait_for(lambda: five_hour_readings() == [81.0, 81.0], timeout=10), five_hour_readings()
        # ...and nothing new is shown: no alert logged, no notification (the first one came within
        # a tenth of a second of its reading).
        assert not wait_for(lambda: [n for n in ours() if n["id"]["data"] not in seen], timeout=2)
        assert "alert five_hour@" not in log_text(hermetic_env).split("Claude Watch running")[-1]
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
    away_from_the_tray()
    assert balloons() == []
    app = start_app(env=env, wrap=["dbus-run-session", f"--config-file={conf}", "--"])
    try:
        # The alert appears on the display as the tray's balloon...
        shown = wait_for(balloons, timeout=20)
        assert len(shown) == 1, log_text(hermetic_env)
        _, x, y, w, h = shown[0]
        icon = tray_icon()
        assert icon, "the tray icon is not embedded"
        _, iw, ih, ix, iy = icon
        # ...pointing at our tray icon (its arrow's tip is the icon's centre)...
        assert x <= ix + iw // 2 <= x + w, (shown, icon)
        assert y - 2 <= iy + ih // 2 <= y + h, (shown, icon)
        # ...with the alert's text painted in it: in the lower half of its body (clear of the arrow
        # above and the rounded corners), many pixels stand far from the balloon's background colour.
        pixels = screen_pixels(x + 12, y + h // 2, w - 24, h // 2 - 10)
        background = Counter(pixels).most_common(1)[0][0]
        ink = [p for p in pixels if sum(abs(a - b) for a, b in zip(p, background, strict=True)) > 300]
        assert len(ink) > 600, (background, len(ink))  # ~1800 with the two lines of text, ~160 without
        assert "via desktop: tray fallback" in log_text(hermetic_env)  # the route, as the app reports it
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
