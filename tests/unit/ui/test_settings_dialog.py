"""The Settings dialog: a few pages holding every setting, pickers instead of comma lists, readable
names, inline validation that holds Apply back, only edited keys saved; autostart."""

from __future__ import annotations

import sys

import pytest
from PySide6.QtCore import Qt

from trayapp import paths, settings_schema
from trayapp import settings as st
from trayapp.platform import autostart
from trayapp.ui.settings_dialog import SettingsDialog
from trayapp.ui.settings_pages import PAGES
from trayapp.ui.settings_pages.editors import CheckEditor, ChoiceEditor, PercentEditor, SpinEditor
from trayapp.ui.settings_pages.pickers import (
    ChipsEditor,
    OrderedChecksEditor,
    PriceTableEditor,
    QuietHoursEditor,
    TimezoneEditor,
)

PAGE_TITLES = ["General", "Usage & alerts", "Notifications", "Sessions & integrations", "Tracking"]


@pytest.fixture
def dialog(qtbot):
    calls: list[bool] = []
    d = SettingsDialog(st.load(), set_autostart=calls.append)
    d.autostart_calls = calls
    qtbot.addWidget(d)
    return d


def test_a_few_pages_hold_every_setting(dialog) -> None:
    # "Other" follows only for a section no page takes (a key added later by another feature).
    assert dialog.page_titles()[: len(PAGE_TITLES)] == PAGE_TITLES
    assert dialog.page_titles()[len(PAGE_TITLES) :] in ([], ["Other"])
    assert set(dialog.editors) == {s.key for s in st.SCHEMA}
    for key in dialog.editors:
        assert dialog.page_of(key) in dialog.page_titles(), key
    assert dialog.page_of("telegram.enabled") == "Notifications"
    assert dialog.page_of("sound.volume") == "Notifications"  # no "Channels" beside "Alert channels"
    assert dialog.page_of("statusline.segments") == "Sessions & integrations"


def test_each_kind_of_setting_gets_its_picker(dialog) -> None:
    kinds = {
        "app.start_at_login": CheckEditor,
        "poll.interval_minutes": SpinEditor,
        "ui.theme": ChoiceEditor,
        "tracking.cost_mode": ChoiceEditor,
        "sound.volume": PercentEditor,
        "alerts.five_hour_thresholds": ChipsEditor,
        "alerts.weekly_thresholds": ChipsEditor,
        "alerts.quiet_hours": QuietHoursEditor,
        "statusline.segments": OrderedChecksEditor,
        "tracking.timezone": TimezoneEditor,
        "tracking.price_overrides": PriceTableEditor,
    }
    for key, kind in kinds.items():
        assert isinstance(dialog.editors[key], kind), key
    spin = dialog.editors["poll.interval_minutes"].spin
    assert (spin.minimum(), spin.maximum(), spin.suffix()) == (2, 120, " minutes")
    checkbox = dialog.editors["app.start_at_login"].box
    assert checkbox.text() == "Start Claude Watch at login"  # the box carries its label


def test_choices_show_readable_names_and_save_raw_values(dialog) -> None:
    combo = dialog.editors["ui.theme"].combo
    assert [combo.itemText(i) for i in range(combo.count())] == ["Follow the system", "Light", "Dark"]
    assert combo.currentText() == "Follow the system"
    cost = dialog.editors["tracking.cost_mode"].combo
    assert cost.currentText() == "Automatic (use Claude Code's cost when present)"
    combo.setCurrentIndex(combo.findText("Dark"))
    assert dialog.apply()
    assert st.load().get("ui.theme") == "dark"
    assert 'theme = "dark"' in paths.settings_file().read_text()


