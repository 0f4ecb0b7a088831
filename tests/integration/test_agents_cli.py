"""``claude-watch agents`` across the app's life, in the real app on the test desktop with the fake
``claude`` on PATH: a task run in the foreground while the app is not running is recorded in the
store and shows in the app's list once it starts; with the 5-hour window at 90 % a task sent
from the command line is held, and ``agents queue`` says why and when it resumes; the app's
socket answers only its own user's requests (the file is user-only)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from tests.helpers.app_process import UsageServer, app_env, start_app, stop_app, usage_body, wait_for
from tests.integration.conftest import DesktopSession
from tests.integration.test_notify_dunst import log_text
from tests.unit.cli.test_agents_cli import cli
from trayapp.demo import write_demo_credentials
from trayapp.platform.ipc_protocol import socket_path


def listed() -> dict:
    done = cli("list", "--json")
    assert done.returncode == 0, done.stderr
    body: dict = json.loads(done.stdout)
    return body


def test_foreground_task_then_the_app_and_a_task_held_at_90_percent(
    desktop_services: DesktopSession, claude_dir: Path, hermetic_env: Path, tmp_path: Path, fake_claude
) -> None:
    folder = tmp_path / "proj"
    folder.mkdir()
    before = cli("run", "alone", "--dir", str(folder), "--wait")
    assert before.returncode == 0, before.stdout + before.stderr
    assert listed()["source"] == "store"
    server = UsageServer(usage_body(five_hour=90.0))
    try:
        write_demo_credentials(claude_dir)
        env = app_env(CLAUDE_WATCH_API_BASE=server.base_url, CLAUDE_CONFIG_DIR=str(claude_dir))
        app = start_app(env=env)
        try:
            assert wait_for(lambda: "agents running" in log_text(hermetic_env), timeout=30), log_text(
                hermetic_env
            )
            assert stat.S_IMODE(os.stat(socket_path()).st_mode) & 0o077 == 0
            body = listed()
            assert body["source"] == "app"
            assert [(t["spec"]["prompt"], t["state"]) for t in body["tasks"]] == [("alone", "done")]
            calls = len(fake_claude.calls())
            sent = cli("run", "near the limit", "--dir", str(folder))
            assert sent.returncode == 0, sent.stderr
            assert wait_for(lambda: any(t["state"] == "held" for t in listed()["tasks"]), timeout=20), (
                listed()
            )
            queue = cli("queue")
            assert "Held: 1" in queue.stdout, queue.stdout
            assert "near the limit:" in queue.stdout
            assert "resumes" in queue.stdout
            held = json.loads(cli("queue", "--json").stdout)
            (task,) = [t for t in held["tasks"] if t["state"] == "held"]
            assert task["resume_at"]
            assert "90" in task["held_reason"]
            assert len(fake_claude.calls()) == calls  # nothing started
        finally:
            stop_app(app)
    finally:
        server.stop()
