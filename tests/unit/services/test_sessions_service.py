"""The sessions service on the qasync loop: real registry files and real child processes (a file
appears -> listed, the process is killed -> gone), hook events folded and notified through a real
dispatcher (once per event, a burst as one), a failing reader backed off with the last list kept,
and the hook state file the CLI and doctor read."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from trayapp.channels.base import Delivery
from trayapp.channels.dispatcher import Dispatcher
from trayapp.channels.quips import QuipWriter
from trayapp.core.models import Alert, AlertKind
from trayapp.core.session_merge import CAPTURE_TTL
from trayapp.core.sessions import HookEvent, HookEventName, SessionState
from trayapp.runtime import HealthRegistry, LoopHealth
from trayapp.services import sessions_service as ss
from trayapp.services.sessions_service import SessionsService, SourceData
from trayapp.settings_schema import SCHEMA
from trayapp.store import session_hooks

E = HookEventName
pytestmark = pytest.mark.qt_loop  # the service runs a QFileSystemWatcher inside the asyncio loop


async def until(condition: Callable[[], object], timeout: float = 5.0) -> bool:
    """Let the loop run until ``condition()`` holds (a deadline, not a speed claim)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


class Recorder:
    """A channel that keeps what it is sent."""

    name = "recorder"

    def __init__(self) -> None:
        self.sent: list[Alert] = []

    def enabled(self) -> bool:
        return True

    async def send(self, alert: Alert, quip: str | None = None) -> Delivery:
        self.sent.append(alert)
        return Delivery(self.name, True, "recorded")


def setting_getter(**overrides: Any) -> Callable[[str], Any]:
    values = {s.key: s.default for s in SCHEMA} | {k.replace("__", "."): v for k, v in overrides.items()}
    return values.__getitem__


class Sleeper:
    """Real sleeping child processes, each with its registry file under ``config/sessions``."""

    def __init__(self, config: Path) -> None:
        self.folder = config / "sessions"
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, session_id: str, cwd: str) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
        self.procs[session_id] = proc
        record = {
            "pid": proc.pid,
            "sessionId": session_id,
            "cwd": cwd,
            "startedAt": int(time.time() * 1000) + 1000,
            "kind": "interactive",
            "entrypoint": "cli",
        }
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.folder / f".{proc.pid}.tmp"
        tmp.write_text(json.dumps(record))
        tmp.rename(self.folder / f"{proc.pid}.json")  # as Claude Code does: whole files
        return proc

    def kill(self, session_id: str) -> None:
        proc = self.procs.pop(session_id)
        proc.kill()
        proc.wait()  # reaped: the registry file stays behind, as after a crash

    def stop_all(self) -> None:
        for sid in list(self.procs):
            self.kill(sid)


@pytest.fixture
def sleepers(tmp_path: Path) -> Iterator[Sleeper]:
    s = Sleeper(tmp_path / "claude")
    yield s
    s.stop_all()


def no_jobs_reader(dirs: Sequence[Path], with_jobs: bool, now: datetime) -> SourceData:
    """The real registry and capture readers; jobs answered empty (their source has its own tests)."""
    from trayapp.sources.session_registry import read_registry
    from trayapp.sources.statusline_capture import live_sessions

    return SourceData(read_registry(dirs), live_sessions(now, CAPTURE_TTL), [] if with_jobs else None)


def service(tmp_path: Path, **kw: Any) -> SessionsService:
    kw.setdefault("reader", no_jobs_reader)
    kw.setdefault("health", LoopHealth("sessions test", registry=HealthRegistry()))
    return SessionsService(kw.pop("get", setting_getter()), config_dirs=[tmp_path / "claude"], **kw)


def hook(name: HookEventName, sid: str, at: datetime | None = None, **kw: Any) -> HookEvent:
    return HookEvent(event=name, session_id=sid, received_at=at or datetime.now(UTC), cwd=f"/src/{sid}", **kw)


