"""A transcript that shrinks while it is scanned fails its range; it never kills the process.

The reader once memory-mapped the file: a file truncated after its size was taken made the next
access to the map raise SIGBUS, which killed the scan worker, or the tray app itself, which runs
the same path on a thread. The truncation is staged deterministically: the scan is told the file
is larger than it is (as ``fstat`` would have said just before the truncation). Each case runs in
a child process so that a SIGBUS shows up as the child's exit status instead of ending pytest.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

Done = subprocess.CompletedProcess[str]

LINE = json.dumps(
    {
        "type": "assistant",
        "sessionId": "s1",
        "requestId": "r1",
        "timestamp": "2026-11-30T10:00:00Z",
        "message": {
            "id": "m1",
            "model": "claude-sonnet-4-5",
            "usage": {"input_tokens": 10, "output_tokens": 5},
        },
    }
)

CHILD = textwrap.dedent(
    """
    import os, sys
    from trayapp.sources.transcripts import reader

    path, claimed, truncate_mid_scan = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
    real_fstat = os.fstat
    reader.WINDOW = 1 << 20
    real_decode = reader.decode_line

    def decode_then_truncate(*args):
        # Another process truncates the file while the first window is being decoded.
        if truncate_mid_scan and os.path.getsize(path):
            os.truncate(path, 0)
        return real_decode(*args)

    reader.decode_line = decode_then_truncate

    class Stat:
        def __init__(self, st):
            self.st = st
        def __getattr__(self, name):
            return claimed if name == "st_size" else getattr(self.st, name)

    reader.os.fstat = lambda fd: Stat(real_fstat(fd))  # the size seen before the truncation
    result = reader.scan_many([(1, path, 0, claimed, "s1", True)])[0]
    print(result.error or "no error", len(result.records))
    """
)


def scan_in_child(
    path: Path, claimed: int, truncate_mid_scan: bool = False
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", CHILD, str(path), str(claimed), "1" if truncate_mid_scan else "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_file_that_shrank_fails_its_range_and_the_process_lives(tmp_path: Path) -> None:
    path = tmp_path / "s1.jsonl"
    path.write_text((LINE + "\n") * 200)
    claimed = path.stat().st_size + 3 * 4096  # pages past the end: a mapped read there is SIGBUS
    done = scan_in_child(path, claimed)
    assert done.returncode == 0, (done.returncode, done.stderr)
    assert done.stdout.startswith("FileChangedError: the file shrank"), done.stdout


def test_a_file_truncated_during_the_scan_fails_its_range_and_the_process_lives(tmp_path: Path) -> None:
    """Truncated to nothing while the first of three windows is decoded (a mapped reader died of
    SIGBUS here: exit status -7)."""
    path = tmp_path / "s1.jsonl"
    path.write_text((LINE + "\n") * 12_000)  # about 3 MiB: three windows of 1 MiB
    done = scan_in_child(path, path.stat().st_size, truncate_mid_scan=True)
    assert done.returncode == 0, (done.returncode, done.stderr)
    assert done.stdout.startswith("FileChangedError: the file shrank"), done.stdout


def test_the_same_file_unchanged_is_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "s1.jsonl"
    path.write_text((LINE + "\n") * 200)
    done = scan_in_child(path, path.stat().st_size)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["no", "error", "1"]  # 200 copies of one request collapse to one row
