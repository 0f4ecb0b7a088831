"""The desktop session itself: each service the other integration tests rely on is really up."""

from __future__ import annotations

import json
import subprocess

from tests.helpers.app_process import wait_for
from tests.integration.conftest import DesktopSession


def test_tray_and_notification_server_are_up(desktop_services: DesktopSession) -> None:
    tree = subprocess.run(["xwininfo", "-root", "-tree"], capture_output=True, text=True, check=True).stdout
    assert '"panel"' in tree  # trayer's window
    subprocess.run(["dunstctl", "close-all"], check=True)
    idle = dunst_counts()
    assert (idle["Waiting"], idle["Currently displayed"]) == (0, 0)
    # The server really shows a notification: one is displayed, and closing it moves it to history.
    subprocess.run(["notify-send", "--app-name=cw-session-check", "session check"], check=True, timeout=10)
    shown = {**idle, "Currently displayed": 1}
    assert wait_for(lambda: dunst_counts() == shown, timeout=5), dunst_counts()
    subprocess.run(["dunstctl", "close-all"], check=True)
    closed = {**idle, "History": idle["History"] + 1}
    assert wait_for(lambda: dunst_counts() == closed, timeout=5), dunst_counts()


def dunst_counts() -> dict[str, int]:
    """``dunstctl count`` parsed: its three "name: number" lines (waiting, displayed, history)."""
    out = subprocess.run(["dunstctl", "count"], capture_output=True, text=True, check=True).stdout
    counts = {}
    for line in out.strip().splitlines():
        name, sep, value = line.partition(":")
        assert sep, out
        assert value.strip().isdigit(), out
        counts[name.strip()] = int(value)
    assert set(counts) == {"Waiting", "Currently displayed", "History"}, out
    return counts


def test_secret_service_is_unlocked(desktop_services: DesktopSession) -> None:
    store = subprocess.run(
        [
            "secret-tool",
            "store",
            "--label=cw-session-check",
            "service",
            "cw-session-check",
            "username",
            "probe",
        ],
        input="value-1",
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert store.returncode == 0, store.stderr
    got = subprocess.run(
        ["secret-tool", "lookup", "service", "cw-session-check", "username", "probe"],
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert got.stdout == "value-1"
    subprocess.run(["secret-tool", "clear", "service", "cw-session-check", "username", "probe"], timeout=10)


def test_dunst_history_is_json(desktop_services: DesktopSession) -> None:
    out = subprocess.run(["dunstctl", "history"], capture_output=True, text=True, check=True).stdout
    assert "data" in json.loads(out)
