"""The login and achievements features inside the real composition root: the watch's status reaches
the tray tooltip and the popup's login line, the login route is on the desktop channel, and the
Achievements section follows achievements.enabled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.helpers.fixtures_usage import write_credentials


@pytest.mark.qt_loop
async def test_the_login_line_reaches_the_tooltip_and_the_popup(qapp, claude_dir: Path) -> None:
    from PySide6.QtWidgets import QLabel, QWidget

    from trayapp.app import ClaudeWatch
    from trayapp.features import achievements, login

    now = datetime.now(UTC)
    write_credentials(
        claude_dir, expires_at=now + timedelta(hours=8), login_expires_at=now + timedelta(days=12, hours=3)
    )
    cw = ClaudeWatch(qapp, demo=False, self_test=True)
    cw.build()
    watch = login.watch_of(cw)
    assert watch is not None
    assert "login" in cw.desktop.action_routes
    stop = await login.start(cw)
    stop_achievements = await achievements.start(cw)
    assert stop is not None
    assert stop_achievements is not None
    try:
        assert "Login renews in 12 days" in cw.tray.icon.toolTip()
        line = cw.popup.findChild(QLabel, "login-line")
        assert line is not None
        assert line.text().startswith("Login renews in 12 days")
        assert cw.popup.findChild(QWidget, "achievements-panel") is None  # off by default
        cw.settings.update({"achievements.enabled": True})  # subscribers hear of it
        section = cw.popup.findChild(QWidget, "achievements-panel")
        assert section is not None
        assert not section.isHidden()
        cw.settings.update({"achievements.enabled": False})
        assert section.isHidden()
        assert achievements.service_of(cw) is not None
    finally:
        await stop_achievements()
        await stop()
        cw.tray.hide()
