"""``claude-watch agents`` without the tray app, as real child processes: a foreground run recorded
in the store, stopped from another process through its process group (nothing of the group left),
a reused pid never signalled, Ctrl+C, ``logs -f`` following a growing and rotating log, usage
errors. The fake ``claude`` is first on PATH; the app home is the test's."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.fixtures_sessions import proc_start_ticks
from trayapp.core.agents import Task, TaskSpec, TaskState
from trayapp.platform.process_group import pid_alive
from trayapp.store.agents_repo import AgentsRepo

REPO = Path(__file__).resolve().parents[3]


def cli(*args: str, timeout: float = 60, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "trayapp", "agents", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        input=stdin,
        check=False,
    )


def start_cli(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "trayapp", "agents", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def stored() -> list[Task]:
    repo = AgentsRepo()
    try:
        return repo.load()
    finally:
        repo.close()


def wait_for(check: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := check()):
        if time.monotonic() > deadline:
            return result
        time.sleep(0.05)
    return result


def running_task() -> Task | None:
    return next((t for t in stored() if t.state is TaskState.RUNNING and t.pgid), None)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    return folder


def test_foreground_run_is_recorded_like_any_other(fake_claude, project: Path) -> None:
    done = cli("run", "say hello", "--dir", str(project), "--name", "hello", "--wait")
    assert done.returncode == 0, done.stderr
    assert "Hello!" in done.stdout
    assert "✓ done" in done.stdout
    (task,) = stored()
    assert task.state is TaskState.DONE
    assert task.spec.name == "hello"
    assert task.pid is not None
    assert task.pgid == task.pid
    assert task.cost_usd == pytest.approx(0.0004)
    listed = json.loads(cli("list", "--json").stdout)
    assert listed["source"] == "store"
    assert [t["id"] for t in listed["tasks"]] == [task.id]
    (call,) = fake_claude.calls()
    assert call["cwd"] == str(project)


def test_a_failed_foreground_run_exits_1(fake_claude, project: Path) -> None:
    error = {"type": "result", "subtype": "error_during_execution", "is_error": True, "result": "boom"}
    fake_claude.script(p={"events": [error], "crash": 1})
    done = cli("run", "crash", "--dir", str(project), "--wait")
    assert done.returncode == 1, done.stdout + done.stderr
    (task,) = stored()
    assert task.state is TaskState.FAILED
    assert "✗ failed: error_during_execution: boom" in done.stdout


def test_a_background_session_starts_and_stops_without_the_app(fake_claude, project: Path) -> None:
    fake_claude.script(bg_id="0a1b2c3d")
    started = cli("run", "in the background", "--dir", str(project), "--background", "--name", "bg")
    assert started.returncode == 0, started.stdout + started.stderr
    assert "claude attach 0a1b2c3d" in started.stdout
    (task,) = stored()
    assert task.job_id == "0a1b2c3d"
    assert task.state is TaskState.RUNNING
    stopped = cli("stop", task.id)
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert [c["argv"] for c in fake_claude.calls()][-1] == ["stop", "0a1b2c3d"]
    (final,) = stored()
    assert final.state is TaskState.STOPPED


def test_run_without_the_app_needs_wait(fake_claude, project: Path) -> None:
    done = cli("run", "later", "--dir", str(project))
    assert done.returncode == 2
    assert "--wait" in done.stderr
    assert stored() == []
    assert fake_claude.calls() == []


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["run", "x", "--dir", "/nonexistent/folder", "--wait"], "does not exist"),
        (["run", "  ", "--wait"], "empty"),
        (["run", "x", "--permission-mode", "plan", "--dangerously-skip-permissions", "--wait"], "exclude"),
        (["run", "x", "--max-turns", "0", "--wait"], "above 0"),
        (["run", "x", "--background", "--wait"], "background"),
        (["run", "x", "--slot", "docker:nope", "--wait"], "no slot"),
        (["stop", "t-nosuch"], "no task"),
        (["logs", "t-nosuch"], "no task"),
        (["restart", "t-nosuch", "--wait"], "no task"),
    ],
)
def test_usage_errors_exit_2(fake_claude, project: Path, args: list[str], words: str) -> None:
    done = cli(*args)
    assert done.returncode == 2, done.stdout + done.stderr
    assert words in done.stderr
    assert fake_claude.calls() == []


def test_skipping_permissions_warns(fake_claude, project: Path) -> None:
    done = cli("run", "x", "--dir", str(project), "--dangerously-skip-permissions", "--wait")
    assert done.returncode == 0
    assert "warning: --dangerously-skip-permissions" in done.stderr
    (call,) = fake_claude.calls()
    assert "bypassPermissions" in call["argv"] or "--dangerously-skip-permissions" in call["argv"]


def _group_gone(*pids: int) -> bool:
    return not any(pid_alive(pid) for pid in pids)


@pytest.fixture
def foreground(fake_claude, project: Path) -> Iterator[Any]:
    """``start(script)``: a foreground ``run --wait`` with a grandchild in its group; returns the
    process, its running task and the grandchild's pid."""
    started: list[subprocess.Popen[str]] = []

    def start(**run: Any) -> tuple[subprocess.Popen[str], Task, int]:
        fake_claude.script(p={**run, "grandchild": True})
        fg = start_cli("run", "long", "--dir", str(project), "--wait")
        started.append(fg)
        task = wait_for(running_task)
        assert task is not None
        grandchild = wait_for(
            lambda: next((c["grandchild"] for c in fake_claude.calls() if "grandchild" in c), 0)
        )
        assert pid_alive(grandchild)
        return fg, task, grandchild

    yield start
    for fg in started:
        fg.kill()
        fg.communicate()


