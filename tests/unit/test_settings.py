from pathlib import Path

import pytest

from trayapp import paths
from trayapp import settings as st


def test_defaults_when_file_missing() -> None:
    cfg = st.load()
    assert cfg.get("poll.interval_minutes") == 5
    assert cfg.warnings == []


def test_round_trip_and_unknown_keys_kept(hermetic_env: Path) -> None:
    path = paths.settings_file()
    path.parent.mkdir(parents=True)
    path.write_text('[poll]\ninterval_minutes = 9\n[future]\nthing = "x"\n')
    cfg = st.load()
    assert cfg.get("poll.interval_minutes") == 9
    assert any("future.thing" in w for w in cfg.warnings)
    cfg.set("alerts.weekly_thresholds", [90, 50, 90])
    cfg.save()
    text = path.read_text()
    assert 'thing = "x"' in text
    again = st.load()
    assert again.get("alerts.weekly_thresholds") == [50, 90]
    assert again.get("poll.interval_minutes") == 9


@pytest.mark.parametrize(
    "content",
    [
        "[poll]\ninterval_minutes = 1\n",  # below minimum
        '[poll]\ninterval_minutes = "five"\n',  # wrong type
        "[poll\nbroken",  # not TOML
        "\xff\xfe garbage",
    ],
)
def test_bad_values_warn_and_use_default(content: str) -> None:
    path = paths.settings_file()
    path.parent.mkdir(parents=True)
    path.write_bytes(content.encode("latin-1"))
    cfg = st.load()
    assert cfg.get("poll.interval_minutes") == 5
    assert cfg.warnings


def test_parse_text() -> None:
    assert st.parse_text("alerts.enabled", "off") is False
    assert st.parse_text("alerts.five_hour_thresholds", "90, 50") == [50, 90]
    assert st.parse_text("alerts.quiet_hours", "22:00-07:00") == "22:00-07:00"
    with pytest.raises(st.SettingsError):
        st.parse_text("alerts.quiet_hours", "late")
    with pytest.raises(st.SettingsError):
        st.parse_text("tracking.timezone", "Mars/Olympus")
    with pytest.raises(st.SettingsError):
        st.parse_text("no.such", "1")


def test_paths_follow_home(hermetic_env: Path) -> None:
    assert paths.config_dir() == hermetic_env / "config"
    assert paths.database_file().is_relative_to(hermetic_env)


# ----- one source of truth: merge-saves, refusal on a broken file, subscriptions


def write(text: str) -> Path:
    path = paths.settings_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_update_merges_only_its_keys_into_the_file_as_it_is_now() -> None:
    path = write('[ui]\ntheme = "light"\n')
    app_copy = st.load()  # the running app's copy, loaded before someone else wrote
    write('[ui]\ntheme = "dark"\n[alerts]\nquiet_hours = "23:00-06:00"\n[future]\nthing = 1\n')
    changed = app_copy.update({"ui.timeline_range": "7d"})
    again = st.load()
    assert again.get("ui.theme") == "dark"
    assert again.get("alerts.quiet_hours") == "23:00-06:00"
    assert again.get("ui.timeline_range") == "7d"
    assert "thing = 1" in path.read_text()
    # The copy in memory now matches the file, and says what changed since it last looked.
    assert app_copy.get("ui.theme") == "dark"
    assert changed == ["ui.theme", "ui.timeline_range", "alerts.quiet_hours"]


def test_set_then_save_writes_only_the_staged_keys() -> None:
    write("[poll]\ninterval_minutes = 9\n")
    cfg = st.load()
    write("[poll]\ninterval_minutes = 15\n")
    cfg.set("ui.theme", "dark")
    cfg.save()
    again = st.load()
    assert again.get("poll.interval_minutes") == 15
    assert again.get("ui.theme") == "dark"


def test_update_keeps_values_this_version_cannot_use() -> None:
    path = write('[poll]\ninterval_minutes = "five"\n')
    cfg = st.load()
    assert cfg.get("poll.interval_minutes") == 5  # the default, with a warning
    cfg.update({"ui.theme": "dark"})
    assert 'interval_minutes = "five"' in path.read_text()  # the user's value, for them to fix


