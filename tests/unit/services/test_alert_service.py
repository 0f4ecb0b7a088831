"""The alert service (policy + persisted memory + pause) delivering through the dispatcher, and
the desktop channel.

The service tests run the path production takes: ``AlertService`` -> ``Dispatcher`` -> the real
channels. Telegram and Slack talk HTTP to loopback servers through a real SQLite outbox, the quip
writer runs without an API key (canned quips), and the desktop channel is the real one with
``FakeNotifier`` standing in for the D-Bus server (dunst does that in the integration tests).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from desktop_notifier import Capability, Urgency

from tests.helpers.fake_keyring import MemoryKeyring
from tests.helpers.fake_notifier import FakeNotifier
from tests.helpers.loopback_servers import SlackServer, TelegramServer
from tests.helpers.states import NOW, account_state, window_state
from trayapp import settings as st
from trayapp.channels.base import Channel, Delivery
from trayapp.channels.desktop import APP_NAME, DesktopChannel, default_icon_path
from trayapp.channels.dispatcher import Dispatcher
from trayapp.channels.outbox import Outbox
from trayapp.channels.quips import QuipWriter
from trayapp.channels.slack import SlackChannel
from trayapp.channels.sound import SoundChannel
from trayapp.channels.telegram import TelegramChannel
from trayapp.core.clock import FakeClock
from trayapp.core.models import Alert
from trayapp.platform.secrets import SecretStore
from trayapp.services.alerts import AlertService, AlertStore, alerts_file, config_from_settings


def five(util, clock):
    return account_state(
        window_state("five_hour", util, NOW + timedelta(hours=2) - clock.now(), clock.now()), now=clock.now()
    )


@pytest.fixture
def telegram(monkeypatch: pytest.MonkeyPatch) -> Iterator[TelegramServer]:
    server = TelegramServer().start()
    monkeypatch.setenv("CLAUDE_WATCH_TELEGRAM_API_BASE", server.base_url)
    yield server
    server.stop()


@pytest.fixture
def slack() -> Iterator[SlackServer]:
    server = SlackServer().start()
    yield server
    server.stop()


@dataclass
class Rig:
    """One process's worth of alert delivery: the service, its dispatcher, what the desktop saw."""

    service: AlertService
    dispatcher: Dispatcher
    notifier: FakeNotifier


@pytest.fixture
def rig(telegram: TelegramServer, slack: SlackServer, tmp_path: Path) -> Iterator[Callable[..., Rig]]:
    """Builds the production channel set (as ``dispatcher.build_default`` does, on an injected
    clock) behind an ``AlertService``; calling it again is a restart on the same state dir and
    outbox file. ``extra`` channels are appended after the real ones."""
    cfg = st.load()
    cfg.set("telegram.enabled", True)
    cfg.set("telegram.chat_id", "4242")
    cfg.set("slack.enabled", True)  # sound stays off: a real channel the dispatcher must skip
    secrets = SecretStore(backend=MemoryKeyring(), timeout=2.0)
    secrets.set("telegram-bot-token", telegram.token)
    secrets.set("slack-webhook-url", slack.webhook_url)
    outboxes: list[Outbox] = []

    def make(clock: FakeClock, extra: tuple[Channel, ...] = ()) -> Rig:
        outbox = Outbox(tmp_path / "outbox.sqlite3", clock=clock)
        outboxes.append(outbox)
        writer = QuipWriter(cfg.get, secrets, now=clock.now)
        notifier = FakeNotifier(frozenset({Capability.BUTTONS, Capability.TITLE}))
        channels: list[Channel] = [
            DesktopChannel(notifier=notifier, on_open=lambda: None, on_snooze=lambda: None),
            SoundChannel(cfg.get),
            TelegramChannel(outbox, cfg.get, secrets, clock=clock, quips=writer),
            SlackChannel(outbox, cfg.get, secrets, clock=clock, quips=writer),
            *extra,
        ]
        dispatcher = Dispatcher(channels, writer, cfg.get)
        return Rig(AlertService(cfg.get, dispatcher, clock), dispatcher, notifier)

    yield make
    for outbox in outboxes:
        outbox.close()


