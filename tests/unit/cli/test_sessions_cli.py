"""``claude-watch sessions`` end to end: real child processes with registry files, a scripted
``claude agents --json``, the running app's hook file (merged only while its app lives), the
table and the JSON document; and the hook file's strict reader."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.helpers.fixtures_sessions import FakeClaude, FakeSessions
from trayapp.core.sessions import HookEventName, HookTrack, SessionState
from trayapp.paths import state_dir
from trayapp.store import session_hooks

REPO = Path(__file__).resolve().parents[3]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "trayapp", "sessions", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ),
    )


def write_hooks(pid: int, *tracks: HookTrack) -> Path:
    now = datetime.now(UTC)
    state = session_hooks.HookState(
        written_at=now,
        pid=pid,
        events_seen=len(tracks),
        last_event=session_hooks.LastEvent("PermissionRequest", tracks[0].session_id, now, "/work/alpha")
        if tracks
        else None,
        tracks=tracks,
    )
    path = state_dir() / session_hooks.FILE_NAME
    session_hooks.save(state, path)
    return path


def waiting(session_id: str) -> HookTrack:
    now = datetime.now(UTC)
    return HookTrack(
        session_id=session_id,
        state=SessionState.NEEDS_YOU,
        state_since=now - timedelta(minutes=3),
        last_event=HookEventName.PERMISSION_REQUEST,
        last_event_at=now - timedelta(minutes=3),
        cwd=f"/work/{session_id}",
        needs_you_reason="Bash: make release",
    )


def test_lists_live_sessions_and_jobs_and_leaves_out_the_dead(
    fake_sessions: FakeSessions, fake_claude: FakeClaude
) -> None:
    fake_sessions.spawn("alpha")
    fake_sessions.spawn("beta", name="beta-refactor")
    fake_sessions.spawn("gone").end()  # its file stays, its process is dead
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    fake_claude.script(
        agents=[
            {
                "id": "job1",
                "sessionId": "bg-1",
                "cwd": "/work/nightly",
                "state": "working",
                "startedAt": now_ms,
            }
        ],
        agents_all=[
            {
                "id": "job1",
                "sessionId": "bg-1",
                "cwd": "/work/nightly",
                "state": "working",
                "startedAt": now_ms,
            },
            {"id": "job0", "sessionId": "bg-0", "cwd": "/work/old", "state": "done", "startedAt": now_ms},
        ],
    )
    done = cli("--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["schema_version"] == 1
    assert doc["hooks"]["from_running_app"] is False
    by_id = {s["session_id"]: s for s in doc["sessions"]}
    assert set(by_id) == {"alpha", "beta", "bg-1"}
    assert by_id["bg-1"]["state"] == "working"
    assert by_id["bg-1"]["project"] == "nightly"
    assert by_id["alpha"]["pid"] is not None
    assert by_id["beta"]["name"] == "beta-refactor"
    every = json.loads(cli("--json", "--all").stdout)
    assert {s["session_id"] for s in every["sessions"]} == {"alpha", "beta", "bg-1", "bg-0"}
    table = cli().stdout.splitlines()
    assert table[0].split() == ["STATE", "PROJECT", "FOR", "MODEL", "CONTEXT", "COST"]
    assert any(line.startswith("Working") and "nightly" in line for line in table)
    assert any("beta (beta-refactor)" in line for line in table)
    assert not any("gone" in line for line in table)


def test_the_running_apps_hook_tracks_put_needs_you_first_with_the_reason(
    fake_sessions: FakeSessions, fake_claude: FakeClaude
) -> None:
    fake_sessions.spawn("alpha")
    fake_sessions.spawn("beta")
    write_hooks(os.getpid(), waiting("beta"))  # this test process stands for the running app
    doc = json.loads(cli("--json").stdout)
    assert [s["session_id"] for s in doc["sessions"]][0] == "beta"
    assert doc["needs_you"] == 1
    assert doc["sessions"][0]["needs_you_reason"] == "Bash: make release"
    assert doc["hooks"]["last_event"]["event"] == "PermissionRequest"
    table = cli().stdout.splitlines()
    assert table[1].startswith("Needs you")
    assert "beta" in table[1]
    assert "3 min" in table[1]
    assert table[2].strip() == "↳ Bash: make release"


def test_the_hook_file_of_an_app_that_exited_is_ignored(
    fake_sessions: FakeSessions, fake_claude: FakeClaude
) -> None:
    fake_sessions.spawn("beta")
    exited = subprocess.Popen([sys.executable, "-c", "pass"])
    exited.wait()
    write_hooks(exited.pid, waiting("beta"))
    doc = json.loads(cli("--json").stdout)
    assert [s["state"] for s in doc["sessions"]] == ["idle"]
    assert doc["hooks"]["from_running_app"] is False


def test_no_sessions_says_so(fake_claude: FakeClaude) -> None:
    out = cli()
    assert out.returncode == 0
    assert out.stdout.startswith("No Claude Code sessions running.")


def test_the_hook_file_reader_is_strict(tmp_path: Path) -> None:
    path = tmp_path / "h.json"
    good = waiting("alpha")
    session_hooks.save(
        session_hooks.HookState(datetime.now(UTC), 123, 4, None, (good, waiting("beta"))), path
    )
    doc = json.loads(path.read_text())
    beta = next(t for t in doc["tracks"] if t["session_id"] == "beta")
    beta["state"] = "exploded"  # one bad track is skipped, the rest kept
    doc["tracks"].append({"session_id": 5})
    path.write_text(json.dumps(doc))
    state = session_hooks.load(path)
    assert state is not None
    assert [t.session_id for t in state.tracks] == ["alpha"]
    assert state.tracks[0] == good
    assert (state.pid, state.events_seen) == (123, 4)
    path.write_text(json.dumps(doc | {"schema": 99}))
    assert session_hooks.load(path) is None
    path.write_text("{" * 100_000)
    assert session_hooks.load(path) is None
    path.write_bytes(b" " * (session_hooks.MAX_BYTES + 10))
    assert session_hooks.load(path) is None
    assert session_hooks.load(tmp_path / "missing.json") is None


def test_doctor_reports_the_registry_hooks_receiver_and_last_event(
    fake_sessions: FakeSessions, fake_claude: FakeClaude
) -> None:
    from trayapp.cli.doctor import check_sessions
    from trayapp.store import local_endpoint

    now = datetime.now(UTC)
    checks = {c.name: c for c in check_sessions(now)}
    assert checks["Session registry"].detail.endswith("sessions: not there yet")
    assert checks["Hooks"].detail.startswith("hooks not installed")
    assert checks["Hook receiver"].detail.startswith("no port yet")
    assert checks["Last hook event"].detail == "none seen yet"
    fake_sessions.spawn("alpha")
    fake_sessions.spawn("beta")
    fake_sessions.spawn("gone").end()
    write_hooks(os.getpid(), waiting("beta"))
    port = local_endpoint.free_port()  # nobody listens there
    local_endpoint.save(local_endpoint.LocalEndpoint(port, "t" * 40))
    checks = {c.name: c for c in check_sessions(now)}
    assert checks["Session registry"].detail.endswith("sessions: 2 live sessions in total")
    assert checks["Hook receiver"].status == "warn"
    assert checks["Hook receiver"].detail == f"nothing answers on 127.0.0.1:{port}"
    assert checks["Last hook event"].detail.startswith("PermissionRequest ")
    assert "(session beta; 1 since the app started)" in checks["Last hook event"].detail
