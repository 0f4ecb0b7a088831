"""Shared pieces for channel tests: an in-memory keyring store, settings as a dict, loopback
servers for Telegram, Slack and the Anthropic Messages API, a sample alert, a recording sleeper."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.helpers.fake_keyring import MemoryKeyring
from tests.helpers.loopback_servers import AnthropicServer, SlackServer, TelegramServer
from trayapp import settings as st
from trayapp.core.clock import FakeClock
from trayapp.core.models import Alert, AlertKind, Level
from trayapp.platform import secrets as sec


class SettingsDict(dict[str, Any]):
    """Schema defaults overlaid with test values; ``get`` is what channels take."""

    def get(self, key: str, default: Any = None) -> Any:
        if key in self:
            return self[key]
        return st.BY_KEY[key].default


@pytest.fixture
def settings() -> SettingsDict:
    return SettingsDict()


@pytest.fixture
def keyring_backend() -> MemoryKeyring:
    return MemoryKeyring()


@pytest.fixture
def store(keyring_backend: MemoryKeyring, monkeypatch: pytest.MonkeyPatch) -> sec.SecretStore:
    s = sec.SecretStore(backend=keyring_backend, timeout=2.0)
    monkeypatch.setattr(sec, "_default", s)
    return s


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 8, 10, 12, 0, tzinfo=UTC))


@pytest.fixture
def telegram(monkeypatch: pytest.MonkeyPatch) -> Iterator[TelegramServer]:
    server = TelegramServer()
    server.start()
    monkeypatch.setenv("CLAUDE_WATCH_TELEGRAM_API_BASE", server.base_url)
    yield server
    server.stop()


@pytest.fixture
def slack() -> Iterator[SlackServer]:
    server = SlackServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def anthropic_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[AnthropicServer]:
    server = AnthropicServer()
    server.start()
    monkeypatch.setenv("ANTHROPIC_BASE_URL", server.base_url)
    yield server
    server.stop()


class Sleeper:
    """Records requested sleeps and advances the fake clock instead of waiting."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        self.clock.advance(seconds)


@pytest.fixture
def sleeper(clock: FakeClock) -> Sleeper:
    return Sleeper(clock)


def make_alert(
    clock: FakeClock,
    key: str = "five_hour@2026-08-10T15:00:00+00:00:threshold:90",
    utilization: float = 90.0,
    kind: AlertKind = AlertKind.THRESHOLD,
    level: Level = Level.CRITICAL,
) -> Alert:
    now = clock.now()
    return Alert(
        key=key,
        kind=kind,
        window_id="five_hour",
        window_label="5-hour",
        utilization=utilization,
        level=level,
        created_at=now,
        title=f"5-hour window at {utilization:.0f}%",
        body="Resets in 3h 00m (15:00)",
        threshold=int(utilization),
        resets_at=now + timedelta(hours=3),
        burn_rate_per_hour=18.0,
    )


@pytest.fixture(autouse=True)
def _no_channel_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Variables the root hermetic_env does not clear yet, but that change channel behaviour."""
    for var in ("CLAUDE_WATCH_TELEGRAM_CHAT_ID", "CLAUDE_WATCH_TELEGRAM_API_BASE", "ANTHROPIC_AUTH_TOKEN"):
        monkeypatch.delenv(var, raising=False)
