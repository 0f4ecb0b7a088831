"""The real tray under Xvfb + trayer: the icon embeds, a left click opens the dashboard, a second
launch shows the running app's dashboard and exits 0."""

from __future__ import annotations

import re
import subprocess
import sys
import time

import pytest

from tests.helpers.app_process import app_env, start_app, stop_app, visible_windows, wait_for, x_tree
from tests.integration.conftest import DesktopSession

ICON_RE = re.compile(
    r'(0x[0-9a-f]+) "Claude Watch": \([^)]*\)\s+(\d+)x(\d+)\+-?\d+\+-?\d+\s+\+(-?\d+)\+(-?\d+)'
)


def tray_icon() -> tuple[str, int, int, int, int] | None:
    """The embedded icon window: (id, width, height, x, y) in root coordinates."""
    tree = x_tree()
    if '"panel"' not in tree:
        return None
    panel_part = tree.split('"panel"', 1)[1]
    for m in ICON_RE.finditer(panel_part):
        wid, w, h, x, y = m.group(1), *map(int, m.groups()[1:])
        if w >= 16 and h >= 16:
            return wid, w, h, x, y
    return None


@pytest.fixture
def app(desktop_services: DesktopSession):
    proc = start_app("--demo", env=app_env())
    yield proc
    stop_app(proc)
    wait_for(lambda: tray_icon() is None, timeout=5)


def test_icon_embeds_in_the_tray_and_a_click_opens_the_dashboard(app) -> None:
    icon = wait_for(tray_icon, timeout=15)
    assert icon, f"no 'Claude Watch' icon inside trayer's panel:\n{x_tree()}"
    wid, w, h, x, y = icon
    assert 16 <= w <= 64
    assert 16 <= h <= 64
    assert x > 0
    assert not visible_windows("Claude Watch dashboard")
    subprocess.run(["xdotool", "mousemove", str(x + w // 2), str(y + h // 2), "click", "1"], check=True)
    shown = wait_for(lambda: visible_windows("Claude Watch dashboard"), timeout=5)
    assert shown, "left click on the tray icon did not open the dashboard"
    geo = subprocess.run(["xwininfo", "-id", shown[0]], capture_output=True, text=True).stdout
    top = int(re.search(r"Absolute upper-left Y:\s+(-?\d+)", geo).group(1))
    assert top >= y + h - 2, "the popup should open below a top panel"
    # A second click on the icon closes it. (Escape is covered by the unit tests: a key sent with
    # `xdotool key --window` can stay pressed on a bare Xvfb and auto-repeat into later tests.)
    time.sleep(0.6)  # past the double-click interval, or Qt reports DoubleClick, not Trigger
    subprocess.run(["xdotool", "click", "1"], check=True)
    assert wait_for(lambda: not visible_windows("Claude Watch dashboard"), timeout=5)


def test_second_launch_shows_the_running_dashboard_and_exits_zero(app, hermetic_env) -> None:
    assert wait_for(tray_icon, timeout=15)
    second = subprocess.run(
        [sys.executable, "-m", "trayapp"],
        env=app_env(),
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert second.returncode == 0, second.stdout + second.stderr
    assert "already running" in second.stdout
    log = hermetic_env / "logs" / "claude-watch.log"

    def diagnose() -> str:
        ids = subprocess.run(
            ["xdotool", "search", "--name", "Claude Watch dashboard"], capture_output=True, text=True
        ).stdout.split()
        info = [subprocess.run(["xwininfo", "-id", w], capture_output=True, text=True).stdout for w in ids]
        return log.read_text() + "\n".join(info)

    assert wait_for(lambda: visible_windows("Claude Watch dashboard"), timeout=5), diagnose()
