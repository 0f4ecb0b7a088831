"""Login freshness for several accounts: the watch over real credential files in temp config
folders (the default's CLAUDE_CONFIG_DIR and added accounts' folders), a FakeClock and a real
dispatcher. Each account is warned once per threshold (8, 7, 3, 1, 0 days) with its label in the
title, nothing repeats across a restart or a rename, a memory file written before accounts existed
still holds the default's warnings, a 401 from one account's engine signs out that account alone,
and a new login in its folder brings it back."""

from __future__ import annotations

import asyncio
import json
import os
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest

from tests.helpers.fixtures_usage import write_credentials
from tests.helpers.login_support import Recorder
from trayapp import runtime
from trayapp.channels.dispatcher import Dispatcher
from trayapp.channels.quips import QuipWriter
from trayapp.core import login_freshness as lf
from trayapp.core.accounts import DEFAULT_KEY, Account
from trayapp.core.clock import FakeClock
from trayapp.core.models import AccountState, ErrorKind, FetchError
from trayapp.services.login_watch import LoginWatch, memory_file
from trayapp.sources.credentials import load_credentials

START = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def loader_for(account: Account):
    folder = account.config_dir
    return partial(load_credentials, config_dirs=[folder], home=folder, platform="linux")


def make_watch(claude_dir: Path, clock: FakeClock, recorder: Recorder) -> LoginWatch:
    dispatcher = Dispatcher([recorder], QuipWriter(lambda key: None), lambda key: None)
    return LoginWatch(
        dispatcher,
        clock=clock,
        loader=loader_for(Account("default", claude_dir, DEFAULT_KEY)),
        watch_paths=[claude_dir / ".credentials.json"],
        tz=UTC,
        tick=3600,
        loader_for=loader_for,
    )


def accounts(claude_dir: Path, tmp_path: Path, *labels: str, default: str = "Personal") -> list[Account]:
    out = [Account(default, claude_dir, DEFAULT_KEY)]
    for label in labels:
        folder = tmp_path / f"claude-{label.lower()}"
        folder.mkdir(exist_ok=True)
        out.append(Account(label, folder, label))
    return out


async def settle(watch: LoginWatch) -> None:
    for _ in range(20):
        await asyncio.sleep(0)
    await runtime.wait(2, group=watch)


async def wait_for(cond, timeout: float = 5.0) -> None:
    end = asyncio.get_running_loop().time() + timeout
    while not cond():
        assert asyncio.get_running_loop().time() < end, "timed out"
        await asyncio.sleep(0.02)


async def walk(watch: LoginWatch, clock: FakeClock, deadline: datetime, days: tuple[float, ...]) -> None:
    for days_before in days:
        clock.advance((deadline - timedelta(days=days_before) - clock.now()).total_seconds())
        await watch.check("test")
    await settle(watch)


@pytest.mark.qt_loop
@pytest.mark.parametrize("others", [("Work",), ("Work", "Lab")])
async def test_each_account_is_warned_once_per_threshold_with_its_label_and_never_again_after_a_restart(
    claude_dir: Path, tmp_path: Path, others: tuple[str, ...]
) -> None:
    clock = FakeClock(START)
    deadline = START + timedelta(days=8)
    listed = accounts(claude_dir, tmp_path, *others)
    for a in listed:
        write_credentials(a.config_dir, login_expires_at=deadline, expires_at=START + timedelta(days=60))
    recorder = Recorder()
    watch = make_watch(claude_dir, clock, recorder)
    await watch.set_accounts(listed)
    await watch.start()
    try:
        await walk(watch, clock, deadline, (8, 7, 7, 3, 1, 0))
    finally:
        await watch.stop()
    titles = sorted(a.title for a in recorder.alerts)
    expected = sorted(
        f"{a.label}: Claude Code login lapses in {n} day{'s' if n > 1 else ''}"
        for a in listed
        for n in (7, 3, 1)
    )
    assert titles == expected
    work = next(a for a in recorder.alerts if a.title.startswith("Work: ") and a.threshold == 3)
    assert work.extra["account"] == "Work"
    assert f"CLAUDE_CONFIG_DIR={listed[1].config_dir} claude auth login" in work.body
    assert len({a.key for a in recorder.alerts}) == len(recorder.alerts)
    assert [s.name for s in watch.statuses] == [a.label for a in listed]
    saved = json.loads(memory_file().read_text())
    assert {k: v["sent"] for k, v in saved["accounts"].items()} == {a.key: [1, 3, 7] for a in listed}
    # A restart a day before the deadline: the memory on disk says every warning went out.
    again = make_watch(claude_dir, FakeClock(deadline - timedelta(days=1)), recorder2 := Recorder())
    await again.set_accounts(listed)
    await again.start()
    try:
        await again.check("test")
        await settle(again)
    finally:
        await again.stop()
    assert recorder2.alerts == []


