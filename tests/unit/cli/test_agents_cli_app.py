"""``claude-watch agents`` while an app runs: the CLI as real child processes talking over the
single-instance socket to a stand-in app process (``tests/helpers/agents_standin``: the real
``SingleInstance``, ``serve_agents`` and ``AgentQueue`` with its runner, on a qasync loop) that runs
the fake ``claude``. Also the agents ops' answers to bad requests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.unit.cli.test_agents_cli import cli, wait_for
from trayapp.platform.ipc_client import request
from trayapp.platform.process_group import pid_alive

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def app(fake_claude) -> Iterator[subprocess.Popen[str]]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.helpers.agents_standin", "--cap", "2"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("ready"), line
    yield proc
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    return folder


def tasks() -> list[dict[str, Any]]:
    done = cli("list", "--json")
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert body["source"] == "app"
    result: list[dict[str, Any]] = body["tasks"]
    return result


def test_run_list_and_wait_through_the_app(app, fake_claude, project: Path) -> None:
    queued = cli("run", "first", "--dir", str(project), "--name", "one")
    assert queued.returncode == 0, queued.stderr
    assert "one" in queued.stdout
    assert wait_for(lambda: [t for t in tasks() if t["state"] == "done"])
    waited = cli("run", "second", "--dir", str(project), "--wait")
    assert waited.returncode == 0, waited.stderr
    assert "Hello!" in waited.stdout
    assert "✓ done" in waited.stdout
    assert sorted(t["spec"]["prompt"] for t in tasks()) == ["first", "second"]
    assert len([c for c in fake_claude.calls() if "-p" in c["argv"]]) == 2


def test_three_tasks_cap_two_the_queue_shows_two_running_one_waiting(app, fake_claude, project: Path) -> None:
    fake_claude.script(p={"delay": 60})
    for n in range(3):
        assert cli("run", f"task {n}", "--dir", str(project)).returncode == 0
    assert wait_for(lambda: len([t for t in tasks() if t["state"] == "running"]) == 2)
    shown = cli("queue")
    assert "Running on local: 2 of 2" in shown.stdout
    assert "Queued: 1" in shown.stdout
    body = json.loads(cli("queue", "--json").stdout)
    assert body["slots"] == [{"name": "local", "cap": 2, "running": 2}]


def test_stop_through_the_app_leaves_no_process(app, fake_claude, project: Path) -> None:
    fake_claude.script(p={"delay": 60, "grandchild": True})
    assert cli("run", "long", "--dir", str(project)).returncode == 0
    task = wait_for(lambda: next((t for t in tasks() if t["state"] == "running" and t["pid"]), None))
    grandchild = wait_for(
        lambda: next((c["grandchild"] for c in fake_claude.calls() if "grandchild" in c), 0)
    )
    stopped = cli("stop", task["id"])
    assert stopped.returncode == 0, stopped.stderr
    assert "Stopped" in stopped.stdout
    assert not pid_alive(task["pid"])
    assert wait_for(lambda: not pid_alive(grandchild), timeout=5)
    assert [t["state"] for t in tasks()] == ["stopped"]


def test_restart_resumes_the_session(app, fake_claude, project: Path) -> None:
    first = cli("run", "first", "--dir", str(project), "--wait")
    assert first.returncode == 0
    (done,) = tasks()
    again = cli("restart", done["id"], "--wait")
    assert again.returncode == 0, again.stderr
    runs = [c["argv"] for c in fake_claude.calls() if "-p" in c["argv"]]
    assert "--resume" in runs[-1]
    assert runs[-1][runs[-1].index("--resume") + 1] == done["session_id"]
    newest = max(tasks(), key=lambda t: t["created_at"])
    assert newest["restarted_from"] == done["id"]


def test_refusals_from_the_app_exit_2(app, fake_claude, project: Path) -> None:
    fake_claude.script(p={"delay": 60})
    cli("run", "long", "--dir", str(project))
    task = wait_for(lambda: next((t for t in tasks() if t["state"] == "running"), None))
    refused = cli("restart", task["id"])
    assert refused.returncode == 2
    assert "stop it before restarting" in refused.stderr
    assert cli("stop", "t-nosuch").returncode == 2


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"op": "agents.run", "spec": {"prompt": "x", "folder": "relative/dir"}}, "bad_request"),
        ({"op": "agents.run", "spec": {"prompt": "x", "folder": "/tmp", "max_turns": "9"}}, "bad_request"),
        ({"op": "agents.run", "spec": "not an object"}, "bad_request"),
        ({"op": "agents.stop", "id": "t-nosuch"}, "not_found"),
        ({"op": "agents.get", "id": 5}, "bad_request"),
        ({"op": "agents.list", "all": "yes"}, "bad_request"),
        ({"op": "agents.explode"}, "unknown_op"),
    ],
)
def test_bad_agent_requests_get_typed_errors(app, body: dict[str, Any], code: str) -> None:
    op = body.pop("op")
    reply = request(op, body)
    assert reply["ok"] is False
    assert reply["error"] == code, reply


def test_logs_path_and_logs_through_the_app(app, fake_claude, project: Path) -> None:
    assert cli("run", "hello", "--dir", str(project), "--wait").returncode == 0
    (task,) = tasks()
    reply = request("agents.logs-path", {"id": task["id"]})
    assert reply["path"] == str(
        Path(os.environ["CLAUDE_WATCH_HOME"]) / "data" / "agents" / f"{task['id']}.log"
    )
    shown = cli("logs", task["id"])
    assert "Hello!" in shown.stdout
