"""Alerts with several accounts: each account evaluated with its own memory, titled and keyed by
its label; one account keeps today's titles and keys, and nothing is announced twice when a
second account is added or the app restarts."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tests.helpers.login_support import Recorder
from tests.helpers.states import NOW, account_state, window_state
from trayapp import settings as st
from trayapp.channels.dispatcher import Dispatcher
from trayapp.channels.quips import QuipWriter
from trayapp.core.clock import FakeClock
from trayapp.core.models import AccountState
from trayapp.services.alerts import AlertService, AlertStore


def five(util: float) -> AccountState:
    return account_state(window_state("five_hour", util, timedelta(hours=2), NOW), now=NOW)


def service(tmp_path: Path) -> tuple[AlertService, Recorder]:
    recorder = Recorder()
    dispatcher = Dispatcher([recorder], QuipWriter(lambda key: None), lambda key: None)
    cfg = st.load()
    alerts = AlertService(cfg.get, dispatcher, FakeClock(NOW), AlertStore(tmp_path / "alerts.json"))
    return alerts, recorder


@pytest.mark.qt_loop
async def test_titles_and_memories_per_account(tmp_path: Path) -> None:
    alerts, _ = service(tmp_path)
    # One account: today's titles and keys.
    first = alerts.on_state(five(91))
    assert [a.title for a in first] == ["5-hour at 91%"]
    default_key = first[0].key
    states = {"Personal": ("default", five(91)), "Work": ("Work", five(92))}
    alerts.follow_accounts(lambda: states)
    fired = alerts.on_state(five(91))
    # Personal's 90% was already announced (same memory and key): only Work's comes.
    assert [(a.title, a.key.startswith("account:Work:")) for a in fired] == [("Work: 5-hour at 92%", True)]
    assert alerts.on_state(five(91)) == []  # evaluated again: nothing twice
    states["Personal"] = ("default", five(100))
    fired = alerts.on_state(five(100))
    assert [a.title for a in fired] == ["Personal: 5-hour: limit reached"]
    assert not fired[0].key.startswith("account:")
    assert fired[0].key.split(":")[0] == default_key.split(":")[0]
    await alerts.drain(5)
    # A restart remembers every account's alerts.
    again, _ = service(tmp_path)
    again.follow_accounts(lambda: states)
    assert again.on_state(five(100)) == []
    assert set(again.account_memory) == {"Work"}
    await again.drain(5)


@pytest.mark.qt_loop
async def test_titles_name_the_account_before_the_others_first_reading(tmp_path: Path) -> None:
    alerts, _ = service(tmp_path)
    alerts.follow_accounts(lambda: {"Personal": ("default", five(91))}, lambda: True)
    assert [a.title for a in alerts.on_state(five(91))] == ["Personal: 5-hour at 91%"]
    await alerts.drain(5)