def test_stop_from_another_process_ends_the_whole_group(foreground) -> None:
    fg, task, grandchild = foreground(delay=120)
    stop = cli("stop", task.id)
    assert stop.returncode == 0, stop.stdout + stop.stderr
    assert fg.wait(30) == 1
    assert _group_gone(task.pid, grandchild)
    (final,) = stored()
    assert final.state is TaskState.STOPPED
    assert not (Path(os.environ["CLAUDE_WATCH_HOME"]) / "data" / "agents" / f"{task.id}.stop").exists()


def test_stop_records_the_end_when_the_foreground_run_is_gone(foreground) -> None:
    # The terminal that ran ``agents run --wait`` was killed: its child group lives on (its own
    # process group) with nobody to record its end. ``stop`` ends the group, waits the grace for a
    # record that never comes, writes it itself and removes the stop marker.
    fg, task, grandchild = foreground(delay=120)
    fg.kill()
    fg.wait(10)
    assert pid_alive(task.pid)  # orphaned, not ended
    stop = cli("stop", task.id)
    assert stop.returncode == 0, stop.stdout + stop.stderr
    assert _group_gone(task.pid, grandchild)
    (final,) = stored()
    assert (final.state, final.note) == (TaskState.STOPPED, "stopped from another terminal")
    assert not (Path(os.environ["CLAUDE_WATCH_HOME"]) / "data" / "agents" / f"{task.id}.stop").exists()


def test_stop_escalates_to_sigkill_for_a_child_ignoring_sigterm(foreground) -> None:
    fg, task, grandchild = foreground(hang=True)
    stop = cli("stop", task.id)
    assert stop.returncode == 0, stop.stdout + stop.stderr
    assert fg.wait(30) == 1
    assert _group_gone(task.pid, grandchild)


def test_ctrl_c_stops_the_foreground_run(foreground) -> None:
    fg, task, grandchild = foreground(delay=120)
    fg.send_signal(signal.SIGINT)
    assert fg.wait(30) == 130
    assert _group_gone(task.pid, grandchild)
    (final,) = stored()
    assert final.state is TaskState.STOPPED


def test_a_reused_pid_is_never_signalled(project: Path) -> None:
    """The store says a foreground run is running as pid P, but P is now another program (its start
    time differs): stop must leave it alone and record the task as lost."""
    stranger = subprocess.Popen(["sleep", "60"], start_new_session=True)
    try:
        now = datetime.now(UTC)
        task = Task(
            id="t-reused",
            spec=TaskSpec(prompt="old", folder=str(project)),
            state=TaskState.RUNNING,
            created_at=now,
            started_at=now,
            pid=stranger.pid,
            pgid=stranger.pid,
            pid_start=proc_start_ticks(stranger.pid) - 500,  # the recorded run started earlier
        )
        repo = AgentsRepo()
        repo.save([task], now)
        repo.close()
        done = cli("stop", task.id)
        assert done.returncode == 0, done.stderr
        assert "already ended" in done.stdout
        time.sleep(0.3)
        assert stranger.poll() is None  # not signalled
        (final,) = stored()
        assert final.state is TaskState.LOST
    finally:
        stranger.kill()
        stranger.wait()


def _assistant(text: str) -> str:
    return json.dumps({"type": "assistant", "message": {"content": [{"type": "text", "text": text}]}})


def _with_log(task_id: str, state: TaskState, project: Path) -> tuple[Task, Path]:
    """A task in the store and the path of its (empty) log."""
    now = datetime.now(UTC)
    task = Task(id=task_id, spec=TaskSpec(prompt="p", folder=str(project)), state=state, created_at=now)
    repo = AgentsRepo()
    repo.save([task], now)
    repo.close()
    log = Path(os.environ["CLAUDE_WATCH_HOME"]) / "data" / "agents" / f"{task_id}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    return task, log


def test_logs_follow_prints_lines_as_they_come_through_a_rotation(project: Path) -> None:
    task, log = _with_log("t-follow", TaskState.RUNNING, project)
    repo = AgentsRepo()
    tool = {"type": "tool_use", "id": "x", "name": "Bash", "input": {"command": "make test"}}
    log.write_text(_assistant("first line") + "\n{broken\n")
    follower = start_cli("logs", "t-follow", "-f")
    try:
        time.sleep(1.0)
        with log.open("a") as fh:
            fh.write(json.dumps({"type": "assistant", "message": {"content": [tool]}}) + "\n")
        time.sleep(0.6)
        log.rename(log.with_name("t-follow.log.1"))  # the writer rotates
        log.write_text(_assistant("after the rotation") + "\n")
        time.sleep(0.6)
        assert follower.poll() is None  # still running: the task has not ended
        with log.open("a") as fh:
            fh.write(
                json.dumps({"type": "result", "subtype": "success", "is_error": False, "num_turns": 2}) + "\n"
            )
        repo.save([replace(task, state=TaskState.DONE, finished_at=datetime.now(UTC))], datetime.now(UTC))
        out, _ = follower.communicate(timeout=20)
    finally:
        repo.close()
        if follower.poll() is None:
            follower.kill()
            follower.communicate()
    assert follower.returncode == 0
    assert out.splitlines() == ["first line", "→ Bash: make test", "after the rotation", "✓ done (2 turns)"]


def test_logs_without_follow_prints_the_whole_log(project: Path) -> None:
    _task, log = _with_log("t-past", TaskState.DONE, project)
    log.with_name("t-past.log.1").write_text(_assistant("older") + "\n")
    log.write_text(_assistant("newer") + "\n")
    done = cli("logs", "t-past")
    assert done.stdout.splitlines() == ["older", "newer"]
    raw = cli("logs", "t-past", "--raw")
    assert raw.stdout.splitlines() == [_assistant("older"), _assistant("newer")]
