"""Agents' output logs on real files: lines land in order in batches, a log over its cap rotates
to ``.1`` (the newest lines stay in the live file), a single oversized batch keeps its end, and
the tail reader returns whole lines only."""

from __future__ import annotations

from pathlib import Path

from trayapp.services.agent_logs import TaskLog, append_rotating, read_tail, remove_logs


async def test_lines_are_written_in_order(tmp_path: Path) -> None:
    log = TaskLog(tmp_path / "agents" / "t-1.log")
    for i in range(5000):
        log.write(f"line {i}".encode())
    await log.close()
    lines = (tmp_path / "agents" / "t-1.log").read_text().splitlines()
    assert lines == [f"line {i}" for i in range(5000)]
    assert (tmp_path / "agents" / "t-1.log").stat().st_mode & 0o777 == 0o600


async def test_rotation_keeps_the_newest_lines_live(tmp_path: Path) -> None:
    path = tmp_path / "t-2.log"
    log = TaskLog(path, cap=1000)
    for i in range(30):
        log.write(f"{i:04d}".ljust(99, "x").encode())  # 100 bytes with the newline
        await log.flush()
    await log.close()
    live = path.read_text().splitlines()
    older = path.with_name("t-2.log.1").read_text().splitlines()
    assert live[-1].startswith("0029")
    assert older[-1][:4] == f"{int(live[0][:4]) - 1:04d}"
    assert path.stat().st_size <= 1000
    assert not path.with_name("t-2.log.2").exists()


def test_one_batch_over_the_cap_keeps_its_end(tmp_path: Path) -> None:
    path = tmp_path / "t-3.log"
    append_rotating(path, b"a" * 50 + b"b" * 50, cap=60)
    assert path.read_bytes() == b"a" * 10 + b"b" * 50


def test_read_tail_gives_whole_lines(tmp_path: Path) -> None:
    path = tmp_path / "t-4.log"
    path.write_text("".join(f"line {i}\n" for i in range(1000)))
    tail = read_tail(path, max_bytes=100)
    assert tail[-1] == "line 999"
    assert all(line.startswith("line ") and len(line) >= 8 for line in tail)
    assert read_tail(tmp_path / "missing.log") == []


def test_remove_logs_takes_the_rotated_half_too(tmp_path: Path) -> None:
    tmp_path = tmp_path / "agents"
    tmp_path.mkdir()
    path = tmp_path / "t-5.log"
    path.write_text("a\n")
    path.with_name("t-5.log.1").write_text("b\n")
    keep = tmp_path / "t-6.log"
    keep.write_text("c\n")
    remove_logs([path, tmp_path / "never.log"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t-6.log"]


async def test_a_buffer_the_disk_cannot_drain_stays_under_the_cap(tmp_path: Path) -> None:
    log = TaskLog(tmp_path / "t-7.log", cap=10_000)
    for i in range(5000):  # no await: the writer never gets to run
        log.write(f"{i:06d}".encode())
    assert sum(len(b) for b in log._buf) <= 10_000
    await log.close()
    lines = (tmp_path / "t-7.log").read_text().splitlines()
    assert lines[-1] == "004999"
