"""The guarded, verified start with real parts: the scripted fake ``claude`` on PATH (a real child
process that records its calls), a loopback usage server read through the real usage engine, the
real schedule store. Exactly one call for a closed window; none for an open one; one warning and
no retry when the window does not open; no repeat after a restart; a sliding or missing reset; a
hang killed with its whole process group."""

from __future__ import annotations

import os
import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.helpers.fake_claude import calls as read_calls
from tests.helpers.fixtures_sessions import FakeClaude
from tests.helpers.fixtures_usage import write_credentials
from tests.helpers.usage_window_server import UsageWindowServer
from trayapp.core.clock import FakeClock
from trayapp.core.models import AccountState
from trayapp.core.schedule import Anchor, AnchorMode, Attempt, Outcome, Plan, parse_at
from trayapp.services import window_start
from trayapp.services.usage_engine import UsageEngine
from trayapp.services.window_start import NOT_OPENED_TEXT, StartConfig, start_window
from trayapp.sources.credentials import load_credentials
from trayapp.sources.usage_api import UsageClient
from trayapp.store.schedule_store import ScheduleStore
from trayapp.store.usage_repo import UsageRepo

TZ = ZoneInfo("Europe/Berlin")


@pytest.fixture
def server(fake_claude: FakeClaude, claude_dir: Path) -> Iterator[UsageWindowServer]:
    write_credentials(claude_dir, expires_at=datetime.now(UTC) + timedelta(hours=8))
    srv = UsageWindowServer(fake_claude.calls_path)
    srv.start()
    yield srv
    srv.stop()


class Rig:
    """The engine, the store and the clock one test drives (``restart()``: new instances)."""

    def __init__(self, server: UsageWindowServer, fake: FakeClaude, tmp_path: Path, claude_dir: Path) -> None:
        self.server, self.fake, self.tmp_path, self.claude_dir = server, fake, tmp_path, claude_dir
        self.clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
        self.settings: dict[str, Any] = {"alerts.quiet_hours": ""}
        self.work = tmp_path / "work"
        self.engines: list[UsageEngine] = []
        self.restart()

    def restart(self) -> None:
        self.store = ScheduleStore(self.tmp_path / "config", self.tmp_path / "state")
        self.engine = UsageEngine(
            UsageRepo.open(self.tmp_path / "usage.sqlite3"),
            clock=self.clock,
            client=UsageClient(self.server.base_url),
            credentials_loader=partial(load_credentials, config_dirs=[self.claude_dir], home=self.claude_dir),
            rng=random.Random(1),
            probe_version=False,
        )
        self.engines.append(self.engine)

    async def poll(self) -> AccountState:
        self.clock.advance(31)  # past the manual refresh throttle, as real time would be
        return await self.engine.poll(manual=True)

    async def start(self, anchor_id: str | None = "07:00", **cfg: Any) -> Any:
        config = StartConfig(
            timeout=cfg.pop("timeout", 20.0),
            verify_wait=0.05,
            term_grace=0.5,
            tick=0.02,
            config_dir=self.claude_dir,
            work_dir=self.work,
            **cfg,
        )
        return await start_window(
            store=self.store,
            clock=self.clock,
            tz=TZ,
            get_setting=self.settings.get,
            state=lambda: self.engine.state,
            anchor_id=anchor_id,
            poll=self.poll,
            config=config,
        )

    def calls(self) -> list[dict[str, Any]]:
        return read_calls(self.fake.calls_path)

    async def close(self) -> None:
        for engine in self.engines:
            await engine.aclose()
            engine.repo.close()


@pytest.fixture
async def rig(server: UsageWindowServer, fake_claude: FakeClaude, tmp_path: Path, claude_dir: Path) -> Any:
    r = Rig(server, fake_claude, tmp_path, claude_dir)
    yield r
    await r.close()


async def test_closed_window_one_call_verified(rig: Rig) -> None:
    attempt = await rig.start()
    assert attempt.outcome is Outcome.VERIFIED, attempt.detail
    assert "from the run's rate-limit event" in attempt.detail
    calls = rig.calls()
    assert len(calls) == 1
    call = calls[0]
    flags = ["--no-session-persistence", "--output-format", "stream-json", "--verbose"]
    assert call["argv"] == ["-p", "hi", "--model", "haiku", *flags]
    assert call["config_dir"] == str(rig.claude_dir)
    assert call["cwd_entries"] == []  # an empty scratch folder
    assert Path(call["cwd"]).parent == rig.work
    assert list(rig.work.iterdir()) == []  # removed afterwards, with the output files
    logged = rig.store.attempts()
    assert [a.outcome for a in logged] == [Outcome.VERIFIED]
    assert logged[0].anchor_id == "07:00"
    assert logged[0].extra["resets_at"]
    # The window is open now: the log says so before any reading does; no second call.
    again = await rig.start("12:00")
    assert again.outcome is Outcome.REFUSED
    assert again.detail.startswith("a window is open until")
    assert len(rig.calls()) == 1


