"""Notifications that tell the truth, against dunst on the private bus (issue 20).

- The icon is the alert's own gauge (its percentage in its level's colour), not the app icon's
  static green "62" on a red "5-hour at 93%" alert.
- A critical notification (dunst keeps those until dismissed) is withdrawn when its window resets,
  instead of saying "resets in 29 s" an hour later.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.integration.conftest import DesktopSession
from trayapp.channels.desktop import DesktopChannel
from trayapp.core.models import Alert, AlertKind, Level


def displayed() -> int:
    out = subprocess.run(["dunstctl", "count", "displayed"], capture_output=True, text=True, check=True)
    return int(out.stdout.strip() or 0)


def alert(percent: float, level: Level, resets_in: timedelta, critical: bool) -> Alert:
    now = datetime.now(UTC)
    return Alert(
        key=f"truth-{percent}-{now.timestamp()}",
        kind=AlertKind.THRESHOLD,
        window_id="five_hour",
        window_label="5-hour",
        utilization=percent,
        level=level,
        created_at=now,
        title=f"5-hour at {percent:.0f}%",
        body="resets soon",
        threshold=90,
        resets_at=now + resets_in,
        critical=critical,
    )


@pytest.fixture
async def desktop(desktop_services: DesktopSession, qapp) -> AsyncIterator[DesktopChannel]:
    from trayapp.ui.icon import alert_icon_file

    subprocess.run(["dunstctl", "close-all"], check=True)
    channel = DesktopChannel(icon_for=alert_icon_file)
    yield channel
    await channel.close()


async def test_a_critical_notification_is_withdrawn_when_its_window_resets(desktop: DesktopChannel) -> None:
    delivery = await desktop.send(alert(93, Level.CRITICAL, timedelta(seconds=2), critical=True))
    assert delivery.ok, delivery
    await asyncio.sleep(0.5)
    assert displayed() == 1  # critical: dunst keeps it on screen
    for _ in range(40):
        await asyncio.sleep(0.25)
        if displayed() == 0:
            break
    assert displayed() == 0  # withdrawn at the reset, about 2 s after it was sent


async def test_the_icon_is_the_alerts_own_gauge(desktop: DesktopChannel, qapp) -> None:
    from PySide6.QtGui import QImage

    from trayapp.ui.icon import level_color

    delivery = await desktop.send(alert(93, Level.CRITICAL, timedelta(hours=1), critical=False))
    assert delivery.ok, delivery
    await asyncio.sleep(0.5)
    subprocess.run(["dunstctl", "close-all"], check=True)
    history = json.loads(subprocess.run(["dunstctl", "history"], capture_output=True, text=True).stdout)
    mine = [n for n in history["data"][0] if n["appname"]["data"] == "Claude Watch"]
    note = max(mine, key=lambda n: n["id"]["data"])  # the one just sent
    icon = Path(note["icon_path"]["data"])
    assert icon.name == "critical-93.png", note["icon_path"]
    image = QImage(str(icon))
    colours = {image.pixelColor(x, y).name() for x in range(image.width()) for y in range(image.height())}
    assert level_color(Level.CRITICAL).name() in colours  # the arc in the critical colour
    assert level_color(Level.OK).name() not in colours  # not the app icon's green
