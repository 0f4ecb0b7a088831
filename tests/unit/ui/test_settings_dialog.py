"""The settings dialog: generated from the schema, validated, persisted, applied live; autostart."""

from __future__ import annotations

import sys

import pytest
from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit, QSpinBox

from trayapp import paths
from trayapp import settings as st
from trayapp.platform import autostart
from trayapp.ui.settings_dialog import SettingsDialog, sections_in_order


@pytest.fixture
def dialog(qtbot):
    calls: list[bool] = []
    d = SettingsDialog(st.load(), set_autostart=calls.append)
    d.autostart_calls = calls
    qtbot.addWidget(d)
    return d


def test_every_schema_setting_has_an_editor_of_its_type(dialog) -> None:
    assert set(dialog.editors) == {s.key for s in st.SCHEMA}
    assert [dialog.tabs.tabText(i) for i in range(dialog.tabs.count())] == sections_in_order()
    assert isinstance(dialog.editors["alerts.enabled"], QCheckBox)
    spin = dialog.editors["poll.interval_minutes"]
    assert isinstance(spin, QSpinBox)
    assert spin.minimum() == 2
    assert spin.maximum() == 120
    assert isinstance(dialog.editors["ui.theme"], QComboBox)
    assert isinstance(dialog.editors["alerts.five_hour_thresholds"], QLineEdit)
    assert dialog.editor_text("alerts.five_hour_thresholds") == "50,75,90,100"


def test_round_trip_persists_and_announces(dialog, qtbot) -> None:
    dialog.set_editor_text("alerts.five_hour_thresholds", "60, 85,95")
    dialog.set_editor_text("alerts.quiet_hours", "22:00-07:00")
    dialog.set_editor_text("ui.theme", "dark")
    dialog.set_editor_text("poll.interval_minutes", "10")
    with qtbot.waitSignal(dialog.settings_changed) as sig:
        assert dialog.apply()
    assert sorted(sig.args[0]) == sorted(
        ["alerts.five_hour_thresholds", "alerts.quiet_hours", "ui.theme", "poll.interval_minutes"]
    )
    again = st.load()
    assert again.get("alerts.five_hour_thresholds") == [60, 85, 95]
    assert again.get("alerts.quiet_hours") == "22:00-07:00"
    assert again.get("ui.theme") == "dark"
    assert again.get("poll.interval_minutes") == 10
    # Re-opening shows the saved values.
    assert SettingsDialog(again, set_autostart=None).editor_text("ui.theme") == "dark"


def test_invalid_input_is_explained_and_nothing_is_saved(dialog) -> None:
    dialog.set_editor_text("alerts.quiet_hours", "late evening")
    dialog.set_editor_text("alerts.weekly_thresholds", "50, 150")
    dialog.set_editor_text("ui.theme", "dark")
    assert not dialog.apply()
    assert dialog.visible_error("alerts.quiet_hours").startswith("Use HH:MM-HH:MM")
    assert "1 to 100" in dialog.visible_error("alerts.weekly_thresholds")
    assert dialog.visible_error("ui.theme") == ""
    assert not paths.settings_file().exists()
    # What the user typed is still there to fix.
    assert dialog.editor_text("alerts.quiet_hours") == "late evening"


def test_start_at_login_calls_autostart(dialog) -> None:
    dialog.set_editor_text("app.start_at_login", "true")
    assert dialog.apply()
    assert dialog.autostart_calls == [True]
    assert st.load().get("app.start_at_login") is True


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="XDG autostart is the Linux mechanism")
def test_xdg_autostart_for_real(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert not autostart.is_enabled()
    path = autostart.enable(["/opt/claude watch/claude-watch"])
    assert path == tmp_path / "xdg" / "autostart" / "claude-watch.desktop"
    text = path.read_text()
    assert "Exec='/opt/claude watch/claude-watch'" in text
    assert "Name=Claude Watch" in text
    assert autostart.is_enabled()
    autostart.disable()
    assert not path.exists()
    assert not autostart.is_enabled()
    autostart.disable()  # idempotent


def test_autostart_default_command_is_runnable() -> None:
    cmd = autostart.launch_command()
    assert cmd
    assert cmd[0].endswith("claude-watch") or cmd[-1] == "trayapp"
