"""Several accounts polled by one usage service against a loopback usage server that answers
each token with its own figures: staggered polls, per-token 429 cooldowns, a credentials file
replaced mid-run, and history filed under each account."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.accounts_support import PerTokenUsage, folders, running, token
from tests.helpers.fixtures_usage import write_credentials
from trayapp.core.accounts import Account
from trayapp.core.clock import FakeClock
from trayapp.core.models import AccountState, ErrorKind
from trayapp.services.usage_accounts import account_engine
from trayapp.services.usage_engine import UsageEngine
from trayapp.services.usage_service import UsageService
from trayapp.sources.credentials import load_credentials
from trayapp.sources.usage_api import UsageClient
from trayapp.store.usage_repo import UsageRepo

INTERVAL = timedelta(minutes=6)


@pytest.fixture
def server() -> Iterator[PerTokenUsage]:
    yield from running()


def build(server: PerTokenUsage, accounts: list[Account], db: Path, clock: FakeClock) -> UsageService:
    d0 = accounts[0].config_dir
    base = UsageEngine(
        UsageRepo.open(db),
        clock=clock,
        client=UsageClient(server.base_url),
        interval=INTERVAL,
        credentials_loader=partial(load_credentials, config_dirs=[d0], home=d0),
        probe_version=False,
    )
    service = UsageService(base)
    service.add_account(accounts[0].label, base, default=True)
    for account in accounts[1:]:
        service.add_account(
            account.label, account_engine(account, accounts, base, client=UsageClient(server.base_url))
        )
    return service


async def wait_for(predicate: Any, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def settle() -> None:
    await asyncio.sleep(1.3)  # longer than the loop's one-second floor: anything due has run


class Turns:
    """Moves the fake clock and waits until the polls it makes due have finished."""

    def __init__(self, service: UsageService, clock: FakeClock) -> None:
        self.service, self.clock = service, clock
        self.polled: list[tuple[str, datetime]] = []
        service.account_state_changed.connect(lambda label, _s: self.polled.append((label, clock.now())))

    async def advance(self, seconds: float, polls: int) -> None:
        self.clock.advance(seconds)
        self.service.nudge()
        await wait_for(lambda: len(self.polled) >= polls)
        await settle()
        assert len(self.polled) == polls


def five(state: AccountState) -> float:
    assert state.snapshot is not None
    return state.snapshot.windows[0].utilization


@pytest.mark.qt_loop
async def test_three_accounts_poll_in_turn_with_their_own_figures_and_cooldowns(
    server: PerTokenUsage, tmp_path: Path
) -> None:
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
    accounts = folders(tmp_path, ["Personal", "Work", "Spare"], server, [12.0, 91.0, 40.0])
    service = build(server, accounts, tmp_path / "db.sqlite3", clock)
    turns = Turns(service, clock)
    polled = turns.polled
    defaults: list[AccountState] = []
    service.default_state_changed.connect(defaults.append)  # the default login's watch follows this
    t0 = clock.now()
    service.start()
    await wait_for(lambda: len(polled) == 1)
    await settle()
    assert server.calls == [token("Personal")]  # the others wait their staggered turn
    await turns.advance(60, 1)  # t0+1: spread over the interval, not merely a gap apart
    await turns.advance(60, 2)  # t0+2: Work
    await turns.advance(INTERVAL.total_seconds() / 3, 3)  # t0+4: Spare
    assert [label for label, _ in polled] == ["Personal", "Work", "Spare"]
    assert [at - t0 for _, at in polled] == [timedelta(0), timedelta(minutes=2), timedelta(minutes=4)]
    states = service.states
    assert {label: five(s) for label, s in states.items()} == {"Personal": 12.0, "Work": 91.0, "Spare": 40.0}
    assert service.binding_label == "Work"
    assert service.state is states["Work"]
    # The timeline follows the account whose ring is shown.
    assert {r[2] for r in service.history(["five_hour"], t0 - timedelta(hours=1))} == {91.0}
    assert service.next_poll_at() == t0 + timedelta(minutes=2) + INTERVAL

    # Work gets a 429: only Work cools down; the others keep their turns.
    server.limited.add(token("Work"))
    await turns.advance(INTERVAL.total_seconds() / 3, 4)  # t0+6: Personal's turn
    await turns.advance(INTERVAL.total_seconds() / 3, 5)  # t0+8: Work's turn -> 429
    assert server.calls[-1] == token("Work")
    assert service.states["Work"].error.kind is ErrorKind.RATE_LIMITED  # type: ignore[union-attr]
    server.limited.clear()
    await turns.advance(120, 6)  # t0+10: Spare
    await turns.advance(120, 7)  # t0+12: Personal
    await turns.advance(120, 7)  # t0+14: Work would be due, but it is cooling down (900 s)
    assert server.calls[5:] == [token("Spare"), token("Personal")]
    assert five(service.states["Personal"]) == 12.0
    assert service.states["Personal"].error is None
    assert [five(s) for s in defaults] == [12.0] * [label for label, _ in polled].count("Personal")

    # Nothing is ever polled for two accounts closer than the gap (one minute here).
    times = sorted(at for _, at in polled)
    assert all(b - a >= timedelta(minutes=1) for a, b in zip(times, times[1:], strict=False))
    await service.stop()
    # Each account's history is its own.
    repo = UsageRepo.open(tmp_path / "db.sqlite3")
    since = t0 - timedelta(hours=1)
    assert {r[2] for r in repo.history(["five_hour"], since)} == {12.0}
    assert {r[2] for r in repo.for_account("Work").history(["five_hour"], since)} == {91.0}


async def home_and_work_polled(
    server: PerTokenUsage, tmp_path: Path
) -> tuple[FakeClock, list[Account], UsageService, Turns]:
    """Home (10%) and Work (50%) running, each polled once (Work half an interval later)."""
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
    accounts = folders(tmp_path, ["Home", "Work"], server, [10.0, 50.0])
    service = build(server, accounts, tmp_path / "db.sqlite3", clock)
    turns = Turns(service, clock)
    service.start()
    await wait_for(lambda: len(turns.polled) == 1)
    await turns.advance(INTERVAL.total_seconds() / 2, 2)
    return clock, accounts, service, turns


@pytest.mark.qt_loop
async def test_a_replaced_credentials_file_is_used_at_the_next_turn(
    server: PerTokenUsage, tmp_path: Path
) -> None:
    clock, accounts, service, turns = await home_and_work_polled(server, tmp_path)
    assert five(service.states["Work"]) == 50.0
    # Work signs in again (a new login): the file is replaced while the app runs.
    server.figures[token("Work2")] = 77.0
    later = datetime.now(UTC) + timedelta(hours=8)
    write_credentials(accounts[1].config_dir, token=token("Work2"), expires_at=later)
    await turns.advance(INTERVAL.total_seconds() / 2, 3)  # Home's turn
    await turns.advance(INTERVAL.total_seconds() / 2, 4)  # Work's turn
    assert server.calls == [token("Home"), token("Work"), token("Home"), token("Work2")]
    assert five(service.states["Work"]) == 77.0
    assert five(service.states["Home"]) == 10.0
    await service.stop()


@pytest.mark.qt_loop
async def test_removing_an_account_stops_its_polls_and_keeps_its_history(
    server: PerTokenUsage, tmp_path: Path
) -> None:
    clock, accounts, service, turns = await home_and_work_polled(server, tmp_path)
    await service.remove_account("Work")
    assert list(service.states) == ["Home"]
    for _ in range(3):  # t0+6, +9, +12: Home at 6 and 12, Work never again
        clock.advance(INTERVAL.total_seconds() / 2)
        service.nudge()
        await settle()
    assert server.calls == [token("Home"), token("Work"), token("Home"), token("Home")]
    await service.stop()
    work = UsageRepo.open(tmp_path / "db.sqlite3").for_account("Work")
    assert work.latest_snapshot() is not None


@pytest.mark.qt_loop
async def test_the_app_follows_the_accounts_file(server: PerTokenUsage, tmp_path: Path) -> None:
    from trayapp.features.accounts import apply
    from trayapp.store.accounts_repo import AccountsRepo

    clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
    accounts = folders(tmp_path, ["Home", "Work"], server, [10.0, 50.0])
    service = build(server, accounts[:1], tmp_path / "db.sqlite3", clock)
    repo = AccountsRepo(tmp_path / "accounts.json", default_dir=accounts[0].config_dir)
    repo.rename("default", "Home")  # the file names the default account as the service does
    current = repo.load()
    repo.add("Work", accounts[1].config_dir)
    current = await apply(service, repo.load(), current)
    assert list(service.engines) == ["Home", "Work"]
    assert service.engines["Work"].repo.account == "Work"
    repo.rename("Work", "Job")
    repo.rename("Home", "Personal")
    current = await apply(service, repo.load(), current)
    assert list(service.engines) == ["Personal", "Job"]
    assert service.engines["Job"].repo.account == "Work"  # its history follows the rename
    repo.remove("Job")
    current = await apply(service, repo.load(), current)
    assert list(service.engines) == ["Personal"]
    await service.stop()