def test_update_and_reset_validate_before_writing() -> None:
    path = write('[ui]\ntheme = "dark"\n')
    before = path.read_bytes()
    cfg = st.load()
    with pytest.raises(st.SettingsError):
        cfg.update({"ui.theme": "light", "poll.interval_minutes": 1})
    with pytest.raises(st.SettingsError):
        cfg.update(reset=["no.such"])
    assert path.read_bytes() == before
    cfg.update(reset=["ui.theme"])
    assert st.load().is_default("ui.theme")


@pytest.mark.parametrize("content", [b"this is [ not toml", b'[ui]\ntheme = "\xff"\n'])
def test_update_refuses_a_file_that_does_not_parse(content: bytes) -> None:
    path = paths.settings_file()
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    cfg = st.load()
    assert cfg.file_error
    with pytest.raises(st.SettingsFileError):
        cfg.update({"ui.theme": "dark"})
    with pytest.raises(st.SettingsFileError):
        st.commit(cfg, {"app.start_at_login": True}, set_autostart=pytest.fail)  # no effect either
    assert path.read_bytes() == content


def test_subscribe_validates_prefixes_at_registration() -> None:
    cfg = st.load()
    for bad in ("poll.interval", "pol", "ui.theme.x", "nothing", ()):
        with pytest.raises(st.SettingsError):
            cfg.subscribe(bad, lambda keys, s: None)
    for good in ("ui", "ui.", "tracking", "ui.theme", ("ui", "alerts.weekly_thresholds")):
        cfg.subscribe(good, lambda keys, s: None)


def test_reload_after_an_external_write_notifies_exactly_the_right_subscribers() -> None:
    write('[ui]\ntheme = "light"\n[poll]\ninterval_minutes = 5\n')
    cfg = st.load()
    calls: dict[str, list[list[str]]] = {"ui": [], "poll": [], "tracking": [], "mixed": [], "gone": []}
    cfg.subscribe("ui", lambda keys, s: calls["ui"].append(keys))
    cfg.subscribe("poll.interval_minutes", lambda keys, s: calls["poll"].append(keys))
    cfg.subscribe("tracking", lambda keys, s: calls["tracking"].append(keys))
    cfg.subscribe(("alerts.quiet_hours", "ui.timeline_range"), lambda keys, s: calls["mixed"].append(keys))
    stop = cfg.subscribe("ui", lambda keys, s: calls["gone"].append(keys))
    stop()
    seen: list[object] = []
    cfg.subscribe("ui.theme", lambda keys, s: seen.append((s.get("ui.theme"), s is cfg)))
    write('[ui]\ntheme = "dark"\ntimeline_range = "7d"\n[poll]\ninterval_minutes = 5\n')
    assert cfg.reload() == ["ui.theme", "ui.timeline_range"]
    assert calls == {"ui": [["ui.theme", "ui.timeline_range"]], "poll": [], "tracking": [],
                     "mixed": [["ui.timeline_range"]], "gone": []}  # fmt: skip
    assert seen == [("dark", True)]  # the callback sees the new values
    assert cfg.reload() == []  # the same bytes again: nothing to tell
    assert calls["ui"] == [["ui.theme", "ui.timeline_range"]]


def test_reload_of_a_broken_file_keeps_the_last_good_settings() -> None:
    write('[ui]\ntheme = "dark"\n')
    cfg = st.load()
    heard: list[list[str]] = []
    cfg.subscribe("ui", lambda keys, s: heard.append(keys))
    write('[ui]\ntheme = "light"\n[poll\n')  # half-way through an edit
    with pytest.raises(st.SettingsFileError):
        cfg.reload()
    assert cfg.get("ui.theme") == "dark"
    assert heard == []
    write('[ui]\ntheme = "light"\n')
    assert cfg.reload() == ["ui.theme"]
    assert heard == [["ui.theme"]]


def test_a_broken_listener_does_not_stop_the_others(caplog: pytest.LogCaptureFixture) -> None:
    cfg = st.load()
    heard: list[list[str]] = []

    def broken(keys: list[str], s: st.Settings) -> None:
        raise RuntimeError("listener bug")

    cfg.subscribe("ui", broken)
    cfg.subscribe("ui", lambda keys, s: heard.append(keys))
    cfg.update({"ui.theme": "dark"})
    assert heard == [["ui.theme"]]
    assert "listener bug" in caplog.text
