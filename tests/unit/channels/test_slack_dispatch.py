"""Slack webhook channel, and the dispatcher's ordering: desktop instantly, one quip, then remote."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from tests.helpers.fixtures_channels import SettingsDict, Sleeper, make_alert
from tests.helpers.loopback_servers import AnthropicServer, SlackServer, TelegramServer
from trayapp.channels import slack as sl
from trayapp.channels.base import Delivery
from trayapp.channels.dispatcher import Dispatcher
from trayapp.channels.outbox import Outbox
from trayapp.channels.quips import QuipWriter
from trayapp.channels.telegram import TelegramChannel
from trayapp.core.clock import FakeClock
from trayapp.core.models import Alert
from trayapp.platform.secrets import SecretStore


@pytest.fixture
def outbox(clock: FakeClock, tmp_path):
    box = Outbox(tmp_path / "outbox.sqlite3", clock=clock)
    yield box
    box.close()


def test_retry_after_parsing() -> None:
    now = datetime(2026, 8, 10, 12, 0, tzinfo=UTC)
    assert sl.parse_retry_after("12", now) == 12
    assert sl.parse_retry_after("Mon, 10 Aug 2026 12:01:30 GMT", now) == 90
    assert sl.parse_retry_after("garbage", now) is None
    assert sl.parse_retry_after(None, now) is None


@pytest.mark.parametrize(
    ("status", "body", "ok", "permanent"),
    [
        (200, "ok", True, False),
        (400, "invalid_payload", False, True),
        (403, "action_prohibited", False, True),
        (404, "no_service", False, True),
        (410, "channel_is_archived", False, True),
        (500, "", False, False),
        (503, "", False, False),
    ],
)
def test_interpret(status: int, body: str, ok: bool, permanent: bool) -> None:
    a = sl.interpret(status, body, None)
    assert (a.ok, a.permanent) == (ok, permanent)


def test_escape() -> None:
    assert sl.escape("a < b & c > d") == "a &lt; b &amp; c &gt; d"


async def test_slack_delivers_and_honours_retry_after(
    slack: SlackServer,
    store: SecretStore,
    settings: SettingsDict,
    outbox: Outbox,
    clock: FakeClock,
    sleeper: Sleeper,
) -> None:
    store.set("slack-webhook-url", slack.webhook_url)
    slack.script.append((429, b"rate_limited", {"Retry-After": "4"}))
    ch = sl.SlackChannel(outbox, settings.get, store, clock=clock, sleep=sleeper)
    d = await ch.send(make_alert(clock), "Quip <with> & symbols")
    assert d.ok, d
    assert sleeper.calls == [4]
    assert len(slack.messages) == 1
    assert slack.messages[0]["text"].startswith("Quip &lt;with&gt; &amp; symbols")


async def test_slack_revoked_hook_is_permanent_and_url_is_not_shown(
    slack: SlackServer, store: SecretStore, settings: SettingsDict, outbox: Outbox, clock, sleeper
) -> None:
    store.set("slack-webhook-url", slack.base_url + "/services/T000/B000/revoked")
    d = await sl.SlackChannel(outbox, settings.get, store, clock=clock, sleep=sleeper).send(make_alert(clock))
    assert not d.ok
    assert not d.queued
    assert "no_service" in d.detail
    assert "revoked" not in d.detail


class SlowChannel:
    """A hand-written channel recording when it was called and with which quip."""

    def __init__(self, name: str, wants_quip: bool, log: list[tuple[str, str | None, float]]) -> None:
        self.name = name
        self.wants_quip = wants_quip
        self.log = log

    def enabled(self) -> bool:
        return True

    async def send(self, alert: Alert, quip: str | None = None) -> Delivery:
        self.log.append((self.name, quip, asyncio.get_running_loop().time()))
        return Delivery(self.name, True, "ok")


class SlowQuips(QuipWriter):
    def __init__(self, settings: SettingsDict, store: SecretStore, release: asyncio.Event) -> None:
        super().__init__(settings.get, store)
        self.release = release
        self.calls = 0

    async def _write(self, alert: Alert):
        self.calls += 1
        await self.release.wait()
        return await super()._write(alert)


async def test_desktop_goes_out_before_the_quip_is_written(
    settings: SettingsDict, store: SecretStore, clock: FakeClock
) -> None:
    calls: list[tuple[str, str | None, float]] = []
    release = asyncio.Event()
    quips = SlowQuips(settings, store, release)
    d = Dispatcher(
        [
            SlowChannel("desktop", False, calls),
            SlowChannel("telegram", True, calls),
            SlowChannel("slack", True, calls),
        ],
        quips,
        settings.get,
    )
    task = asyncio.ensure_future(d.dispatch(make_alert(clock)))
    for _ in range(20):
        await asyncio.sleep(0)
    assert [c[0] for c in calls] == ["desktop"]
    assert calls[0][1] is None
    release.set()
    result = await task
    assert result.ok
    assert quips.calls == 1
    assert sorted(c[0] for c in calls[1:]) == ["slack", "telegram"]
    assert calls[1][1] == calls[2][1] == result.quip.text


async def test_desktop_quips_setting_and_only_filter(
    settings: SettingsDict, store: SecretStore, clock: FakeClock
) -> None:
    settings["alerts.desktop_quips"] = True
    calls: list[tuple[str, str | None, float]] = []
    d = Dispatcher(
        [SlowChannel("desktop", False, calls), SlowChannel("telegram", True, calls)],
        QuipWriter(settings.get, store),
        settings.get,
    )
    result = await d.dispatch(make_alert(clock), only=["desktop"])
    assert [c[0] for c in calls] == ["desktop"]
    assert calls[0][1] == result.quip.text


async def test_remote_channels_share_one_quip_when_sent_directly(
    telegram: TelegramServer,
    slack: SlackServer,
    anthropic_server: AnthropicServer,
    settings: SettingsDict,
    store: SecretStore,
    outbox: Outbox,
    clock: FakeClock,
    sleeper: Sleeper,
) -> None:
    """Remote channels sent to directly with quip=None (the app always goes through the dispatcher,
    which hands them its quip) write the quip themselves, sharing one Claude call."""
    store.set("anthropic-api-key", anthropic_server.api_key)
    store.set("telegram-bot-token", telegram.token)
    store.set("slack-webhook-url", slack.webhook_url)
    settings["telegram.chat_id"] = "4242"
    writer = QuipWriter(settings.get, store, now=clock.now)
    tg = TelegramChannel(outbox, settings.get, store, clock=clock, sleep=sleeper, quips=writer)
    sk = sl.SlackChannel(outbox, settings.get, store, clock=clock, sleep=sleeper, quips=writer)
    alert = make_alert(clock)
    results = await asyncio.gather(tg.send(alert), sk.send(alert))
    assert all(r.ok for r in results)
    assert len(anthropic_server.calls) == 1
    assert telegram.messages[0]["text"].split("\n")[0] == slack.messages[0]["text"].split("\n")[0]


async def test_flusher_drains_the_queue(
    telegram: TelegramServer, settings: SettingsDict, store: SecretStore, outbox: Outbox, clock, sleeper
) -> None:
    store.set("telegram-bot-token", telegram.token)
    settings["telegram.chat_id"] = "4242"
    port = telegram.port
    telegram.stop()
    tg = TelegramChannel(outbox, settings.get, store, clock=clock, sleep=sleeper)
    assert (await tg.send(make_alert(clock), "q")).queued
    telegram.start(port)
    clock.advance(timedelta(minutes=5).total_seconds())
    d = Dispatcher([tg], QuipWriter(settings.get, store), settings.get)
    task = d.run_flusher(interval=0.05)
    for _ in range(100):
        if telegram.messages:
            break
        await asyncio.sleep(0.05)
    d.stop_flusher()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(telegram.messages) == 1


def test_env_overrides_turn_remote_channels_on(
    settings: SettingsDict, store: SecretStore, outbox: Outbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    tg = TelegramChannel(outbox, settings.get, store)
    sk = sl.SlackChannel(outbox, settings.get, store)
    assert not tg.enabled()
    assert not sk.enabled()
    monkeypatch.setenv("CLAUDE_WATCH_TELEGRAM_BOT_TOKEN", "1:x")
    assert not tg.enabled()  # a token alone is not enough: no chat to send to
    monkeypatch.setenv("CLAUDE_WATCH_TELEGRAM_CHAT_ID", "4242")
    monkeypatch.setenv("CLAUDE_WATCH_SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/T/B/X")
    assert tg.enabled()
    assert sk.enabled()
