"""Background jobs: ``claude agents --json`` through a real (scripted) ``claude`` child process,
and the ``jobs/*/state.json`` fallback when the CLI is too old, missing, failing or talks garbage."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.helpers.fixtures_sessions import FakeClaude
from trayapp.sources import claude_jobs
from trayapp.sources.claude_jobs import AgentsError, parse_agents, read_job_dir, read_jobs

ROW = {
    "pid": 4242,
    "id": "a1b2c3d4",
    "name": "refactor auth",
    "status": "waiting",
    "state": "blocked",
    "sessionId": "0b6c-sess",
    "cwd": "/work/api",
    "startedAt": 1785430795867,
    "somethingNew": [1, 2],
}
FOLDER_JOB = {
    "state": "working",
    "name": "from folder",
    "detail": "Running tests",
    "sessionId": "f-sess",
    "cwd": "/w/f",
}


def job_folder(config_dir: Path, job_id: str, state: dict | str) -> Path:
    folder = config_dir / "jobs" / job_id
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "state.json").write_text(state if isinstance(state, str) else json.dumps(state))
    return folder


def agents_calls(fake: FakeClaude) -> list[dict]:
    return [c for c in fake.calls() if c["argv"][:1] == ["agents"]]


# -- claude agents --json ----------------------------------------------------------------------


def test_agents_rows_parsed(fake_claude: FakeClaude, claude_dir: Path) -> None:
    fake_claude.script(agents=[ROW])
    job_folder(claude_dir, "zzzz", FOLDER_JOB)  # not read: the CLI answered
    (job,) = read_jobs([claude_dir], claude=str(fake_claude.exe))
    assert (job.job_id, job.session_id, job.pid, job.name) == ("a1b2c3d4", "0b6c-sess", 4242, "refactor auth")
    assert (job.state, job.status, job.cwd, job.config_dir) == (
        "blocked",
        "waiting",
        "/work/api",
        str(claude_dir),
    )
    assert job.started_at == datetime.fromtimestamp(1785430795.867, UTC)
    (call,) = agents_calls(fake_claude)
    assert (call["argv"], call["config_dir"]) == (["agents", "--json"], str(claude_dir))


def test_include_done_asks_for_all(fake_claude: FakeClaude, claude_dir: Path) -> None:
    fake_claude.script(agents=[ROW], agents_all=[ROW, {**ROW, "id": "done1", "state": "done"}])
    jobs = read_jobs([claude_dir], claude=str(fake_claude.exe), include_done=True)
    assert [j.job_id for j in jobs] == ["a1b2c3d4", "done1"]
    assert agents_calls(fake_claude)[0]["argv"] == ["agents", "--json", "--all"]


def test_each_config_dir_is_asked_with_its_own_env(
    fake_claude: FakeClaude, claude_dir: Path, tmp_path: Path
) -> None:
    work = tmp_path / "claude-work"
    fake_claude.script(agents_by_config_dir={str(claude_dir): [ROW], str(work): [{**ROW, "id": "w1"}]})
    jobs = read_jobs([claude_dir, work, claude_dir], claude=str(fake_claude.exe))
    assert [(j.job_id, j.config_dir) for j in jobs] == [("a1b2c3d4", str(claude_dir)), ("w1", str(work))]
    assert [c["config_dir"] for c in agents_calls(fake_claude)] == [str(claude_dir), str(work)]


def test_claude_on_path_by_default(fake_claude: FakeClaude, claude_dir: Path) -> None:
    fake_claude.script(agents=[ROW])
    assert [j.job_id for j in read_jobs([claude_dir])] == ["a1b2c3d4"]


@pytest.mark.parametrize("explicit", [True, False])
def test_too_old_for_agents_reads_the_folder(
    fake_claude: FakeClaude, claude_dir: Path, explicit: bool
) -> None:
    fake_claude.script(version="2.1.142", agents=[ROW])
    job_folder(claude_dir, "f1", FOLDER_JOB)
    jobs = read_jobs([claude_dir], claude=str(fake_claude.exe) if explicit else None)
    assert [(j.job_id, j.name) for j in jobs] == [("f1", "from folder")]
    assert agents_calls(fake_claude) == []


@pytest.mark.parametrize(
    "script",
    [
        {"exit": {"agents": 1}},
        {"stdout": {"agents": "Error: unknown command agents\n"}},
        {"stdout": {"agents": '{"agents": "not a list"}'}},
        {"stdout": {"agents": "[1, 2] [3]"}},
        {"stdout": {"agents": "\x00\xff garbage"}},
        {"stdout": {"agents": ""}},
    ],
)
def test_failing_cli_falls_back_to_the_folder(
    fake_claude: FakeClaude, claude_dir: Path, script: dict
) -> None:
    fake_claude.script(agents=[ROW], **script)
    job_folder(claude_dir, "f1", FOLDER_JOB)
    assert [j.job_id for j in read_jobs([claude_dir], claude=str(fake_claude.exe))] == ["f1"]
    assert len(agents_calls(fake_claude)) == 1
    # a failed CLI is left alone for a while (each try may cost the timeout)
    read_jobs([claude_dir], claude=str(fake_claude.exe))
    assert len(agents_calls(fake_claude)) == 1
    claude_jobs.forget_failures()
    read_jobs([claude_dir], claude=str(fake_claude.exe))
    assert len(agents_calls(fake_claude)) == 2


def test_hanging_cli_is_killed(fake_claude: FakeClaude, claude_dir: Path) -> None:
    fake_claude.script(agents=[ROW], sleep={"agents": 600})
    job_folder(claude_dir, "f1", FOLDER_JOB)
    assert [j.job_id for j in read_jobs([claude_dir], claude=str(fake_claude.exe), timeout=1.0)] == ["f1"]
    (call,) = agents_calls(fake_claude)
    with pytest.raises(ProcessLookupError):
        os.kill(call["pid"], 0)  # killed and reaped


def test_output_over_the_cap_is_refused(
    fake_claude: FakeClaude, claude_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_claude.script(agents=[ROW] * 50)
    monkeypatch.setattr(claude_jobs, "MAX_OUTPUT", 1000)
    with pytest.raises(AgentsError, match="too large"):
        claude_jobs.run_agents(str(fake_claude.exe), claude_dir, timeout=5, include_done=False)
    monkeypatch.setattr(claude_jobs, "MAX_OUTPUT", 100_000)
    assert len(claude_jobs.run_agents(str(fake_claude.exe), claude_dir, timeout=5, include_done=False)) == 50


def test_missing_executable_reads_the_folder(
    claude_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    job_folder(claude_dir, "f1", FOLDER_JOB)
    assert [j.job_id for j in read_jobs([claude_dir])] == ["f1"]
    assert [j.job_id for j in read_jobs([claude_dir], claude=str(tmp_path / "no-such-claude"))] == ["f1"]
    with pytest.raises(AgentsError, match="cannot run"):
        claude_jobs.run_agents(str(tmp_path / "no-such-claude"), claude_dir, timeout=5, include_done=False)


def test_agents_output_shapes(tmp_path: Path) -> None:
    wrapped = json.dumps({"agents": [ROW, "junk", 7, {"name": "no id"}, {"sessionId": "only-sess"}]}).encode()
    assert [j.job_id for j in parse_agents(wrapped, tmp_path)] == ["a1b2c3d4", "only-sess"]
    assert parse_agents(b"[]", tmp_path) == []
    wrong = parse_agents(
        json.dumps([{"id": "x", "pid": "12", "name": 5, "startedAt": True, "state": None}]).encode(), tmp_path
    )
    assert (wrong[0].pid, wrong[0].name, wrong[0].started_at, wrong[0].state) == (None, None, None, None)
    with pytest.raises(AgentsError):
        parse_agents(b'{"pid": NaN}', tmp_path)


# -- the jobs folder ---------------------------------------------------------------------------


def test_jobs_folder(claude_dir: Path) -> None:
    job_folder(
        claude_dir, "w1", {**FOLDER_JOB, "createdAt": 1785430795867, "updatedAt": "2026-12-03T12:00:05Z"}
    )
    job_folder(claude_dir, "d1", {**FOLDER_JOB, "state": "done", "output": {"result": "ok"}})
    job_folder(claude_dir, "s1", {**FOLDER_JOB, "state": "stopped"})
    job_folder(claude_dir, "bad", "{torn")
    job_folder(claude_dir, "list", "[]")
    (claude_dir / "jobs" / "empty").mkdir()
    (claude_dir / "jobs" / "pins.json").write_text("{}")
    (job,) = read_job_dir(claude_dir)
    assert (job.job_id, job.state, job.detail, job.session_id, job.cwd) == (
        "w1",
        "working",
        "Running tests",
        "f-sess",
        "/w/f",
    )
    assert job.started_at == datetime.fromtimestamp(1785430795.867, UTC)
    assert job.updated_at == datetime(2026, 12, 3, 12, 0, 5, tzinfo=UTC)
    assert sorted(j.job_id for j in read_job_dir(claude_dir, include_done=True)) == ["d1", "s1", "w1"]
    assert read_job_dir(claude_dir / "nowhere") == []


def test_oversized_state_file_is_skipped(claude_dir: Path) -> None:
    job_folder(claude_dir, "big", json.dumps(FOLDER_JOB) + " " * claude_jobs.MAX_STATE_BYTES)
    job_folder(claude_dir, "ok", FOLDER_JOB)
    assert [j.job_id for j in read_job_dir(claude_dir)] == ["ok"]
    (claude_dir / "jobs" / "fifo").mkdir()
    os.mkfifo(claude_dir / "jobs" / "fifo" / "state.json")
    assert [j.job_id for j in read_job_dir(claude_dir)] == ["ok"]  # a FIFO never blocks the read
