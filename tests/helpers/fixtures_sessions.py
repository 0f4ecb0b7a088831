"""Fixtures for the session sources: a scripted ``claude`` on PATH, and fake Claude Code sessions
made of real child processes with registry files.

- ``fake_claude``: a :class:`FakeClaude` (see ``tests/helpers/fake_claude.py``) installed as
  ``claude`` first on PATH; ``fake_claude.script(version=..., agents=[...])`` scripts it.
- ``fake_sessions``: a :class:`FakeSessions`; ``spawn()`` starts a real process (``sleep``) and
  writes its ``<config dir>/sessions/<pid>.json`` with the right (or a chosen) start stamp. Every
  process is killed and reaped at teardown.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import fake_claude as fake_claude_module
from trayapp.sources import claude_jobs

AUTO: Any = object()  # "the right value" for spawn()'s stamps


@dataclass
class FakeClaude:
    """The installed fake: where it is, how it is scripted, what it was asked."""

    exe: Path
    script_path: Path
    calls_path: Path

    def script(self, **script: Any) -> None:
        self.script_path.write_text(json.dumps(script))

    def calls(self) -> list[dict[str, Any]]:
        if not self.calls_path.exists():
            return []
        return [json.loads(line) for line in self.calls_path.read_text().splitlines()]


@pytest.fixture
def fake_claude(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeClaude]:
    """A scripted ``claude`` first on PATH (default: version 2.1.219, no agents)."""
    exe = fake_claude_module.install(tmp_path / "fake-bin")
    fake = FakeClaude(
        exe=exe, script_path=tmp_path / "fake-claude.json", calls_path=tmp_path / "fake-calls.jsonl"
    )
    fake.script()
    monkeypatch.setenv("PATH", f"{exe.parent}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv(fake_claude_module.SCRIPT_ENV, str(fake.script_path))
    monkeypatch.setenv(fake_claude_module.CALLS_ENV, str(fake.calls_path))
    claude_jobs.forget_failures()
    yield fake
    claude_jobs.forget_failures()


def proc_start_ticks(pid: int) -> int:
    """Field 22 of ``/proc/<pid>/stat``: the process start in clock ticks since boot."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat[stat.rindex(")") + 2 :].split()[19])


@dataclass
class FakeSession:
    proc: subprocess.Popen[bytes]
    path: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def end(self) -> None:
        """The process exits (and is reaped); its registry file stays, as after a crash."""
        self.proc.kill()
        self.proc.wait()


@dataclass
class FakeSessions:
    config_dir: Path
    spawned: list[FakeSession] = field(default_factory=list)

    def spawn(
        self,
        session_id: str = "sess-1",
        *,
        config_dir: Path | None = None,
        proc_start: Any = AUTO,
        started_at: Any = AUTO,
        **fields: Any,
    ) -> FakeSession:
        """A live process with its registry record. ``proc_start``/``started_at``: AUTO for the
        right value (ticks; now in epoch ms), None to leave the field out, or any value to write."""
        proc = subprocess.Popen(["sleep", "300"], stdin=subprocess.DEVNULL)
        session = FakeSession(proc, (config_dir or self.config_dir) / "sessions" / f"{proc.pid}.json")
        self.spawned.append(session)
        record = {"pid": proc.pid, "sessionId": session_id, "cwd": f"/work/{session_id}", **fields}
        if proc_start is AUTO:
            proc_start = str(proc_start_ticks(proc.pid)) if sys.platform.startswith("linux") else None
        if started_at is AUTO:
            started_at = int(datetime.now(UTC).timestamp() * 1000)
        for key, value in (("procStart", proc_start), ("startedAt", started_at)):
            if value is not None:
                record[key] = value
        self.write(session.path, record)
        return session

    @staticmethod
    def write(path: Path, record: Any) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(record if isinstance(record, str) else json.dumps(record))
        return path


@pytest.fixture
def fake_sessions(claude_dir: Path) -> Iterator[FakeSessions]:
    sessions = FakeSessions(claude_dir)
    yield sessions
    for session in sessions.spawned:
        if session.proc.poll() is None:
            session.proc.kill()
        session.proc.wait()