def test_threshold_chips_save_a_list(dialog, qtbot) -> None:
    chips = dialog.editors["alerts.five_hour_thresholds"]
    assert sorted(chips.chips) == [50, 75, 90, 100]
    assert all(c.isChecked() for c in chips.chips.values())
    chips.toggle(50)  # off
    chips.custom.setValue(85)
    qtbot.mouseClick(chips.add, Qt.MouseButton.LeftButton)
    assert chips.chips[85].isChecked()
    with qtbot.waitSignal(dialog.settings_changed) as sig:
        assert dialog.apply()
    assert sig.args == [["alerts.five_hour_thresholds"]]  # only the edited key
    assert st.load().get("alerts.five_hour_thresholds") == [75, 85, 90, 100]
    assert st.load().get("alerts.weekly_thresholds") == [50, 75, 90, 100]
    assert "weekly_thresholds" not in paths.settings_file().read_text()


def test_quiet_hours_picker_saves_a_range_or_nothing(dialog) -> None:
    quiet = dialog.editors["alerts.quiet_hours"]
    assert not quiet.on.isChecked()
    assert not quiet.start.isEnabled()
    quiet.on.setChecked(True)
    assert quiet.start.isEnabled()
    assert dialog.apply()
    assert st.load().get("alerts.quiet_hours") == "22:00-07:00"
    quiet.start.setTime(quiet.start.time().addSecs(30 * 60))
    assert dialog.apply()
    assert st.load().get("alerts.quiet_hours") == "22:30-07:00"
    quiet.on.setChecked(False)
    assert dialog.apply()
    assert st.load().get("alerts.quiet_hours") == ""
    dialog.set_editor_text("alerts.quiet_hours", "23:15-06:45")  # what config set would take
    assert quiet.on.isChecked()
    assert quiet.start.time().toString("HH:mm") == "23:15"
    assert dialog.editor_text("alerts.quiet_hours") == "23:15-06:45"


def test_status_line_segments_are_ticked_and_ordered(dialog) -> None:
    segments = dialog.editors["statusline.segments"]
    labels = [segments.items.item(i).text() for i in range(segments.items.count())]
    assert labels[:2] == ["Model", "5-hour window %"]
    segments.check("model", False)
    segments.check("context", True)
    segments.items.setCurrentRow([segments.items.item(i).text() for i in range(6)].index("Context used"))
    segments.move_item(-1)
    segments.move_item(-1)
    assert dialog.apply()
    assert st.load().get("statusline.segments") == ["five_hour", "context", "seven_day", "session_cost"]


def test_time_zone_box_lists_iana_names_local_first(dialog) -> None:
    zone = dialog.editors["tracking.timezone"]
    assert zone.combo.itemData(0) == ""
    assert zone.combo.findText("Europe/Berlin") > 0
    assert zone.value() == ""
    zone.combo.setEditText(zone.combo.currentText() + "Europe/Berlin")  # typed after "Local (...)"
    assert zone.combo.currentText() == "Europe/Berlin"
    assert dialog.apply()
    assert st.load().get("tracking.timezone") == "Europe/Berlin"


def test_invalid_input_disables_apply_and_says_why(dialog, qtbot) -> None:
    assert dialog.apply_button.isEnabled()
    zone = dialog.editors["tracking.timezone"]
    zone.combo.setEditText("Mars/Olympus")  # typed (keyClicks would open the completer's popup)
    assert "Unknown time zone 'Mars/Olympus'" in dialog.visible_error("tracking.timezone")
    assert not dialog.apply_button.isEnabled()
    assert not dialog.ok_button.isEnabled()
    prices = dialog.editors["tracking.price_overrides"]
    prices.add_row(("claude-opus-9", "fifteen", "75"))
    prices.changed.emit()
    assert "prices must be numbers" in dialog.visible_error("tracking.price_overrides")
    assert not dialog.apply()
    assert not paths.settings_file().exists()  # nothing saved while a field is wrong
    assert zone.value() == "Mars/Olympus"  # what the user typed is still there to fix
    zone.combo.setEditText("UTC")
    prices.table.item(0, 1).setText("15")
    assert dialog.visible_error("tracking.timezone") == ""
    assert dialog.apply_button.isEnabled()
    assert dialog.apply()
    assert st.load().get("tracking.price_overrides") == ["claude-opus-9=15/75"]


