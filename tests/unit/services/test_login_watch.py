"""The login watch over real credential files in a temp CLAUDE_CONFIG_DIR, a FakeClock and a real
dispatcher: one warning per threshold (8, 7, 3, 1, 0 days), none repeated across a restart, re-armed
by a replaced file (the watcher firing), emptied credentials and a 401 as signed out, and the way
back."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest

from tests.helpers.fixtures_usage import write_credentials
from tests.helpers.login_support import Recorder
from trayapp.channels.dispatcher import Dispatcher
from trayapp.channels.quips import QuipWriter
from trayapp.core.clock import FakeClock
from trayapp.core.login_freshness import LoginStatus
from trayapp.core.models import AccountState, ErrorKind, FetchError
from trayapp.services.login_watch import LoginMemoryStore, LoginWatch, memory_file
from trayapp.sources.credentials import load_credentials

START = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
DAY = 86400


def make_watch(claude_dir: Path, clock: FakeClock, recorder: Recorder, **kw) -> LoginWatch:
    dispatcher = Dispatcher([recorder], QuipWriter(lambda key: None), lambda key: None)
    loader = partial(load_credentials, config_dirs=[claude_dir], home=claude_dir, platform="linux")
    return LoginWatch(
        dispatcher,
        clock=clock,
        loader=loader,
        watch_paths=[claude_dir / ".credentials.json"],
        tz=UTC,
        tick=3600,
        **kw,
    )


async def settle(watch: LoginWatch, recorder: Recorder) -> None:
    """Let the dispatches in flight reach the recorder."""
    for _ in range(20):
        await asyncio.sleep(0)
    import trayapp.runtime as runtime

    await runtime.wait(2, group=watch)


async def wait_for(cond: Callable[[], bool], timeout: float = 5.0) -> None:
    end = asyncio.get_running_loop().time() + timeout
    while not cond():
        assert asyncio.get_running_loop().time() < end, "timed out"
        await asyncio.sleep(0.02)


def replace_file(path: Path, **kw) -> None:
    """Write new credentials the way Claude Code does: a new file renamed over the old one."""
    tmp = path.parent / "tmp-creds"
    write_credentials(tmp.parent, **kw).rename(tmp)
    os.replace(tmp, path)


@pytest.mark.qt_loop
async def test_logins_8_7_3_1_0_days_out_warn_once_each_and_never_again_after_a_restart(
    claude_dir: Path,
) -> None:
    clock = FakeClock(START)
    deadline = START + timedelta(days=8)
    write_credentials(claude_dir, login_expires_at=deadline, expires_at=START + timedelta(days=60))
    recorder = Recorder()
    watch = make_watch(claude_dir, clock, recorder)
    await watch.start()
    try:
        for days_before in (7, 7, 3, 1, 0):
            clock.advance((deadline - timedelta(days=days_before) - clock.now()).total_seconds())
            await watch.check("test")
        await settle(watch, recorder)
    finally:
        await watch.stop()
    assert [a.threshold for a in recorder.alerts] == [7, 3, 1]
    assert watch.status is not None
    assert watch.status.lapsed
    saved = json.loads(memory_file().read_text())
    assert saved["accounts"]["default"]["sent"] == [1, 3, 7]
    # A restart one day before the deadline: the memory on disk says all were sent.
    clock2 = FakeClock(deadline - timedelta(days=1))
    again = make_watch(claude_dir, clock2, recorder2 := Recorder())
    await again.start()
    try:
        await again.check("test")
        await settle(again, recorder2)
    finally:
        await again.stop()
    assert recorder2.alerts == []


@pytest.mark.qt_loop
async def test_a_replaced_credentials_file_is_noticed_re_arms_warnings_and_signs_in_again(
    claude_dir: Path,
) -> None:
    clock = FakeClock(START)
    path = write_credentials(claude_dir, login_expires_at=START + timedelta(days=2))
    recorder = Recorder()
    watch = make_watch(claude_dir, clock, recorder)
    statuses: list[LoginStatus] = []
    watch.status_changed.connect(statuses.append)
    back: list[bool] = []
    watch.signed_in_again.connect(lambda: back.append(True))
    await watch.start()
    try:
        await settle(watch, recorder)
        assert [a.threshold for a in recorder.alerts] == [3]
        # Claude Code's failed refresh empties the credentials: signed out (the watcher fires).
        data = json.loads(path.read_text())
        data["claudeAiOauth"].update(accessToken="", refreshToken="", expiresAt=0)
        tmp = claude_dir / "tmp"
        tmp.write_text(json.dumps(data))
        os.replace(tmp, path)
        await wait_for(lambda: bool(statuses) and not statuses[-1].signed_in)
        # A new login: a new deadline 29 days out, re-armed warnings, signed in again.
        new_deadline = START + timedelta(days=29)
        replace_file(path, login_expires_at=new_deadline)
        await wait_for(lambda: statuses[-1].signed_in and statuses[-1].deadline == new_deadline)
        assert back == [True]
        clock.advance((new_deadline - timedelta(days=6) - clock.now()).total_seconds())
        await watch.check("test")
        await settle(watch, recorder)
    finally:
        await watch.stop()
    assert [a.threshold for a in recorder.alerts] == [3, 7]
    assert recorder.alerts[0].key != recorder.alerts[1].key.replace(":7", ":3")


@pytest.mark.qt_loop
async def test_a_401_is_signed_out_until_the_credentials_change(claude_dir: Path) -> None:
    clock = FakeClock(START)
    path = write_credentials(claude_dir, login_expires_at=START + timedelta(days=20))
    watch = make_watch(claude_dir, clock, Recorder())
    await watch.start()
    try:
        assert watch.status is not None
        assert watch.status.ok
        watch.on_state(AccountState(None, error=FetchError(ErrorKind.NETWORK, "offline")))
        assert watch.status.signed_in  # a network failure says nothing about the login
        watch.on_state(AccountState(None, error=FetchError(ErrorKind.AUTH, "401")))
        assert not watch.status.signed_in
        await watch.check("test")  # the same file: still signed out
        assert not watch.status.signed_in
        replace_file(path, login_expires_at=START + timedelta(days=28), token="sk-ant-oat01-NEW")
        await wait_for(lambda: watch.status is not None and watch.status.signed_in)
    finally:
        await watch.stop()


@pytest.mark.qt_loop
async def test_the_loop_checks_after_sleep_and_at_the_daily_time_only(claude_dir: Path) -> None:
    clock = FakeClock(datetime(2026, 12, 1, 7, 0, tzinfo=UTC))
    write_credentials(claude_dir, login_expires_at=START + timedelta(days=20))
    watch = make_watch(claude_dir, clock, Recorder())
    checks: list[LoginStatus] = []
    await watch.start()
    watch.status_changed.connect(checks.append)
    try:
        clock.advance(3600)  # 08:00: nothing due
        await watch._turn()
        assert checks == []
        clock.jump_wall(900)  # a suspend: wall time ran ahead
        await watch._turn()
        assert len(checks) == 1
        clock.advance(3600)  # past 09:00: the daily check
        await watch._turn()
        assert len(checks) == 2
        clock.advance(3600)
        await watch._turn()
        assert len(checks) == 2
    finally:
        await watch.stop()


def test_a_corrupt_memory_file_starts_afresh(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text("{not json")
    assert LoginMemoryStore(path).load().fired == {}
