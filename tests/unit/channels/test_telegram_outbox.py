"""Telegram through the persisted outbox, against a loopback Bot API server."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from tests.helpers.fixtures_channels import SettingsDict, Sleeper, make_alert
from tests.helpers.loopback_servers import AnthropicServer, TelegramServer
from trayapp.channels.dispatcher import Dispatcher
from trayapp.channels.quips import QuipWriter
from trayapp.channels.telegram import TelegramChannel
from trayapp.core.clock import FakeClock
from trayapp.platform.secrets import SecretStore
from trayapp.store.outbox_repo import Outbox

TOKEN = "123456:TEST-token_abcdef"


@pytest.fixture
def configured(store: SecretStore, settings: SettingsDict) -> SettingsDict:
    store.set("telegram-bot-token", TOKEN)
    settings["telegram.enabled"] = True
    settings["telegram.chat_id"] = "4242"
    return settings


@pytest.fixture
def outbox(clock: FakeClock, tmp_path) -> Outbox:
    box = Outbox(tmp_path / "outbox.sqlite3", clock=clock)
    yield box
    box.close()


def channel(outbox: Outbox, settings: SettingsDict, store: SecretStore, clock, sleeper) -> TelegramChannel:
    return TelegramChannel(outbox, settings.get, store, clock=clock, sleep=sleeper)


async def test_crossing_sends_exactly_one_message_with_the_quip(
    telegram: TelegramServer,
    anthropic_server: AnthropicServer,
    configured: SettingsDict,
    store: SecretStore,
    outbox: Outbox,
    clock: FakeClock,
    sleeper: Sleeper,
) -> None:
    store.set("anthropic-api-key", anthropic_server.api_key)
    anthropic_server.reply = "90% already? Claude admires your commitment."
    tg = channel(outbox, configured, store, clock, sleeper)
    dispatcher = Dispatcher([tg], QuipWriter(configured.get, store, now=clock.now), configured.get)
    alert = make_alert(clock)
    first = await dispatcher.dispatch(alert)
    again = await dispatcher.dispatch(alert)  # the same crossing seen twice (restart, re-poll)
    assert first.ok
    assert first.quip is not None
    assert first.quip.source == "claude"
    assert again.by_channel()["telegram"].detail == "already sent"
    assert len(telegram.messages) == 1
    text = telegram.messages[0]["text"]
    assert text.startswith("90% already? Claude admires your commitment.")
    assert "5-hour window at 90%" in text
    assert telegram.messages[0]["chat_id"] == 4242
    assert len(anthropic_server.calls) == 1  # one LLM call per crossing


async def test_llm_down_gives_a_canned_quip(
    telegram: TelegramServer,
    anthropic_server: AnthropicServer,
    configured: SettingsDict,
    store: SecretStore,
    outbox: Outbox,
    clock: FakeClock,
    sleeper: Sleeper,
) -> None:
    store.set("anthropic-api-key", anthropic_server.api_key)
    anthropic_server.stop()  # connection refused
    tg = channel(outbox, configured, store, clock, sleeper)
    dispatcher = Dispatcher([tg], QuipWriter(configured.get, store, now=clock.now), configured.get)
    result = await dispatcher.dispatch(make_alert(clock))
    assert result.ok
    assert result.quip is not None
    assert result.quip.source == "canned"
    assert "unavailable" in result.quip.detail
    assert len(telegram.messages) == 1
    assert telegram.messages[0]["text"].startswith(result.quip.text)


async def test_429_retry_after_is_honoured(
    telegram: TelegramServer,
    configured: SettingsDict,
    store: SecretStore,
    outbox: Outbox,
    clock: FakeClock,
    sleeper: Sleeper,
) -> None:
    telegram.script.append(TelegramServer.error(429, "Too Many Requests: retry after 7", retry_after=7))
    tg = channel(outbox, configured, store, clock, sleeper)
    delivery = await tg.send(make_alert(clock), "quip")
    assert delivery.ok, delivery
    assert sleeper.calls == [7]
    send_calls = [r for r in telegram.requests if r["path"].endswith("/sendMessage")]
    assert len(send_calls) == 2
    assert len(telegram.messages) == 1


async def test_long_retry_after_waits_in_the_queue(
    telegram: TelegramServer,
    configured: SettingsDict,
    store: SecretStore,
    outbox: Outbox,
    clock: FakeClock,
    sleeper: Sleeper,
) -> None:
    telegram.script.append(TelegramServer.error(429, "Too Many Requests: retry after 300", retry_after=300))
    tg = channel(outbox, configured, store, clock, sleeper)
    delivery = await tg.send(make_alert(clock), "quip")
    assert not delivery.ok
    assert delivery.queued
    assert "rate limit" in delivery.detail
    assert sleeper.calls == []
    clock.advance(299)
    assert await tg.flush() == 0
    clock.advance(2)
    assert await tg.flush() == 1
    assert len(telegram.messages) == 1
    assert "delivered late" in telegram.messages[0]["text"]


async def test_offline_alert_is_delivered_once_after_reconnecting(
    telegram: TelegramServer,
    configured: SettingsDict,
    store: SecretStore,
    outbox: Outbox,
    clock: FakeClock,
    sleeper: Sleeper,
) -> None:
    port = telegram.port
    telegram.stop()
    tg = channel(outbox, configured, store, clock, sleeper)
    alert = make_alert(clock)
    delivery = await tg.send(alert, "Offline quip")
    assert delivery.queued
    assert not delivery.ok
    assert "cannot reach Telegram" in delivery.detail
    clock.advance(600)
    assert await tg.flush() == 0  # still offline: backs off again
    telegram.start(port)
    clock.advance(3600)
    # A fresh channel object on the same file: the queue survived a restart.
    tg2 = channel(Outbox(outbox.path, clock=clock), configured, store, clock, sleeper)
    assert await tg2.flush() == 1
    assert await tg2.flush() == 0
    assert await tg.flush() == 0
    assert len(telegram.messages) == 1
    text = telegram.messages[0]["text"]
    local = alert.created_at.astimezone().strftime("%H:%M")
    assert text.startswith("Offline quip")
    assert f"raised at {local}" in text


async def test_server_errors_back_off_exponentially(
    telegram: TelegramServer,
    configured: SettingsDict,
    store: SecretStore,
    outbox: Outbox,
    clock: FakeClock,
    sleeper: Sleeper,
) -> None:
    for _ in range(3):
        telegram.script.append(TelegramServer.error(502, "Bad Gateway"))
    tg = channel(outbox, configured, store, clock, sleeper)
    alert = make_alert(clock)
    await tg.send(alert, "q")
    waits = []
    for _ in range(2):
        item = outbox.get("telegram", alert.key)
        assert item is not None
        assert item.state == "pending"
        wait = (item.next_attempt_at - clock.now()).total_seconds()
        waits.append(wait)
        clock.advance(wait + 1)
        await tg.flush()
    assert 25 <= waits[0] <= 35
    assert 50 <= waits[1] <= 70
    item = outbox.get("telegram", alert.key)
    clock.advance((item.next_attempt_at - clock.now()).total_seconds() + 1)
    assert await tg.flush() == 1
    assert len(telegram.messages) == 1


async def test_per_hour_cap_holds_messages_back(
    telegram: TelegramServer,
    configured: SettingsDict,
    store: SecretStore,
    outbox: Outbox,
    clock: FakeClock,
    sleeper: Sleeper,
) -> None:
    configured["channels.max_per_hour"] = 2
    tg = channel(outbox, configured, store, clock, sleeper)
    results = []
    for i in range(3):
        results.append(await tg.send(make_alert(clock, key=f"k{i}"), f"quip {i}"))
        clock.advance(60)
    assert [r.ok for r in results] == [True, True, False]
    assert results[2].queued
    assert "at most 2" in results[2].detail
    assert len(telegram.messages) == 2
    clock.advance(3600)
    assert await tg.flush() == 1
    assert [m["text"].split("\n")[0] for m in telegram.messages] == ["quip 0", "quip 1", "quip 2"]


async def test_unknown_chat_is_a_permanent_failure(
    telegram: TelegramServer,
    configured: SettingsDict,
    store: SecretStore,
    outbox: Outbox,
    clock: FakeClock,
    sleeper: Sleeper,
) -> None:
    configured["telegram.chat_id"] = "999"
    tg = channel(outbox, configured, store, clock, sleeper)
    d = await tg.send(make_alert(clock), "q")
    assert not d.ok
    assert not d.queued
    assert "telegram link" in d.detail
    clock.advance(7200)
    assert await tg.flush() == 0
    assert len([r for r in telegram.requests if r["path"].endswith("sendMessage")]) == 1


async def test_not_configured_is_reported_not_queued(
    telegram: TelegramServer, settings: SettingsDict, store: SecretStore, outbox: Outbox, clock, sleeper
) -> None:
    tg = channel(outbox, settings, store, clock, sleeper)
    d = await tg.send(make_alert(clock), "q")
    assert not d.ok
    assert "secrets set telegram-bot-token" in d.detail
    assert outbox.pending() == []


async def test_env_overrides_token_and_chat(
    telegram: TelegramServer,
    settings: SettingsDict,
    store: SecretStore,
    outbox: Outbox,
    clock: FakeClock,
    sleeper: Sleeper,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CLAUDE_WATCH_TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("CLAUDE_WATCH_TELEGRAM_CHAT_ID", "4242")
    tg = channel(outbox, settings, store, clock, sleeper)
    assert (await tg.send(make_alert(clock), "q")).ok
    assert len(telegram.messages) == 1


async def test_token_never_reaches_the_logs(
    telegram: TelegramServer,
    configured: SettingsDict,
    store: SecretStore,
    outbox: Outbox,
    clock: FakeClock,
    sleeper: Sleeper,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    tg = channel(outbox, configured, store, clock, sleeper)
    await tg.send(make_alert(clock, key="a"), "q")
    telegram.stop()
    await tg.send(make_alert(clock, key="b"), "q")
    assert any("HTTP Request" in r.getMessage() for r in caplog.records)  # httpx did log the URL...
    assert TOKEN not in caplog.text  # ...with the token redacted
    assert TOKEN.encode() not in outbox.path.read_bytes()


def test_queue_survives_and_dedupes(clock: FakeClock, tmp_path) -> None:
    box = Outbox(tmp_path / "o.sqlite3", clock=clock)
    assert box.enqueue("telegram", "k", clock.now(), "hello")
    assert not box.enqueue("telegram", "k", clock.now(), "hello again")
    assert box.enqueue("slack", "k", clock.now(), "hello")
    box.close()
    box = Outbox(tmp_path / "o.sqlite3", clock=clock)
    assert [i.text for i in box.pending("telegram")] == ["hello"]
    assert box.claim(box.pending("telegram")[0].id, clock.now())
    box.close()
    clock.advance(timedelta(minutes=11).total_seconds())
    box = Outbox(tmp_path / "o.sqlite3", clock=clock)  # a crashed sender's claim is released
    assert box.due("telegram", clock.now())[0].state == "pending"
    box.close()