def test_dependent_fields_follow_their_switch(dialog) -> None:
    assert dialog.editors["poll.interval_minutes"].isEnabled()
    dialog.editors["poll.endpoint"].box.setChecked(False)
    assert not dialog.editors["poll.interval_minutes"].isEnabled()
    assert not dialog.editors["sound.volume"].isEnabled()  # sound is off by default
    dialog.editors["sound.enabled"].box.setChecked(True)
    assert dialog.editors["sound.volume"].isEnabled()


def test_keys_the_layout_does_not_name_still_get_a_field(qtbot, monkeypatch) -> None:
    """A key added later by a feature lands on its section's page, or on "Other"."""
    extra = (
        settings_schema.Setting("telemetry.receiver", bool, False, "Receive OpenTelemetry", "Sessions"),
        settings_schema.Setting("metrics.listen", str, "", "Prometheus address", "Metrics"),
    )
    for s in extra:
        monkeypatch.setitem(settings_schema.BY_KEY, s.key, s)
    monkeypatch.setattr(st, "SCHEMA", (*st.SCHEMA, *extra))
    dialog = SettingsDialog(st.load(), set_autostart=None)
    qtbot.addWidget(dialog)
    assert dialog.page_titles()[-1] == "Other"
    from PySide6.QtWidgets import QLabel

    dialog.add_page(QLabel("a feature's page"), "Window schedule")
    assert dialog.page_titles()[-2:] == ["Window schedule", "Other"]  # features before "Other"
    assert dialog.page_of("telemetry.receiver") == "Sessions & integrations"
    assert dialog.page_of("metrics.listen") == "Other"
    dialog.set_editor_text("metrics.listen", "127.0.0.1:9464")
    assert dialog.apply()
    assert st.load().get("metrics.listen") == "127.0.0.1:9464"


def test_a_feature_page_added_with_add_page_appears(dialog, qtbot) -> None:
    from PySide6.QtWidgets import QLabel

    page = QLabel("the window scheduler's page")
    dialog.add_page(page, "Window schedule")
    assert dialog.page_titles()[: len(PAGE_TITLES) + 1] == [*PAGE_TITLES, "Window schedule"]
    dialog.show()
    dialog.show_page("Window schedule")
    qtbot.waitExposed(dialog)
    assert page.isVisible()
    assert [p.title for p in PAGES] == PAGE_TITLES


def test_start_at_login_calls_autostart(dialog) -> None:
    dialog.set_editor_text("app.start_at_login", "true")
    assert dialog.apply()
    assert dialog.autostart_calls == [True]
    assert st.load().get("app.start_at_login") is True


def test_save_errors_are_shown_on_their_page(qtbot) -> None:
    def refuse(on: bool) -> None:
        raise OSError("read-only autostart folder")

    dialog = SettingsDialog(st.load(), set_autostart=refuse)
    qtbot.addWidget(dialog)
    dialog.show_page("Tracking")
    dialog.set_editor_text("app.start_at_login", "true")
    assert not dialog.apply()
    assert "read-only autostart folder" in dialog.visible_error("app.start_at_login")
    assert dialog.current_page() == "General"  # where the field is
    assert not paths.settings_file().exists()  # the effect failed: nothing saved
    paths.settings_file().parent.mkdir(parents=True, exist_ok=True)
    paths.settings_file().write_text("this is [ not toml")  # the file does not parse: refused
    dialog.set_editor_text("app.start_at_login", "false")
    dialog.set_editor_text("poll.interval_minutes", "10")
    assert not dialog.apply()
    assert dialog.visible_error("poll.interval_minutes").startswith("Not saved")
    assert dialog.current_page() == "Usage & alerts"


def test_about_says_version_and_where_files_are(dialog) -> None:
    from PySide6.QtWidgets import QLabel

    from trayapp import version

    texts = {w.objectName(): w.text() for w in dialog.findChildren(QLabel) if w.objectName()}
    assert version() in texts["about:Version"]
    assert texts["about:Settings file"] == str(paths.settings_file())
    assert texts["about:Logs"] == str(paths.log_dir())


def test_hints_show_no_markdown_backticks(dialog) -> None:
    from PySide6.QtWidgets import QLabel

    assert not [w.text() for w in dialog.findChildren(QLabel) if "`" in w.text()]


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
