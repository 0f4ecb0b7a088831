"""Agents end to end, the "Done when" path in the real app: Claude Watch runs on the test desktop
with the fake ``claude`` on PATH; the CLI talks to it over the single-instance socket. Three tasks
with the default cap of 2 -> two run, one waits; stopping one leaves no process of it; restarting
it resumes its session; and dunst shows one "started" and one "done" per task that ran, never a
second one (the stopped one ends quietly)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.helpers.app_process import REPO, UsageServer, app_env, start_app, stop_app, usage_body, wait_for
from tests.integration.conftest import DesktopSession
from tests.integration.test_notify_dunst import away_from_the_tray, log_text, ours
from trayapp.demo import write_demo_credentials


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "trayapp", "agents", *args],
        cwd=REPO,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=30,
    )


def tasks() -> list[dict]:
    done = cli("list", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    return data["tasks"] if isinstance(data, dict) else data


def states() -> list[str]:
    return sorted(t["state"] for t in tasks())


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[-1].split()[0] != "Z"


def agent_notes(before: set[int]) -> list[str]:
    return [
        n["summary"]["data"]
        for n in ours()
        if n["id"]["data"] not in before and n["summary"]["data"].startswith("Agent ")
    ]


def test_queue_three_two_run_stop_one_restart_it_and_one_notice_each(
    desktop_services: DesktopSession, claude_dir: Path, hermetic_env: Path, tmp_path: Path, fake_claude
) -> None:
    fake_claude.script(p={"delay": 4})
    server = UsageServer(usage_body(five_hour=10.0))
    folder = tmp_path / "proj"
    folder.mkdir()
    try:
        write_demo_credentials(claude_dir)
        env = app_env(CLAUDE_WATCH_API_BASE=server.base_url, CLAUDE_CONFIG_DIR=str(claude_dir))
        away_from_the_tray()
        before = {n["id"]["data"] for n in ours()}
        app = start_app(env=env)
        try:
            assert wait_for(lambda: "agents running" in log_text(hermetic_env), timeout=30), log_text(
                hermetic_env
            )
            ids = []
            for n in range(3):
                done = cli("run", f"task {n}", "--dir", str(folder))
                assert done.returncode == 0, done.stderr
                ids.append(next(t["id"] for t in tasks() if t["spec"]["prompt"] == f"task {n}"))
            assert wait_for(lambda: states() == ["queued", "running", "running"], timeout=15), states()
            running = next(t for t in tasks() if t["state"] == "running")
            pid = running["pid"]
            assert alive(pid)
            stopped = cli("stop", running["id"])
            assert stopped.returncode == 0, stopped.stderr
            assert wait_for(lambda: not alive(pid), timeout=15)
            assert next(t for t in tasks() if t["id"] == running["id"])["state"] == "stopped"
            restarted = cli("restart", running["id"])
            assert restarted.returncode == 0, restarted.stderr
            assert wait_for(
                lambda: any(t.get("restarted_from") == running["id"] for t in tasks()), timeout=10
            )
            # It waits for a slot like any other task, then runs with --resume.
            assert wait_for(
                lambda: any("--resume" in c.get("argv", []) for c in fake_claude.calls()), timeout=20
            )
            # Everything ends by itself: 3 done (two of the first, the restarted one).
            assert wait_for(lambda: states().count("done") == 3, timeout=40), tasks()
            assert wait_for(lambda: len(agent_notes(before)) >= 7, timeout=15), agent_notes(before)
            assert not wait_for(lambda: len(agent_notes(before)) > 7, timeout=3)
        finally:
            out = stop_app(app)
        # Once each: dunst stacks identical notifications, so the app's own record of what it sent
        # counts them (the dispatcher logs one line per alert and channel).
        sent = [
            line.split()[line.split().index("alert") + 1]
            for line in log_text(hermetic_env).splitlines()
            if " via desktop: " in line and "alert agent:" in line
        ]
        assert len(sent) == 7, sent
        assert len(set(sent)) == 7, sent
        notes = agent_notes(before)
        again = running["spec"]["prompt"]
        assert sorted(notes) == sorted(
            [f"Agent started · task {n}" for n in range(3)]
            + [f"Agent restarted · {again}"]
            + [f"Agent done · task {n}" for n in range(3)]
        ), out
    finally:
        server.stop()
