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
