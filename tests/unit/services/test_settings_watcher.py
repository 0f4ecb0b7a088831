"""The running app follows settings.toml: a change by `claude-watch config set` (a real process),
by an editor (atomic replace, in-place rewrite) or by hand reaches the settings and their
subscribers within 2 s; a half-written file is ignored with one warning."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from tests.helpers.app_process import config_set
from trayapp import paths
from trayapp import settings as st
from trayapp.services.settings_watcher import SettingsWatcher

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def watched(qtbot):
    path = paths.settings_file()
    path.parent.mkdir(parents=True)
    path.write_text('[ui]\ntheme = "light"\n')
    cfg = st.load()
    watcher = SettingsWatcher(cfg)
    watcher.start()
    yield cfg, watcher
    watcher.stop()


def test_config_set_in_another_process_is_applied_within_2_s(watched, qtbot, caplog) -> None:
    cfg, watcher = watched
    heard: list[list[str]] = []
    cfg.subscribe("poll", lambda keys, s: heard.append(keys))
    caplog.set_level(logging.INFO, logger="trayapp.services.settings_watcher")
    config_set("poll.interval_minutes", "15")
    with qtbot.waitSignal(watcher.reloaded, timeout=2000) as sig:
        pass
    assert sig.args == [["poll.interval_minutes"]]
    assert cfg.get("poll.interval_minutes") == 15
    assert heard == [["poll.interval_minutes"]]
    assert "poll.interval_minutes changed" in caplog.text
    assert cfg.get("ui.theme") == "light"


def test_editor_replacing_the_file_again_and_again(watched, qtbot) -> None:
    cfg, _ = watched
    path = paths.settings_file()
    for theme in ("dark", "light", "dark"):
        tmp = path.with_name("settings.toml.swp")
        tmp.write_text(f'[ui]\ntheme = "{theme}"\n')
        os.replace(tmp, path)  # the watch on the old file is gone; the folder's re-arms it
        qtbot.waitUntil(lambda t=theme: cfg.get("ui.theme") == t, timeout=2000)
    path.write_text('[ui]\ntheme = "light"\n')  # rewritten in place
    qtbot.waitUntil(lambda: cfg.get("ui.theme") == "light", timeout=2000)


def test_a_file_being_edited_that_does_not_parse_is_ignored_once(watched, qtbot, caplog) -> None:
    cfg, watcher = watched
    path = paths.settings_file()
    path.write_text('[ui]\ntheme = "dark"\n[poll\n')
    qtbot.waitUntil(lambda: "keeping the last good settings" in caplog.text, timeout=2000)
    watcher.check()
    watcher.check()
    assert caplog.text.count("keeping the last good settings") == 1
    assert cfg.get("ui.theme") == "light"
    path.write_text('[ui]\ntheme = "dark"\n')
    qtbot.waitUntil(lambda: cfg.get("ui.theme") == "dark", timeout=2000)


def test_the_periodic_check_alone_finds_a_change(watched, qtbot) -> None:
    cfg, watcher = watched
    # As on a file system without change notifications: only the once-a-second stat is left.
    watcher._watcher.fileChanged.disconnect()
    watcher._watcher.directoryChanged.disconnect()
    config_set("ui.theme", "dark")
    qtbot.waitUntil(lambda: cfg.get("ui.theme") == "dark", timeout=2000)


def test_the_apps_own_save_is_not_announced_twice(watched, qtbot) -> None:
    cfg, watcher = watched
    heard: list[list[str]] = []
    cfg.subscribe("ui", lambda keys, s: heard.append(keys))
    cfg.update({"ui.timeline_range": "7d"})
    with qtbot.assertNotEmitted(watcher.reloaded, wait=1500):
        pass
    assert heard == [["ui.timeline_range"]]