@pytest.mark.qt_loop
async def test_a_memory_file_from_before_accounts_still_holds_the_defaults_warnings(
    claude_dir: Path, tmp_path: Path
) -> None:
    deadline = START + timedelta(days=2, hours=12)
    listed = accounts(claude_dir, tmp_path, "Work")
    for a in listed:
        write_credentials(a.config_dir, login_expires_at=deadline)
    # What the single-account version wrote after its 7- and 3-day warnings.
    memory_file().parent.mkdir(parents=True, exist_ok=True)
    memory_file().write_text(
        json.dumps(
            {"version": 1, "accounts": {"default": {"deadline": lf.deadline_key(deadline), "sent": [3, 7]}}}
        )
    )
    recorder = Recorder()
    watch = make_watch(claude_dir, FakeClock(START), recorder)
    await watch.set_accounts(listed)
    await watch.start()
    try:
        await settle(watch)
        # A rename of the default keeps its key: still nothing repeated.
        await watch.set_accounts([Account("Home", claude_dir, DEFAULT_KEY), listed[1]])
        await watch.check("test")
        await settle(watch)
    finally:
        await watch.stop()
    assert [a.title for a in recorder.alerts] == ["Work: Claude Code login lapses in 2 days"]
    assert watch.status is not None
    assert watch.status.name == "Home"
    assert lf.status_text(watch.status).startswith("Home: Login renews in 2 days")


@pytest.mark.qt_loop
async def test_a_401_signs_out_that_account_alone_and_a_new_login_in_its_folder_brings_it_back(
    claude_dir: Path, tmp_path: Path
) -> None:
    listed = accounts(claude_dir, tmp_path, "Work", "Lab")
    for a in listed:
        write_credentials(a.config_dir, login_expires_at=START + timedelta(days=20))
    watch = make_watch(claude_dir, FakeClock(START), Recorder())
    back: list[str] = []
    default_back: list[bool] = []
    watch.account_signed_in_again.connect(back.append)
    watch.signed_in_again.connect(lambda: default_back.append(True))
    await watch.set_accounts(listed)
    await watch.start()
    try:
        assert all(s.ok for s in watch.statuses)
        watch.on_account_state("Work", AccountState(None, error=FetchError(ErrorKind.NETWORK, "offline")))
        assert watch.status_of("Work").signed_in  # a network failure says nothing about the login
        watch.on_account_state("work", AccountState(None, error=FetchError(ErrorKind.AUTH, "401")))
        assert not watch.status_of("Work").signed_in
        assert watch.status_of("Lab").signed_in
        assert watch.status is not None
        assert watch.status.signed_in
        assert lf.tooltip_line(watch.status_of("Work")).startswith(
            "Work: Signed out: run `CLAUDE_CONFIG_DIR="
        )
        watch.on_account_state("Personal", AccountState(None, error=FetchError(ErrorKind.AUTH, "401")))
        assert watch.status.signed_in  # the default follows default_state_changed, not this
        await watch.check("test")  # the same file: still signed out
        assert not watch.status_of("Work").signed_in
        # A new login in Work's folder, written the way Claude Code does (a rename over the old file).
        folder = listed[1].config_dir
        tmp = tmp_path / "new-creds"
        tmp.mkdir()
        write_credentials(tmp, login_expires_at=START + timedelta(days=29), token="sk-ant-oat01-NEW-WORK")
        os.replace(tmp / ".credentials.json", folder / ".credentials.json")
        await wait_for(lambda: watch.status_of("Work").signed_in)
        assert back == ["Work"]
        assert default_back == []
        assert watch.status_of("Work").deadline == START + timedelta(days=29)
    finally:
        await watch.stop()


@pytest.mark.qt_loop
async def test_accounts_added_and_removed_while_running(claude_dir: Path, tmp_path: Path) -> None:
    listed = accounts(claude_dir, tmp_path, "Work")
    write_credentials(claude_dir, login_expires_at=START + timedelta(days=20))
    watch = make_watch(claude_dir, FakeClock(START), recorder := Recorder())
    seen: list[tuple[lf.LoginStatus, ...]] = []
    watch.statuses_changed.connect(seen.append)
    await watch.start()
    try:
        assert [s.name for s in watch.statuses] == ["default"]
        assert not watch.statuses[0].several
        await watch.set_accounts(listed)  # Work's folder has no credentials yet
        assert [(s.name, s.signed_in, s.several) for s in watch.statuses] == [
            ("Personal", True, True),
            ("Work", False, True),
        ]
        assert str(listed[1].config_dir) in " ".join(str(p) for p in watch.paths)
        await watch.set_accounts(listed[:1])
        assert [s.name for s in watch.statuses] == ["Personal"]
        assert not watch.statuses[0].several
        assert [s.name for s in seen[-1]] == ["Personal"]
    finally:
        await watch.stop()
    assert recorder.alerts == []


@pytest.mark.qt_loop
async def test_a_good_reading_ends_that_accounts_401_spell_without_asking_for_another(
    claude_dir: Path, tmp_path: Path
) -> None:
    from trayapp.core.models import Source, UsageSnapshot

    listed = accounts(claude_dir, tmp_path, "Work")
    for a in listed:
        write_credentials(a.config_dir, login_expires_at=START + timedelta(days=20))
    watch = make_watch(claude_dir, FakeClock(START), Recorder())
    back: list[str] = []
    watch.account_signed_in_again.connect(back.append)
    await watch.set_accounts(listed)
    await watch.start()
    try:
        watch.on_account_state("Work", AccountState(None, error=FetchError(ErrorKind.AUTH, "401")))
        assert not watch.status_of("Work").signed_in
        good = AccountState(UsageSnapshot(START, Source.API, ()))
        watch.on_account_state("Work", good)
        assert watch.status_of("Work").signed_in
        assert watch.status_of("Work").reason == ""
        assert back == []  # the reading is already there: no second poll asked for
    finally:
        await watch.stop()
