"""Session notifications end to end: the real app's hook receiver gets Claude Code's hook POSTs
(bearer token from the endpoint file the app wrote), and dunst on the private bus shows exactly
one "Claude needs you" for a permission request and exactly one notification for ten long turns
ending together."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.app_process import app_env, config_set, start_app, stop_app, wait_for
from tests.integration.conftest import DesktopSession
from tests.integration.test_notify_dunst import away_from_the_tray, log_text, ours
from trayapp.store import local_endpoint


class Hooks:
    """Posts hook events to the running app like Claude Code's http hooks do."""

    def __init__(self, endpoint: local_endpoint.LocalEndpoint) -> None:
        self.url = f"http://127.0.0.1:{endpoint.port}/hooks/v1/event"
        self.token = endpoint.hook_token

    def post(self, body: dict[str, Any], token: str | None = None) -> int:
        request = urllib.request.Request(
            self.url,
            data=json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {token or self.token}", "Content-Type": "application/json"},
            method="POST",
        )
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback, never a proxy
        try:
            with opener.open(request, timeout=5) as reply:
                return int(reply.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)


def event(name: str, session: str, **fields: Any) -> dict[str, Any]:
    return {
        "hook_event_name": name,
        "session_id": session,
        "cwd": f"/work/{session}",
        "transcript_path": f"/tmp/{session}.jsonl",
        **fields,
    }


@pytest.fixture
def running_app(desktop_services: DesktopSession, claude_dir: Path, hermetic_env: Path):
    config_set("sessions.finished_min_seconds", "1")  # a "long" turn the test can wait out
    away_from_the_tray()
    app = start_app(env=app_env(CLAUDE_CONFIG_DIR=str(claude_dir)))
    try:
        assert wait_for(lambda: "hook receiver listening" in log_text(hermetic_env), timeout=30), log_text(
            hermetic_env
        )
        endpoint = local_endpoint.load()
        assert endpoint is not None
        yield Hooks(endpoint)
    finally:
        stop_app(app)


def new_since(before: set[int]) -> list[dict]:
    return [n for n in ours() if n["id"]["data"] not in before]


def test_a_permission_request_gives_exactly_one_needs_you_notification(running_app: Hooks) -> None:
    before = {n["id"]["data"] for n in ours()}
    assert running_app.post(event("UserPromptSubmit", "webapp", prompt="run the tests")) == 200
    assert (
        running_app.post(
            event("PermissionRequest", "webapp", tool_name="Bash", tool_input={"command": "make test"})
        )
        == 200
    )
    # Claude Code also sends a Notification for the same prompt: no second notification.
    assert (
        running_app.post(
            event(
                "Notification",
                "webapp",
                message="Claude needs your permission to use Bash",
                notification_type="permission_prompt",
            )
        )
        == 200
    )
    assert running_app.post(event("PermissionRequest", "webapp", tool_name="Bash"), token="x" * 40) == 401
    shown = wait_for(lambda: new_since(before), timeout=10)
    assert shown
    assert not wait_for(lambda: len(new_since(before)) > 1, timeout=3)  # and nothing more comes
    (note,) = new_since(before)
    assert note["summary"]["data"] == "Claude needs you · webapp"
    assert "make test" in note["body"]["data"]


def test_ten_long_turns_ending_together_give_exactly_one_notification(running_app: Hooks) -> None:
    import time

    before = {n["id"]["data"] for n in ours()}
    sessions = [f"proj{i}" for i in range(10)]
    for s in sessions:
        assert running_app.post(event("UserPromptSubmit", s, prompt="refactor")) == 200
    time.sleep(1.3)  # longer than sessions.finished_min_seconds
    for s in sessions:
        assert running_app.post(event("Stop", s, stop_hook_active=False)) == 200
    assert wait_for(lambda: new_since(before), timeout=10)
    assert not wait_for(lambda: len(new_since(before)) > 1, timeout=4)
    (note,) = new_since(before)
    assert note["summary"]["data"].startswith("10 sessions finished: proj")
    assert len(note["body"]["data"].splitlines()) == 9  # eight sessions and "… and 2 more"


def test_clicking_a_needs_you_notification_opens_that_session(running_app: Hooks, hermetic_env: Path) -> None:
    """The notification's action opens the dashboard on that session (its terminal, where one can be
    focused; this hook-only session has none, so its row is shown)."""
    import subprocess

    from tests.helpers.app_process import visible_windows

    subprocess.run(["dunstctl", "close-all"], check=True)
    request = event("PermissionRequest", "api", tool_name="Bash", tool_input={"command": "ls"})
    assert running_app.post(request) == 200

    def displayed() -> bool:
        out = subprocess.run(["dunstctl", "count", "displayed"], capture_output=True, text=True).stdout
        return out.strip() not in ("", "0")

    assert wait_for(displayed, timeout=10)  # still on screen: closing it would drop its actions
    assert not visible_windows("Claude Watch dashboard")
    subprocess.run(["dunstctl", "action", "0"], check=True)
    assert wait_for(lambda: visible_windows("Claude Watch dashboard"), timeout=5)
    assert wait_for(lambda: "opening session api from its notification" in log_text(hermetic_env), timeout=5)
