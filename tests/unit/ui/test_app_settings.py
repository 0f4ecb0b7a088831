"""Settings have one source of truth in the app: the popup, the Settings dialog, the usage and the
tracking services follow settings.toml themselves, and what the app saves (the popup's range, the
dialog's OK) is merged into the file, so a `claude-watch config set` made meanwhile survives."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from PySide6.QtCore import Qt

from tests.helpers.app_process import config_set
from trayapp import paths
from trayapp import settings as st

REPO = Path(__file__).resolve().parents[3]


def test_popup_range_click_keeps_a_cli_change_and_the_popup_follows_it(qapp, qtbot) -> None:
    from trayapp.app import ClaudeWatch

    cw = ClaudeWatch(qapp, demo=False, self_test=True)
    cw.build()
    popup = cw.popup
    assert not popup.theme.dark
    assert popup.range_key == "24h"
    config_set("ui.theme", "dark")
    config_set("alerts.quiet_hours", "23:00-06:00")
    # Before the app has even reloaded: the click saves its own key only.
    qtbot.mouseClick(popup.range_buttons["7d"], Qt.MouseButton.LeftButton)
    on_disk = st.load()
    assert on_disk.get("ui.timeline_range") == "7d"
    assert on_disk.get("ui.theme") == "dark"
    assert on_disk.get("alerts.quiet_hours") == "23:00-06:00"
    assert popup.theme.dark  # the save took the CLI's change in and announced it to the popup
    config_set("ui.timeline_range", "24h")
    assert cw.settings.reload() == ["ui.timeline_range"]
    assert popup.range_key == "24h"
    assert popup.range_buttons["24h"].isChecked()
    cw.tray.hide()


def test_settings_dialog_ok_keeps_a_cli_change_made_while_it_was_open(qapp, tmp_path, monkeypatch) -> None:
    from trayapp.app import ClaudeWatch

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    cw = ClaudeWatch(qapp, demo=False, self_test=True)
    cw.build()
    cw.open_settings()
    dialog = cw.settings_dialog
    assert dialog.editor_text("alerts.quiet_hours") == ""
    config_set("alerts.quiet_hours", "23:00-06:00")
    config_set("poll.interval_minutes", "15")
    # The user edits another field and presses OK on a dialog that still shows the old values.
    dialog.set_editor_text("ui.theme", "dark")
    dialog.set_editor_text("app.start_at_login", "true")
    assert dialog.apply()
    on_disk = st.load()
    assert on_disk.get("alerts.quiet_hours") == "23:00-06:00"
    assert on_disk.get("poll.interval_minutes") == 15
    assert on_disk.get("ui.theme") == "dark"
    assert on_disk.get("app.start_at_login") is True
    assert (tmp_path / "xdg" / "autostart" / "claude-watch.desktop").is_file()
    # The save took the CLI's values in: the untouched fields show them now.
    assert dialog.editor_text("alerts.quiet_hours") == "23:00-06:00"
    assert dialog.editor_text("poll.interval_minutes") == "15"
    dialog.close()
    cw.tray.hide()


def test_an_open_dialog_shows_other_writers_changes_but_keeps_what_the_user_typed(qtbot) -> None:
    from trayapp.ui.settings_dialog import SettingsDialog

    cfg = st.load()
    dialog = SettingsDialog(cfg, set_autostart=None)
    qtbot.addWidget(dialog)
    dialog.set_editor_text("alerts.quiet_hours", "22:00-07:00")  # typed, not yet applied
    config_set("ui.theme", "dark")
    config_set("alerts.quiet_hours", "23:00-06:00")
    assert cfg.reload() == ["ui.theme", "alerts.quiet_hours"]
    assert dialog.editor_text("ui.theme") == "dark"
    assert dialog.editor_text("alerts.quiet_hours") == "22:00-07:00"
    assert dialog.apply()
    assert st.load().get("alerts.quiet_hours") == "22:00-07:00"
    assert st.load().get("ui.theme") == "dark"


async def test_usage_and_tracking_services_follow_their_settings(qapp) -> None:
    from trayapp.services.tracking_service import TrackingService
    from trayapp.services.usage_service import UsageService

    cfg = st.load()
    usage = UsageService.from_settings(cfg)
    tracking = TrackingService(cfg, workers=1)
    applied: list[object] = []
    tracking.apply_settings = applied.append
    try:
        assert usage.engine.interval == timedelta(minutes=5)
        config_set("poll.interval_minutes", "15")
        config_set("tracking.cost_mode", "calculate")
        assert cfg.reload() == ["poll.interval_minutes", "tracking.cost_mode"]
        assert usage.engine.interval == timedelta(minutes=15)
        assert applied == [cfg]
        cfg.update({"ui.theme": "dark"})  # not theirs
        assert applied == [cfg]
        assert usage.engine.interval == timedelta(minutes=15)
    finally:
        await usage.stop()
        await tracking.stop()
    # Stopped services no longer listen.
    cfg.update({"poll.interval_minutes": 30, "tracking.cost_mode": "display"})
    assert usage.engine.interval == timedelta(minutes=15)
    assert applied == [cfg]
    assert paths.settings_file().is_file()