async def test_a_registry_file_that_appears_is_listed_without_waiting_for_the_poll(
    qapp, tmp_path: Path, sleepers: Sleeper
) -> None:
    (tmp_path / "claude").mkdir()  # no sessions/ folder yet: watched through its parent
    svc = service(tmp_path, poll_seconds=600)
    seen: list[list] = []
    svc.sessions_changed.connect(seen.append)
    svc.start_watching()
    try:
        assert await until(lambda: svc.reads >= 1)
        assert svc.sessions == []
        sleepers.start("alpha", "/src/alpha")
        assert await until(lambda: [s.project for s in svc.sessions] == ["alpha"], timeout=5)
        assert svc.reads <= 3  # read on the watcher's word, not by polling
        sleepers.start("beta", "/src/beta")
        assert await until(lambda: len(svc.sessions) == 2, timeout=5)
        assert seen[-1] == svc.sessions
    finally:
        await svc.stop_watching()


async def test_a_killed_process_disappears(qapp, tmp_path: Path, sleepers: Sleeper) -> None:
    sleepers.start("alpha", "/src/alpha")
    sleepers.start("beta", "/src/beta")
    svc = service(tmp_path, poll_seconds=0.2)
    svc.start_watching()
    try:
        assert await until(lambda: len(svc.sessions) == 2)
        sleepers.kill("alpha")
        assert await until(lambda: [s.project for s in svc.sessions] == ["beta"])
        assert (sleepers.folder).is_dir()
        assert len(list(sleepers.folder.glob("*.json"))) == 2  # the dead one's file is still there
    finally:
        await svc.stop_watching()


async def test_a_permission_request_notifies_once_and_badges_until_answered(
    qapp, tmp_path: Path, sleepers: Sleeper
) -> None:
    sleepers.start("alpha", "/src/alpha")
    recorder = Recorder()
    get = setting_getter()
    svc = service(tmp_path, dispatcher=Dispatcher([recorder], QuipWriter(get), get), poll_seconds=600)
    counts: list[int] = []
    svc.needs_you_changed.connect(counts.append)
    svc.start_watching()
    try:
        assert await until(lambda: len(svc.sessions) == 1)
        svc.on_hook_event(hook(E.USER_PROMPT_SUBMIT, "alpha", message="fix the tests"))
        request = hook(E.PERMISSION_REQUEST, "alpha", message="Bash: make test", tool_name="Bash")
        svc.on_hook_event(request)
        svc.on_hook_event(hook(E.NOTIFICATION, "alpha", notification_type="permission_prompt"))
        assert await until(lambda: counts == [1])
        assert svc.sessions[0].state is SessionState.NEEDS_YOU
        assert await until(lambda: recorder.sent)
        await asyncio.sleep(0.5)
        assert len(recorder.sent) == 1
        alert = recorder.sent[0]
        assert alert.kind is AlertKind.SESSION_NEEDS_YOU
        assert alert.title == "Claude needs you · alpha"
        assert alert.body == "Bash: make test"
        svc.on_hook_event(hook(E.POST_TOOL_USE, "alpha", tool_name="Bash"))
        assert await until(lambda: counts == [1, 0])
    finally:
        await svc.stop_watching()


async def test_ten_long_turns_ending_together_give_one_notification(qapp, tmp_path: Path) -> None:
    recorder = Recorder()
    get = setting_getter(sessions__finished_min_seconds=60)
    svc = service(tmp_path, dispatcher=Dispatcher([recorder], QuipWriter(get), get), poll_seconds=600)
    long_ago = datetime.now(UTC) - timedelta(minutes=3)
    for i in range(10):
        svc.on_hook_event(hook(E.USER_PROMPT_SUBMIT, f"s{i}", at=long_ago))
    for i in range(10):
        svc.on_hook_event(hook(E.STOP, f"s{i}"))
    assert await until(lambda: recorder.sent)
    await asyncio.sleep(2.5)  # past the cooldown: nothing else comes
    assert len(recorder.sent) == 1
    assert recorder.sent[0].title.startswith("10 sessions finished: ")
    await svc.stop_watching()


