"""The pipe pump reads children's output in rounds: many writes arrive as one chunk, nothing is
lost or reordered, a flood is read across rounds, the end of file ends a pipe (closing its fd),
and discarding by handle never closes another pipe that got the same fd number. And the runner's
line cutter: a runaway line is reported once, however many chunks it spans."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from trayapp.core.stream_json import MAX_LINE
from trayapp.services.agent_runner import _Lines
from trayapp.services.pipe_pump import PipePump

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="non-blocking pipes are POSIX")

WRITER = """
import os, sys, time
count, size, pause = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
for n in range(count):
    os.write(1, (str(n) + ":" + "x" * size + "\\n").encode())
    time.sleep(pause)
"""


def spawn_writer(tmp_path: Path, count: int, size: int, pause: float) -> tuple[subprocess.Popen[bytes], int]:
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    read_end, write_end = os.pipe()
    argv = [sys.executable, str(script), str(count), str(size), str(pause)]
    proc = subprocess.Popen(argv, stdout=write_end)
    os.close(write_end)
    return proc, read_end


def fd_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


async def test_many_writes_arrive_in_few_chunks_in_order(tmp_path: Path) -> None:
    pump = PipePump(interval=0.2)
    chunks: list[bytes] = []
    proc, fd = spawn_writer(tmp_path, count=60, size=20, pause=0.005)  # 60 writes in about 0.3 s
    pipe = pump.add(fd, chunks.append)
    await asyncio.wait_for(pipe.done, 10)
    proc.wait(5)
    lines = b"".join(chunks).splitlines()
    assert [int(line.split(b":")[0]) for line in lines] == list(range(60))
    # A wake per round, not per write: 60 writes came in a handful of chunks.
    assert len(chunks) <= 10, len(chunks)
    assert pump.rounds <= 15
    assert not fd_open(fd)  # closed at its end of file
    assert pump.open_pipes == 0


@pytest.mark.skipif(sys.platform != "linux", reason="F_SETPIPE_SZ is Linux's")
async def test_one_round_reads_at_most_its_cap_and_nothing_is_lost() -> None:
    import fcntl

    read_end, write_end = os.pipe()
    fcntl.fcntl(write_end, 1031, 1024 * 1024)  # F_SETPIPE_SZ: room for the whole flood at once
    flood = b"".join(b"%d:" % n + b"y" * 500 + b"\n" for n in range(1000))  # about 500 KB
    os.write(write_end, flood)
    os.close(write_end)
    pump = PipePump(interval=0.01, round_cap=64 * 1024)
    chunks: list[bytes] = []
    pipe = pump.add(read_end, chunks.append)
    await asyncio.wait_for(pipe.done, 10)
    assert b"".join(chunks) == flood
    assert max(len(c) for c in chunks) <= 64 * 1024
    assert len(chunks) >= len(flood) // (64 * 1024)  # spread over rounds: the loop was let go


async def test_discard_by_handle_never_closes_a_reused_fd(tmp_path: Path) -> None:
    pump = PipePump(interval=0.05)
    first_read, first_write = os.pipe()
    first = pump.add(first_read, lambda _b: None)
    os.close(first_write)  # its end of file: the pump closes first_read in its next round
    await asyncio.wait_for(first.done, 5)
    second_read, second_write = os.pipe()  # very likely the same fd number as first_read
    got: list[bytes] = []
    second = pump.add(second_read, got.append)
    pump.discard(first)  # a late discard of the ended pipe
    os.write(second_write, b"still here\n")
    os.close(second_write)
    await asyncio.wait_for(second.done, 5)
    assert b"".join(got) == b"still here\n"


async def test_a_failing_consumer_does_not_stop_the_other_pipes() -> None:
    pump = PipePump(interval=0.02)
    bad_read, bad_write = os.pipe()
    good_read, good_write = os.pipe()

    def explode(_chunk: bytes) -> None:
        raise RuntimeError("consumer bug")

    got: list[bytes] = []
    bad = pump.add(bad_read, explode)
    good = pump.add(good_read, got.append)
    for fd in (bad_write, good_write):
        os.write(fd, b"line\n")
        os.close(fd)
    await asyncio.wait_for(asyncio.gather(bad.done, good.done), 5)
    assert got == [b"line\n"]


def test_a_runaway_line_is_reported_once_across_chunks() -> None:
    seen: list[bytes] = []
    lines = _Lines(seen.append)
    lines.feed(b"a" * (MAX_LINE + 10))
    lines.feed(b"b" * (MAX_LINE + 10))  # still the same line: nothing more of it
    lines.feed(b"c" * 100 + b"\nnext\npart")
    lines.finish()
    assert seen == [b"a" * 200 + b" [line cut]", b"next", b"part"]


def test_lines_split_across_chunks_are_joined() -> None:
    seen: list[bytes] = []
    lines = _Lines(seen.append)
    for piece in (b'{"ty', b'pe": 1}\n{"type"', b": 2}\n", b"\n"):
        lines.feed(piece)
    lines.finish()
    assert seen == [b'{"type": 1}', b'{"type": 2}', b""]
