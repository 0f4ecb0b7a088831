#!/usr/bin/env python3
"""Generates Claude Watch's retro sound effects into ``resources/sounds/`` (16-bit mono PCM WAV).

Square-wave chiptune beeps, no dependencies beyond the standard library, byte-for-byte
reproducible (the tests regenerate them and compare). One rising motif per alert level, each
higher and busier than the last, and a cheerful major arpeggio for a fresh window.

    python packaging/gen_sounds.py [OUTPUT_DIR]
"""

from __future__ import annotations

import math
import struct
import sys
import wave
from pathlib import Path

RATE = 22050
AMPLITUDE = 0.45  # of full scale; leaves headroom for the user's volume setting

# (frequency in Hz or 0 for a rest, duration in seconds, duty cycle)
Note = tuple[float, float, float]


def midi(n: int) -> float:
    return 440.0 * 2 ** ((n - 69) / 12)


MOTIFS: dict[str, list[Note]] = {
    # 50%: a polite two-note "ding-up"
    "threshold-ok": [(midi(72), 0.09, 0.5), (midi(76), 0.14, 0.5)],
    # 75%: three rising notes
    "threshold-warning": [(midi(76), 0.08, 0.25), (midi(79), 0.08, 0.25), (midi(83), 0.16, 0.25)],
    # 90%: four quick, higher notes, twice
    "threshold-critical": [(midi(n), 0.055, 0.125) for n in (81, 84, 88, 93)] * 2,
    # 100%: rising run, then a low buzz "game over"
    "threshold-at_limit": [(midi(n), 0.05, 0.25) for n in (72, 76, 79, 84, 88, 91, 96)]
    + [(0, 0.05, 0.5), (midi(48), 0.35, 0.5)],
    # fresh window: cheerful major arpeggio with a sparkle on top
    "fresh-window": [(midi(n), 0.07, 0.5) for n in (72, 76, 79, 84)]
    + [(0, 0.03, 0.5), (midi(88), 0.07, 0.25), (midi(91), 0.2, 0.25)],
}


def render(notes: list[Note]) -> bytes:
    frames = bytearray()
    for freq, duration, duty in notes:
        count = int(RATE * duration)
        attack = max(1, int(RATE * 0.004))
        release = max(1, int(RATE * 0.012))
        for i in range(count):
            if freq <= 0:
                sample = 0.0
            else:
                phase = (i * freq / RATE) % 1.0
                sample = 1.0 if phase < duty else -1.0
                env = min(1.0, i / attack, (count - i) / release)
                # A gentle decay keeps long notes from sounding harsh.
                sample *= env * math.exp(-1.5 * i / RATE)
            frames += struct.pack("<h", int(sample * AMPLITUDE * 32767))
    return bytes(frames)


def write(path: Path, notes: list[Note]) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(render(notes))


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else Path(__file__).resolve().parent.parent / "resources" / "sounds"
    out.mkdir(parents=True, exist_ok=True)
    for name, notes in MOTIFS.items():
        write(out / f"{name}.wav", notes)
        print(out / f"{name}.wav")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