async def test_quick_turns_and_a_pause_stay_quiet(qapp, tmp_path: Path) -> None:
    recorder = Recorder()
    get = setting_getter()
    paused = [datetime.now(UTC) + timedelta(hours=1)]
    svc = service(
        tmp_path,
        dispatcher=Dispatcher([recorder], QuipWriter(get), get),
        paused_until=lambda: paused[0],
    )
    svc.on_hook_event(hook(E.PERMISSION_REQUEST, "a", message="Bash: ls"))  # paused
    svc.on_hook_event(hook(E.USER_PROMPT_SUBMIT, "b"))
    svc.on_hook_event(hook(E.STOP, "b"))  # a quick reply
    paused[0] = None
    svc.on_hook_event(hook(E.STOP_FAILURE, "c", message="overloaded"))
    assert await until(lambda: recorder.sent)
    await asyncio.sleep(0.5)
    assert [a.title for a in recorder.sent] == ["Claude failed · c"]
    await svc.stop_watching()


async def test_hook_tracks_go_with_their_process_and_the_state_file_follows(
    qapp, tmp_path: Path, sleepers: Sleeper
) -> None:
    sleepers.start("alpha", "/src/alpha")
    hooks_file = tmp_path / "state" / "session-hooks.json"
    svc = service(tmp_path, poll_seconds=0.2, hooks_file=hooks_file)
    svc.start_watching()
    try:
        assert await until(lambda: len(svc.sessions) == 1)
        svc.on_hook_event(hook(E.PERMISSION_REQUEST, "alpha", message="Edit x"))
        assert await until(lambda: svc.sessions[0].state is SessionState.NEEDS_YOU)
        assert await until(hooks_file.exists, timeout=ss.SAVE_SECONDS + 3)
        saved = session_hooks.load(hooks_file)
        assert saved is not None
        assert saved.events_seen == 1
        assert saved.last_event is not None
        assert saved.last_event.event == "PermissionRequest"
        assert [(t.session_id, t.state) for t in saved.tracks] == [("alpha", SessionState.NEEDS_YOU)]
        sleepers.kill("alpha")
        assert await until(lambda: svc.sessions == [])
        assert svc.tracks == {}  # not listed for another half hour as a hook-only session
    finally:
        await svc.stop_watching()


async def test_a_failing_reader_is_backed_off_and_the_last_list_stays(
    qapp, tmp_path: Path, sleepers: Sleeper
) -> None:
    sleepers.start("alpha", "/src/alpha")
    calls = 0
    broken = False

    def flaky(dirs: Sequence[Path], with_jobs: bool, now: datetime) -> SourceData:
        nonlocal calls
        calls += 1
        if broken:
            raise OSError("disk on fire")
        return no_jobs_reader(dirs, with_jobs, now)

    health = LoopHealth("sessions test", base=60.0, registry=HealthRegistry())
    svc = service(tmp_path, reader=flaky, poll_seconds=0.05, health=health)
    svc.start_watching()
    try:
        assert await until(lambda: len(svc.sessions) == 1)
        broken = True
        assert await until(lambda: health.failures == 1)
        at_failure = calls
        await asyncio.sleep(0.5)
        assert calls == at_failure  # backing off, not retried every 50 ms
        assert [s.project for s in svc.sessions] == ["alpha"]
    finally:
        await svc.stop_watching()


async def test_jobs_are_read_once_for_a_burst_of_changes_and_not_on_every_poll(
    qapp, tmp_path: Path, sleepers: Sleeper
) -> None:
    svc = service(tmp_path, poll_seconds=0.05)
    svc.start_watching()
    try:
        assert await until(lambda: svc.reads >= 1)
        for i in range(5):
            sleepers.start(f"s{i}", f"/src/s{i}")
        assert await until(lambda: len(svc.sessions) == 5)
        await asyncio.sleep(1.0)
        assert svc.reads >= 10  # the registry is polled...
        assert svc.jobs_reads == 1  # ...jobs only at start (the next is due JOBS_MIN_SECONDS later)
    finally:
        await svc.stop_watching()