async def test_not_opened_warns_once_and_never_retries(rig: Rig) -> None:
    rig.fake.script(p={"resets_in": None})  # no rate_limit_event; the server shows no window
    attempt = await rig.start()
    assert attempt.outcome is Outcome.NOT_OPENED
    assert attempt.detail.startswith(NOT_OPENED_TEXT)
    assert "no 5-hour reset was reported" in attempt.detail
    # the next tick, and a restart of the app: no call
    second = await rig.start()
    assert second.outcome is Outcome.REFUSED
    assert "already tried" in second.detail
    rig.restart()
    third = await rig.start("12:00")
    assert third.outcome is Outcome.REFUSED
    assert len(rig.calls()) == 1
    assert [a.outcome for a in rig.store.attempts()] == [Outcome.NOT_OPENED, Outcome.REFUSED, Outcome.REFUSED]


async def test_open_window_no_call(rig: Rig) -> None:
    rig.server.five_reset = datetime.now(UTC) + timedelta(hours=2)
    attempt = await rig.start()
    assert attempt.outcome is Outcome.REFUSED
    assert attempt.detail.startswith("a window is open until ")
    assert rig.calls() == []


async def test_restart_does_not_repeat_a_verified_start(rig: Rig) -> None:
    assert (await rig.start()).outcome is Outcome.VERIFIED
    rig.restart()  # a new process: the reading says closed (nothing polled since), the log remembers
    rig.server.five_reset = None
    attempt = await rig.start()
    assert attempt.outcome is Outcome.REFUSED
    assert len(rig.calls()) == 1


async def test_missing_reset_verified_by_one_poll(rig: Rig) -> None:
    rig.fake.script(p={"resets_in": None})
    rig.server.opens_on_ping = True
    n = len(rig.server.requests)
    attempt = await rig.start()
    assert attempt.outcome is Outcome.VERIFIED, attempt.detail
    assert "by a usage reading after the run" in attempt.detail
    assert len(rig.server.requests) - n == 2  # the "is it open?" poll and the one verification poll
    assert len(rig.calls()) == 1


async def test_sliding_reset_is_not_a_verified_start(rig: Rig) -> None:
    rig.fake.script(p={"resets_in": 3 * 3600})  # a reset 3 h out: a window open all along
    attempt = await rig.start()
    assert attempt.outcome is Outcome.NOT_OPENED
    assert attempt.detail.startswith("a window was already open (it resets at ")
    rig.store.guard_path.unlink()
    rig.store.attempts_path.unlink()
    rig.fake.script(p={"resets_in": 6 * 3600})  # a reset that slid past five hours
    attempt = await rig.start()
    assert attempt.outcome is Outcome.NOT_OPENED
    assert attempt.detail.startswith(NOT_OPENED_TEXT)
    assert "not 5 h after the start" in attempt.detail
    # just inside the tolerance still counts
    rig.fake.script(p={"resets_in": 5 * 3600 + 8 * 60})
    rig.store.guard_path.unlink()
    rig.store.attempts_path.unlink()
    assert (await rig.start()).outcome is Outcome.VERIFIED


async def test_without_verify_the_stream_alone_decides(rig: Rig) -> None:
    rig.fake.script(p={"resets_in": None})
    rig.server.opens_on_ping = True
    n = len(rig.server.requests)
    attempt = await rig.start(verify=False)
    assert attempt.outcome is Outcome.NOT_OPENED
    assert len(rig.server.requests) - n == 1  # only the "is it open?" poll


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie waiting for its parent is dead for us
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


async def test_hang_is_killed_with_its_group(rig: Rig, fake_claude: FakeClaude) -> None:
    rig.fake.script(p={"hang": True, "grandchild": True})
    t0 = time.monotonic()
    attempt = await rig.start(timeout=1.5)
    assert time.monotonic() - t0 < 10
    assert attempt.outcome is Outcome.FAILED
    assert "did not finish within 1.5 s" in attempt.detail
    rows = [r for r in fake_claude.calls()]
    pids = [r["pid"] for r in rows if "argv" in r] + [r["grandchild"] for r in rows if "grandchild" in r]
    assert len(pids) == 2
    deadline = time.monotonic() + 5
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(alive(p) for p in pids)
    assert list(rig.work.iterdir()) == []