def delivery_log(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The per-channel outcomes the dispatcher logged, as "channel: detail"."""
    return [
        f"{r.args[1]}: {r.args[2]}"
        for r in caplog.records
        if r.name == "trayapp.channels.dispatcher" and r.msg.startswith("alert %s via")
    ]


async def until(condition: Callable[[], object], timeout: float = 5.0) -> bool:
    """Let the loop run until ``condition()`` is true (a deadline for a wait, not a speed claim)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


async def test_crossing_reaches_every_enabled_channel_once_and_a_restart_does_not_repeat(
    rig: Callable[..., Rig], telegram: TelegramServer, slack: SlackServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="trayapp")
    clock = FakeClock(NOW)
    first = rig(clock)
    fired = first.service.on_state(five(77, clock))
    await first.service.drain()
    assert [a.threshold for a in fired] == [75]
    assert [n["title"] for n in first.notifier.sent] == ["5-hour at 77%"]
    assert len(telegram.messages) == 1
    assert "5-hour at 77%" in telegram.messages[0]["text"]
    assert len(slack.messages) == 1
    assert "5-hour at 77%" in slack.messages[0]["text"]
    assert sorted(delivery_log(caplog)) == ["desktop: notification server", "slack: sent", "telegram: sent"]
    saved = json.loads(alerts_file().read_text())
    assert any(k.endswith(":t75") for k in saved["fired"])
    # A new process with the same state dir: no repeat on any channel.
    clock.advance(300)
    again = rig(clock)
    assert again.service.on_state(five(78, clock)) == []
    await again.service.drain()
    assert again.notifier.sent == []
    assert len(telegram.messages) == 1
    assert len(slack.messages) == 1


async def test_a_hanging_remote_channel_never_delays_the_desktop(
    rig: Callable[..., Rig], telegram: TelegramServer
) -> None:
    clock = FakeClock(NOW)
    r = rig(clock)
    # Every request to the Telegram server takes its lock first: holding it, Telegram hangs.
    with telegram.lock:
        r.service.on_state(five(95, clock))
        assert await until(lambda: r.notifier.sent), "the desktop waited for Telegram"
        assert telegram.messages == []
    await r.service.drain()
    assert len(r.notifier.sent) == 1
    assert len(telegram.messages) == 1


class Broken:
    """A channel that breaks its promise not to raise (no real channel does, on purpose)."""

    name = "broken"

    def enabled(self) -> bool:
        return True

    async def send(self, alert: Alert, quip: str | None = None) -> Delivery:
        raise RuntimeError("boom")


async def test_a_raising_channel_is_contained(
    rig: Callable[..., Rig], telegram: TelegramServer, slack: SlackServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="trayapp")
    clock = FakeClock(NOW)
    r = rig(clock, extra=(Broken(),))
    r.service.on_state(five(60, clock))
    await r.service.drain()
    assert len(r.notifier.sent) == 1
    assert len(telegram.messages) == 1
    assert len(slack.messages) == 1
    assert "broken: internal error: RuntimeError" in delivery_log(caplog)
    assert not [rec for rec in caplog.records if rec.getMessage() == "alert task failed"]


async def test_pause_persists_holds_every_channel_and_announces_its_end(
    rig: Callable[..., Rig], telegram: TelegramServer, slack: SlackServer
) -> None:
    clock = FakeClock(NOW)
    first = rig(clock)
    changes: list[object] = []
    first.service.paused_changed.connect(changes.append)
    first.service.pause(NOW + timedelta(hours=1))
    assert first.service.on_state(five(80, clock)) == []
    await first.service.drain()
    assert first.notifier.sent == []
    assert telegram.messages == []
    assert slack.messages == []
    restarted = rig(clock)
    restarted.service.paused_changed.connect(changes.append)
    assert restarted.service.paused_until == NOW + timedelta(hours=1)
    clock.advance(3700)
    assert [a.threshold for a in restarted.service.on_state(five(81, clock))] == [75]
    assert restarted.service.paused_until is None
    assert changes == [NOW + timedelta(hours=1), None]
    await restarted.service.drain()
    assert len(restarted.notifier.sent) == 1
    assert len(telegram.messages) == 1
    assert len(slack.messages) == 1


def test_corrupt_memory_file_is_set_aside(tmp_path) -> None:
    path = tmp_path / "alerts.json"
    path.write_text("{not json")
    memory, paused = AlertStore(path).load()
    assert memory.fired == {}
    assert paused is None
    assert (tmp_path / "alerts.json.bad").exists()


def test_config_from_settings() -> None:
    cfg = st.load()
    cfg.set("alerts.quiet_hours", "22:00-07:00")
    cfg.set("alerts.weekly_thresholds", [80])
    pc = config_from_settings(cfg.get, None)
    assert pc.quiet_hours is not None
    assert pc.weekly_thresholds == (80,)
    assert pc.five_hour_thresholds == (50, 75, 90, 100)


# ----- desktop channel


def alert(critical=False):
    from trayapp.core.alert_policy import PolicyConfig, PolicyMemory, evaluate

    alerts, _ = evaluate(
        account_state(window_state("five_hour", 95.0 if critical else 60.0)),
        PolicyConfig(predictive=False),
        PolicyMemory(),
        NOW,
    )
    return alerts[0]


async def test_desktop_sends_with_buttons_and_urgency() -> None:
    fake = FakeNotifier(frozenset({Capability.BUTTONS, Capability.TITLE}))
    opened = []
    ch = DesktopChannel(notifier=fake, on_open=lambda: opened.append(1), on_snooze=lambda: None)
    d = await ch.send(alert(critical=True), quip="Time for a coffee.")
    assert d.ok
    assert d.detail == "notification server"
    sent = fake.sent[0]
    assert sent["urgency"] is Urgency.Critical
    assert [b.title for b in sent["buttons"]] == ["Open dashboard", "Snooze 1 h"]
    assert sent["message"].endswith("Time for a coffee.")
    sent["buttons"][0].on_pressed()
    assert opened == [1]


async def test_desktop_without_button_support_sends_plain() -> None:
    fake = FakeNotifier(frozenset({Capability.TITLE}))
    ch = DesktopChannel(notifier=fake, on_open=lambda: None, on_snooze=lambda: None)
    await ch.send(alert())
    assert fake.sent[0]["buttons"] == []
    assert fake.sent[0]["urgency"] is Urgency.Normal


@pytest.mark.parametrize(
    "notifier", [FakeNotifier(None), FakeNotifier(frozenset(), send_error=OSError("bus"))]
)
async def test_no_server_or_failure_falls_back_to_the_tray(notifier) -> None:
    shown = []
    ch = DesktopChannel(notifier=notifier, fallback=lambda t, b, c: shown.append((t, c)))
    d = await ch.send(alert())
    assert d.ok
    assert d.detail.startswith("tray fallback")
    assert shown == [("5-hour at 60%", False)]


async def test_no_fallback_reports_failure_without_raising() -> None:
    d = await DesktopChannel(notifier=FakeNotifier(None)).send(alert())
    assert not d.ok
    assert "no notification server" in d.detail


def test_real_notifier_gets_our_name_and_icon() -> None:
    ch = DesktopChannel()
    notifier = ch._get_notifier()
    assert notifier.app_name == APP_NAME == "Claude Watch"
    assert notifier.app_icon is not None
    assert notifier.app_icon.path == default_icon_path()
    assert default_icon_path().is_file()
