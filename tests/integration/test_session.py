"""The desktop session itself: each service the other integration tests rely on is really up."""

from __future__ import annotations

import json
import subprocess

from tests.integration.conftest import DesktopSession


def test_tray_and_notification_server_are_up(desktop_services: DesktopSession) -> None:
    tree = subprocess.run(["xwininfo", "-root", "-tree"], capture_output=True, text=True, check=True).stdout
    assert '"panel"' in tree  # trayer's window
    out = subprocess.run(["dunstctl", "count"], capture_output=True, text=True, check=True).stdout
    assert "Currently displayed" in out or out.strip().isdigit() or "displayed" in out.lower()


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
