"""Sound effects: the generated files, the choice per alert, and silence without a device."""

from __future__ import annotations

import logging
import subprocess
import sys
import wave
from pathlib import Path

import pytest

from tests.helpers.fixtures_channels import SettingsDict, make_alert
from trayapp import paths
from trayapp.channels import sound
from trayapp.core.clock import FakeClock
from trayapp.core.models import AlertKind, Level

ROOT = Path(__file__).resolve().parents[3]
NAMES = ["threshold-ok", "threshold-warning", "threshold-critical", "threshold-at_limit", "fresh-window"]


def test_generator_reproduces_the_bundled_files(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(ROOT / "packaging" / "gen_sounds.py"), str(tmp_path)],
        check=True,
        capture_output=True,
    )
    for name in NAMES:
        bundled = paths.resources_dir() / "sounds" / f"{name}.wav"
        assert bundled.read_bytes() == (tmp_path / f"{name}.wav").read_bytes(), name
        with wave.open(str(bundled)) as w:
            assert (w.getnchannels(), w.getsampwidth()) == (1, 2)
            assert 0.15 < w.getnframes() / w.getframerate() < 1.0


def test_motifs_rise_with_the_level() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("gen_sounds", ROOT / "packaging" / "gen_sounds.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    tops = [max(f for f, _, _ in gen.MOTIFS[n]) for n in NAMES[:3]]
    assert tops == sorted(tops)
    assert len(set(tops)) == 3
    for name in NAMES:
        freqs = [f for f, _, _ in gen.MOTIFS[name] if f > 0]
        assert freqs[1] > freqs[0]  # every motif starts rising


def test_sound_for(clock: FakeClock) -> None:
    d = Path("/s")
    assert sound.sound_for(make_alert(clock, level=Level.CRITICAL), d).name == "threshold-critical.wav"
    assert sound.sound_for(make_alert(clock, level=Level.AT_LIMIT), d).name == "threshold-at_limit.wav"
    fresh = make_alert(clock, kind=AlertKind.FRESH_WINDOW, level=Level.OK)
    assert sound.sound_for(fresh, d).name == "fresh-window.wav"
    for level in (Level.OK, Level.WARNING, Level.CRITICAL, Level.AT_LIMIT):
        assert sound.sound_for(make_alert(clock, level=level)).is_file()


@pytest.mark.qt_loop
async def test_no_audio_device_means_silence_and_a_log_line(
    settings: SettingsDict,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if sound.audio_outputs():
        pytest.skip("this machine has an audio output; covered by the integration test")
    caplog.set_level(logging.INFO, logger="trayapp.channels.sound")
    monkeypatch.setattr(sound, "_warned_no_device", False)
    settings["sound.enabled"] = True
    ch = sound.SoundChannel(settings.get)
    assert ch.enabled()
    d = await ch.send(make_alert(clock))
    assert not d.ok
    assert d.detail == "no audio output device"
    await ch.send(make_alert(clock))
    assert [r.getMessage() for r in caplog.records].count(
        "no audio output device; sound effects are silent"
    ) == 1


def test_sound_is_off_by_default(settings: SettingsDict) -> None:
    assert not sound.SoundChannel(settings.get).enabled()
