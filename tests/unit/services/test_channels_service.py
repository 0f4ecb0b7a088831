"""The channels service: secrets into the keyring (validated, never echoed), Telegram chat linking
against a loopback Bot API, "Send test" through a real dispatcher and outbox. No widgets."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import keyring
import pytest

from tests.helpers.fake_keyring import MemoryKeyring
from tests.helpers.loopback_servers import TelegramServer
from trayapp import settings as st
from trayapp.channels.dispatcher import Dispatcher
from trayapp.channels.quips import QuipWriter
from trayapp.channels.telegram import TelegramChannel
from trayapp.platform.secrets import SecretStatus, SecretStore
from trayapp.services.channels_service import ChannelsService, LinkOutcome, SendOutcome
from trayapp.store.outbox_repo import Outbox

TOKEN = "123456:TEST-token_abcdef"


class Recorder:
    """Every signal the service emitted, in order, as (signal name, args)."""

    def __init__(self, service: ChannelsService) -> None:
        self.events: list[tuple[str, tuple[Any, ...]]] = []
        for name in (
            "secret_checked",
            "secret_failed",
            "secret_changed",
            "chat_linked",
            "settings_changed",
            "test_finished",
        ):
            getattr(service, name).connect(self._recorder(name))

    def _recorder(self, name: str) -> Callable[..., None]:
        return lambda *args: self.events.append((name, args))

    def named(self, name: str) -> list[tuple[Any, ...]]:
        return [args for n, args in self.events if n == name]


@pytest.fixture
def outboxes() -> Any:
    made: list[Outbox] = []
    yield made
    for box in made:
        box.close()


@pytest.fixture
def service(qapp, store: SecretStore, tmp_path: Path, outboxes: list[Outbox]) -> ChannelsService:
    cfg = st.load()

    def factory() -> Dispatcher:
        box = Outbox(tmp_path / "outbox.sqlite3")
        outboxes.append(box)
        writer = QuipWriter(cfg.get, store)
        return Dispatcher([TelegramChannel(box, cfg.get, store, quips=writer)], writer, cfg.get)

    return ChannelsService(cfg, store, factory)


async def test_a_valid_secret_is_stored_and_announced_by_name_only(
    service: ChannelsService, keyring_backend: MemoryKeyring, hermetic_env: Path
) -> None:
    seen = Recorder(service)
    assert await service.store_secret("telegram-bot-token", f"  {TOKEN}\n") is True
    assert keyring_backend.values == {("claude-watch", "telegram-bot-token"): TOKEN}
    assert seen.named("secret_changed") == [("telegram-bot-token",)]
    assert seen.named("secret_checked") == [
        ("telegram-bot-token", SecretStatus("telegram-bot-token", True, "keyring"))
    ]
    assert TOKEN not in repr(seen.events)  # no signal carries the value
    for p in hermetic_env.rglob("*"):
        if p.is_file():
            assert TOKEN.encode() not in p.read_bytes(), p

    assert await service.remove_secret("telegram-bot-token") is True
    assert keyring_backend.values == {}
    assert await service.remove_secret("telegram-bot-token") is False  # nothing left to remove
    assert seen.named("secret_changed") == [("telegram-bot-token",)] * 2
    assert seen.named("secret_checked")[-1] == (
        "telegram-bot-token",
        SecretStatus("telegram-bot-token", False, ""),
    )


@pytest.mark.parametrize(
    ("name", "value", "why"),
    [
        (
            "slack-webhook-url",
            "not-a-url",
            "Not saved: a Slack webhook URL starts with https://hooks.slack.com",
        ),
        (
            "anthropic-api-key",
            "sk-ant-oat01-abcdef",
            "Not saved: that is a Claude subscription (OAuth) token",
        ),
        ("telegram-bot-token", "two words:x", "Not saved: the value contains spaces"),
        ("telegram-bot-token", "   ", "Nothing to save: paste the value first."),
    ],
)
async def test_a_value_that_cannot_be_right_is_refused_without_quoting_it(
    service: ChannelsService, keyring_backend: MemoryKeyring, name: str, value: str, why: str
) -> None:
    seen = Recorder(service)
    assert await service.store_secret(name, value) is False
    assert keyring_backend.calls == 0
    assert keyring_backend.values == {}
    ((failed_name, message),) = seen.named("secret_failed")
    assert failed_name == name
    assert message.startswith(why)
    assert value.strip() == "" or value not in message
    assert seen.named("secret_changed") == []


async def test_no_keyring_is_a_message_not_a_crash(
    qapp, monkeypatch: pytest.MonkeyPatch, hermetic_env: Path
) -> None:
    from keyring.backends import fail

    monkeypatch.setattr(keyring, "get_keyring", lambda: fail.Keyring())
    service = ChannelsService(st.load(), SecretStore(timeout=2.0))
    seen = Recorder(service)
    assert await service.store_secret("telegram-bot-token", TOKEN) is False
    ((_, message),) = seen.named("secret_failed")
    assert message.startswith("Not saved: no OS keyring available")
    assert "gnome-keyring" in message
    status = await service.check("slack-webhook-url")
    assert not status.is_set
    assert status.origin.startswith("keyring unavailable")


async def test_link_chat_saves_the_chat_to_the_settings_file(
    service: ChannelsService, store: SecretStore, telegram: TelegramServer
) -> None:
    seen = Recorder(service)
    assert await service.link_chat() == LinkOutcome("Store the bot token first.")
    store.set("telegram-bot-token", TOKEN)
    assert (await service.link_chat()).message.startswith("No message found")
    telegram.add_private_message(4242, first_name="Ada")
    outcome = await service.link_chat()
    assert outcome == LinkOutcome("Linked to Ada (chat 4242).", "4242")
    saved = st.load()  # what a restart (or `config get`) sees
    assert saved.get("telegram.chat_id") == "4242"
    assert saved.get("telegram.enabled") is True
    assert service.chat_id() == "4242"
    assert seen.named("settings_changed") == [(["telegram.chat_id", "telegram.enabled"],)]
    assert [args[0] for args in seen.named("chat_linked")] == [
        LinkOutcome("Store the bot token first."),
        LinkOutcome("No message found: send any message to your bot, then try again."),
        outcome,
    ]
    assert any(r["path"] == f"/bot{TOKEN}/getUpdates" for r in telegram.requests)


async def test_link_chat_with_a_rejected_token(
    service: ChannelsService, store: SecretStore, telegram: TelegramServer
) -> None:
    store.set("telegram-bot-token", "999:not-the-bot")
    outcome = await service.link_chat()
    assert outcome.chat_id is None
    assert outcome.message == "Could not link: the bot token was rejected (check it with @BotFather)."
    assert "not-the-bot" not in outcome.message
    assert st.load().get("telegram.chat_id") in ("", None)


async def test_send_test_delivers_the_sample_alert(
    service: ChannelsService, store: SecretStore, telegram: TelegramServer
) -> None:
    store.set("telegram-bot-token", TOKEN)
    service.settings.update({"telegram.chat_id": "4242", "telegram.enabled": True})
    seen = Recorder(service)
    outcome = await service.send_test("telegram")
    assert outcome.result is not None
    assert outcome.missing == ()
    assert outcome.error is None
    (delivery,) = outcome.result.deliveries
    assert delivery.channel == "telegram"
    assert delivery.ok
    assert outcome.result.quip is not None  # canned here: no API key
    assert len(telegram.messages) == 1
    assert "5-hour window at 90%" in telegram.messages[0]["text"]
    assert seen.named("test_finished") == [(outcome,)]


async def test_send_test_to_channels_that_are_off_or_absent(
    service: ChannelsService, telegram: TelegramServer
) -> None:
    assert await service.send_test("all") == SendOutcome(None)  # telegram is off: nothing to send
    assert await service.send_test("slack") == SendOutcome(None, ("slack",))  # not in this dispatcher
    assert telegram.messages == []


async def test_a_failing_dispatcher_still_answers(qapp, store: SecretStore) -> None:
    def broken() -> Dispatcher:
        raise OSError("outbox unreadable")

    service = ChannelsService(st.load(), store, broken)
    seen = Recorder(service)
    outcome = await service.send_test("all")
    assert outcome == SendOutcome(None, error="internal error (OSError)")
    assert seen.named("test_finished") == [(outcome,)]  # the page's button comes back


async def test_run_keeps_the_work_in_the_service_group(service: ChannelsService) -> None:
    task = service.run(service.check_all())
    assert task is not None
    assert not task.done()
    assert await service.wait_idle(5) is True
    assert task.done()


def test_run_without_an_event_loop_is_harmless(
    service: ChannelsService, keyring_backend: MemoryKeyring
) -> None:
    # filterwarnings=error: a coroutine created and never awaited would fail this test.
    assert service.run(service.check_all()) is None
    assert keyring_backend.calls == 0
