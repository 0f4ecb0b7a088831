"""Sound effects really play: `notify test --channel sound` into a PulseAudio null sink.

As test-environment.md §8 shows: a private PulseAudio with a null sink (temp XDG_RUNTIME_DIR),
``parec`` recording the sink's monitor while the CLI plays the 90% alert's effect through
QSoundEffect; the captured audio must have a clear peak. Skips when PulseAudio is not installed
(fails under CI=true).
"""

from __future__ import annotations

import array
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _require(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        why = f"missing {', '.join(missing)} (apt install pulseaudio pulseaudio-utils libpulse0)"
        if os.environ.get("CI") == "true":
            pytest.fail(why)
        pytest.skip(why)


def _wait_for(cond, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.1)
    return False


def test_sound_plays_into_a_null_sink(tmp_path: Path) -> None:
    _require("pulseaudio", "parec", "pactl")
    runtime, home, app_home = tmp_path / "run", tmp_path / "home", tmp_path / "cw-home"
    for d in (runtime, home, app_home):
        d.mkdir(mode=0o700)
    env = {k: v for k, v in os.environ.items() if k not in ("PULSE_SERVER", "DISPLAY")}
    env.update(XDG_RUNTIME_DIR=str(runtime), HOME=str(home), CLAUDE_WATCH_HOME=str(app_home))
    env["QT_QPA_PLATFORM"] = "offscreen"
    pulse = subprocess.Popen(
        [
            "pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--disallow-exit",
            "-L", "module-native-protocol-unix",
            "-L", "module-null-sink sink_name=nullsink",
            "-L", "module-always-sink",
        ],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    raw = tmp_path / "captured.raw"
    rec = None
    try:
        up = _wait_for(
            lambda: subprocess.run(["pactl", "info"], env=env, capture_output=True).returncode == 0
        )
        assert up, "pulseaudio did not start"
        with raw.open("wb") as sink:
            rec = subprocess.Popen(
                ["parec", "-d", "nullsink.monitor", "--format=s16le", "--rate=44100", "--channels=2"],
                env=env, stdout=sink, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            time.sleep(0.5)
            subprocess.run(
                [sys.executable, "-m", "trayapp", "config", "set", "sound.enabled", "true"],
                env=env, cwd=ROOT, check=True, capture_output=True,
            )  # fmt: skip
            subprocess.run(
                [sys.executable, "-m", "trayapp", "config", "set", "sound.volume", "100"],
                env=env, cwd=ROOT, check=True, capture_output=True,
            )  # fmt: skip
            r = subprocess.run(
                [sys.executable, "-m", "trayapp", "notify", "test", "--channel", "sound"],
                env=env, cwd=ROOT, capture_output=True, text=True, timeout=60,
            )  # fmt: skip
            time.sleep(0.5)
    finally:
        if rec is not None:
            rec.terminate()
            rec.wait(5)
        pulse.terminate()
        pulse.wait(5)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "sound: delivered (played threshold-critical.wav)" in r.stdout
    samples = array.array("h")
    data = raw.read_bytes()
    samples.frombytes(data[: len(data) // 2 * 2])
    peak = max((abs(s) for s in samples), default=0)
    loud = sum(1 for s in samples if abs(s) > 2000)
    # The effect is a square wave at 0.45 of full scale: a clear peak and a few thousand loud samples.
    assert peak > 8000, peak
    assert loud > 4000, loud
