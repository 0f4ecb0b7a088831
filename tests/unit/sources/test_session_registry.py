"""The live session registry: real child processes with registry files (alive, dead, reused pid,
zombie, parked), and files that are corrupt, oversized or of the wrong shape."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.helpers.fixtures_sessions import FakeSessions, proc_start_ticks
from trayapp.core.session_merge import merge_sessions
from trayapp.core.sessions import JobRecord
from trayapp.sources import session_registry as reg
from trayapp.sources.session_registry import parse_record, pid_alive, read_registry, registry_dirs

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def ids(config_dir: Path) -> list[str | None]:
    return [r.session_id for r in read_registry([config_dir])]


def ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def process_start(pid: int) -> datetime:
    btime = next(
        int(x.split()[1]) for x in Path("/proc/stat").read_text().splitlines() if x.startswith("btime ")
    )
    return datetime.fromtimestamp(btime + proc_start_ticks(pid) / os.sysconf("SC_CLK_TCK"), UTC)


# -- liveness with real processes ---------------------------------------------------------------


def test_live_session_listed_until_its_process_ends(fake_sessions: FakeSessions, claude_dir: Path) -> None:
    session = fake_sessions.spawn("alive", name="fix-login", kind="interactive", entrypoint="cli")
    (record,) = read_registry([claude_dir])
    assert (record.pid, record.session_id, record.name, record.cwd) == (
        session.pid,
        "alive",
        "fix-login",
        "/work/alive",
    )
    assert (record.config_dir, record.path) == (str(claude_dir), str(session.path))
    session.end()
    assert read_registry([claude_dir]) == []


def test_dead_pid_is_not_listed(fake_sessions: FakeSessions, claude_dir: Path) -> None:
    session = fake_sessions.spawn("dead", proc_start=None, started_at=None)
    session.end()
    fake_sessions.write(session.path, {"pid": session.pid, "sessionId": "dead"})  # no stamps to check
    assert ids(claude_dir) == []


@linux_only
def test_zombie_counts_as_dead(fake_sessions: FakeSessions, claude_dir: Path) -> None:
    session = fake_sessions.spawn("zombie", proc_start=None, started_at=None)
    session.proc.kill()
    for _ in range(200):  # until the kernel has made it a zombie (not reaped: we do not wait)
        if Path(f"/proc/{session.pid}/stat").read_text().split(")")[-1].split()[0] == "Z":
            break
        time.sleep(0.01)
    os.kill(session.pid, 0)  # still "exists" for signals
    assert ids(claude_dir) == []


@linux_only
def test_reused_pid_with_another_proc_start_is_not_listed(
    fake_sessions: FakeSessions, claude_dir: Path
) -> None:
    live = fake_sessions.spawn("right")
    ticks = proc_start_ticks(live.pid)
    # The writer of this record was an earlier process that had the same pid.
    fake_sessions.spawn("reused", proc_start=str(max(1, ticks - 500)))
    assert ids(claude_dir) == ["right"]


@linux_only
def test_reused_pid_by_start_time_when_proc_start_is_missing(
    fake_sessions: FakeSessions, claude_dir: Path
) -> None:
    now = datetime.now(UTC)
    fake_sessions.spawn("reused", proc_start=None, started_at=ms(now - timedelta(hours=1)))
    fake_sessions.spawn("fresh", proc_start=None, started_at=ms(now))
    # Registration can come minutes after the start (seen: 181 s under load): still the same process.
    fake_sessions.spawn("late", proc_start=None, started_at=ms(now + timedelta(minutes=3)))
    fake_sessions.spawn("unknown-format", proc_start="Thu Dec  3 12:00:00 2026", started_at=ms(now))
    fake_sessions.spawn(
        "unknown-old", proc_start="Thu Dec  3 12:00:00 2026", started_at=ms(now - timedelta(hours=1))
    )
    fake_sessions.spawn("no-stamps", proc_start=None, started_at=None)  # nothing to check: existing is enough
    assert sorted(ids(claude_dir)) == ["fresh", "late", "no-stamps", "unknown-format"]


@linux_only
def test_proc_start_as_a_time(fake_sessions: FakeSessions, claude_dir: Path) -> None:
    right = fake_sessions.spawn("epoch-ms", proc_start=None)
    start = process_start(right.pid)
    fake_sessions.write(right.path, {"pid": right.pid, "sessionId": "epoch-ms", "procStart": str(ms(start))})
    wrong = fake_sessions.spawn(
        "epoch-s-wrong", proc_start=str(int((start - timedelta(hours=2)).timestamp()))
    )
    iso = fake_sessions.spawn("iso", proc_start=None)
    fake_sessions.write(
        iso.path, {"pid": iso.pid, "sessionId": "iso", "procStart": process_start(iso.pid).isoformat()}
    )
    assert wrong.pid
    assert sorted(ids(claude_dir)) == ["epoch-ms", "iso"]


def test_pid_alive_edges() -> None:
    assert not pid_alive(0, None, None)
    assert not pid_alive(-5, None, None)
    assert not pid_alive(2**22 + 12345, None, None)  # above Linux's pid_max: no such process
    assert pid_alive(os.getpid(), None, None)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="needs a process of another user")
def test_another_users_process_is_alive() -> None:
    assert pid_alive(1, None, None)  # init: os.kill answers EPERM


@linux_only
def test_a_process_started_after_the_record_is_another_process() -> None:
    assert not pid_alive(os.getpid(), None, datetime.now(UTC) - timedelta(days=30))
    assert pid_alive(os.getpid(), None, datetime.now(UTC))


def test_parked_record_defers_to_its_job(fake_sessions: FakeSessions, claude_dir: Path) -> None:
    fake_sessions.spawn("conversation", parkedJobId="a1b2c3d4")
    fake_sessions.spawn("other")
    registry = read_registry([claude_dir])
    assert {r.parked_job_id for r in registry} == {"a1b2c3d4", None}
    job = JobRecord(job_id="a1b2c3d4", config_dir=str(claude_dir), session_id="bg-1", state="working")
    sessions = merge_sessions(registry=registry, jobs=[job], tracks={}, captures=[], now=datetime.now(UTC))
    assert sorted(s.session_id for s in sessions) == ["bg-1", "other"]


def test_several_config_dirs(fake_sessions: FakeSessions, claude_dir: Path, tmp_path: Path) -> None:
    other = tmp_path / "claude-work"
    fake_sessions.spawn("home")
    fake_sessions.spawn("work", config_dir=other)
    records = read_registry([claude_dir, other, tmp_path / "missing"])
    assert {(r.session_id, r.config_dir) for r in records} == {
        ("home", str(claude_dir)),
        ("work", str(other)),
    }
    assert registry_dirs([claude_dir, other, claude_dir]) == [claude_dir / "sessions", other / "sessions"]


# -- untrusted files ------------------------------------------------------------------------------


def write(claude_dir: Path, name: str, content: str | bytes) -> Path:
    path = claude_dir / "sessions" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        "[1, 2]",
        '"a string"',
        '{"pid": NaN}',
        '{"pid": "PID"}',
        '{"pid": true}',
        '{"pid": -1}',
        '{"pid": 1.5}',
        '{"pid": 1}',  # another process's pid than the file's name
        '{"sessionId": "x"}',
        b'{"pid": PID, "cwd": "\xff\xfe"}',
        '{"pid": PID} trailing',
        "",
    ],
)
def test_bad_files_are_skipped(claude_dir: Path, content: str | bytes) -> None:
    pid = str(os.getpid())
    raw = content.replace(b"PID", pid.encode()) if isinstance(content, bytes) else content.replace("PID", pid)
    write(claude_dir, f"{pid}.json", raw)
    write(claude_dir, "notes.txt", "ignored")
    assert read_registry([claude_dir]) == []


def test_oversized_file_is_skipped(claude_dir: Path) -> None:
    pid = os.getpid()
    record = {"pid": pid, "sessionId": "big"}
    write(claude_dir, f"{pid}.json", json.dumps({**record, "pad": "x" * 100}))
    assert ids(claude_dir) == ["big"]
    write(claude_dir, f"{pid}.json", json.dumps({**record, "pad": "x" * reg.MAX_FILE_BYTES}))
    assert ids(claude_dir) == []
    # valid JSON whatever is cut off: refused for its size alone
    write(claude_dir, f"{pid}.json", json.dumps(record) + " " * reg.MAX_FILE_BYTES)
    assert ids(claude_dir) == []


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX FIFOs")
def test_a_fifo_is_skipped_without_waiting_for_a_writer(claude_dir: Path) -> None:
    (claude_dir / "sessions").mkdir()
    os.mkfifo(claude_dir / "sessions" / f"{os.getpid()}.json")
    assert read_registry([claude_dir]) == []


def test_each_field_on_its_own(claude_dir: Path) -> None:
    pid = os.getpid()
    path = write(claude_dir, f"{pid}.json", "")
    raw = {
        "pid": pid,
        "sessionId": 42,
        "cwd": ["/a"],
        "startedAt": "yesterday",
        "version": "2.1.219",
        "kind": "interactive\x1b[31m",
        "entrypoint": None,
        "name": "  my\nname  ",
        "parkedJobId": {"id": 1},
        "procStart": 123456,
        "status": "busy",
        "updatedAt": 1785430795867,
        "somethingNew": {"nested": True},
    }
    record = parse_record(json.dumps(raw).encode(), path=path, config_dir=claude_dir)
    assert (record.session_id, record.cwd, record.started_at, record.entrypoint) == (None, None, None, None)
    assert (record.version, record.kind, record.name, record.parked_job_id) == (
        "2.1.219",
        "interactive[31m",
        "myname",
        None,
    )
    assert (record.proc_start, record.status) == ("123456", "busy")
    assert record.updated_at == datetime.fromtimestamp(1785430795.867, UTC)
    assert (
        parse_record(
            json.dumps({**raw, "startedAt": 1e30}).encode(), path=path, config_dir=claude_dir
        ).started_at
        is None
    )


def test_a_bad_file_is_logged_once(claude_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    write(claude_dir, f"{os.getpid()}.json", "{broken")
    with caplog.at_level(logging.DEBUG, logger=reg.__name__):
        read_registry([claude_dir])
        read_registry([claude_dir])
    assert [r.levelno for r in caplog.records] == [logging.DEBUG]