async def test_a_finished_run_leaves_no_helper_behind(rig: Rig, fake_claude: FakeClaude) -> None:
    rig.fake.script(p={"grandchild": True})
    assert (await rig.start()).outcome is Outcome.VERIFIED
    child = next(r["grandchild"] for r in fake_claude.calls() if "grandchild" in r)
    deadline = time.monotonic() + 5
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(child)


async def test_crash_missing_and_garbage(rig: Rig, tmp_path: Path) -> None:
    rig.fake.script(p={"events": ["not json", {"type": "system", "subtype": "init"}], "crash": 3})
    attempt = await rig.start()
    assert attempt.outcome is Outcome.FAILED
    assert attempt.detail.startswith("claude exited with status 3")
    rig.store.guard_path.unlink()
    rig.store.attempts_path.unlink()
    missing = await rig.start(claude=str(tmp_path / "nowhere" / "claude"))
    assert missing.outcome is Outcome.FAILED
    assert "not found" in missing.detail


async def test_rejected_status_holds_later_starts(rig: Rig) -> None:
    rig.fake.script(p={"status": "rejected", "resets_in": 3600})
    first = await rig.start()
    assert first.outcome is Outcome.NOT_OPENED
    # a later closed window (the reading now names a past reset: another key); the status holds
    rig.restart()
    rig.clock.advance(11 * 60)
    rig.server.five_reset = rig.clock.now() - timedelta(minutes=1)
    second = await rig.start()
    assert second.outcome is Outcome.REFUSED
    assert "last rate-limit status was 'rejected'" in second.detail
    assert len(rig.calls()) == 1


async def test_quiet_hours_hold_an_anchor_unless_it_allows(rig: Rig) -> None:
    now = rig.clock.now().astimezone(TZ)
    start, end = (now - timedelta(hours=1)).strftime("%H:%M"), (now + timedelta(hours=1)).strftime("%H:%M")
    rig.settings["alerts.quiet_hours"] = f"{start}-{end}"
    held = await rig.start("07:00")
    assert held.outcome is Outcome.REFUSED
    assert "quiet hours" in held.detail
    rig.store.save_plan(Plan((Anchor(parse_at("07:00"), mode=AnchorMode.AUTO, in_quiet_hours=True),)))
    assert (await rig.start("07:00")).outcome is Outcome.VERIFIED
    assert len(rig.calls()) == 1


async def test_by_hand_ignores_quiet_hours_and_two_failures_a_day(rig: Rig) -> None:
    now = rig.clock.now().astimezone(TZ)
    rig.settings["alerts.quiet_hours"] = (
        f"{(now - timedelta(hours=1)):%H:%M}-{(now + timedelta(hours=1)):%H:%M}"
    )
    rig.fake.script(p={"resets_in": None})
    assert (await rig.start(None, verify=False)).outcome is Outcome.NOT_OPENED  # by hand: not held
    rig.store.append(Attempt(rig.clock.now(), None, Outcome.FAILED, "x", window_key="other"))
    # another closed window: the reading (stale, so polled again) names a past reset
    rig.clock.advance(11 * 60)
    rig.server.five_reset = rig.clock.now() - timedelta(minutes=1)
    third = await rig.start(None, verify=False)
    assert third.outcome is Outcome.REFUSED
    assert "2 failed starts today" in third.detail
    assert len(rig.calls()) == 1


def test_is_verified_bounds() -> None:
    t = datetime(2026, 12, 3, 7, tzinfo=UTC)
    tol = timedelta(minutes=10)
    assert window_start.is_verified(t + timedelta(hours=5, minutes=10), t, tol)
    assert window_start.is_verified(t + timedelta(hours=4, minutes=50), t, tol)
    assert not window_start.is_verified(t + timedelta(hours=5, minutes=11), t, tol)
    assert not window_start.is_verified(None, t, tol)


def test_find_claude_outside_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A timer's PATH lacks ~/.local/bin, where the native installer puts claude."""
    if any(Path(p).exists() for p in ("/opt/homebrew/bin/claude", "/usr/local/bin/claude")):
        pytest.skip("a system-wide claude is installed here")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert window_start.find_claude() is None
    exe = tmp_path / ".local" / "bin" / "claude"
    exe.parent.mkdir(parents=True)
    exe.write_text("#!/bin/sh\n")
    assert window_start.find_claude() is None  # not executable
    exe.chmod(0o755)
    assert window_start.find_claude() == str(exe)
