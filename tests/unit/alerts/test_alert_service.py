"""The alert service (policy + persisted memory + channels) and the desktop channel."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest
from desktop_notifier import Capability, Urgency

from tests.helpers.fake_notifier import FakeNotifier
from tests.helpers.states import NOW, account_state, window_state
from trayapp import settings as st
from trayapp.channels.base import Delivery
from trayapp.channels.desktop import APP_NAME, DesktopChannel, default_icon_path
from trayapp.core.clock import FakeClock
from trayapp.services.alerts import AlertService, AlertStore, alerts_file, config_from_settings


class RecordingChannel:
    def __init__(self, name: str, delay: float = 0.0, on: bool = True) -> None:
        self.name, self.delay, self.on = name, delay, on
        self.sent: list[tuple[str, float]] = []

    def enabled(self) -> bool:
        return self.on

    async def send(self, alert, quip=None) -> Delivery:
        await asyncio.sleep(self.delay)
        self.sent.append((alert.key, asyncio.get_running_loop().time()))
        return Delivery(self.name, True)


def five(util, clock):
    return account_state(
        window_state("five_hour", util, NOW + timedelta(hours=2) - clock.now(), clock.now()), now=clock.now()
    )


def service(channels, clock=None):
    cfg = st.load()
    return AlertService(cfg.get, channels, clock or FakeClock(NOW))


async def test_crossing_goes_to_every_enabled_channel_once_and_survives_restart() -> None:
    clock = FakeClock(NOW)
    desk, slack, off = RecordingChannel("desktop"), RecordingChannel("slack"), RecordingChannel("x", on=False)
    svc = service([slack, desk, off], clock)
    fired = svc.on_state(five(77, clock))
    await svc.drain()
    assert [a.threshold for a in fired] == [75]
    assert len(desk.sent) == 1 and len(slack.sent) == 1 and off.sent == []
    saved = json.loads(alerts_file().read_text())
    assert any(k.endswith(":t75") for k in saved["fired"])
    # A new process with the same state dir: no repeat.
    clock.advance(300)
    again = service([desk], clock)
    assert again.on_state(five(78, clock)) == []
    await again.drain()
    assert len(desk.sent) == 1


async def test_slow_channel_never_delays_the_desktop() -> None:
    desk, slow = RecordingChannel("desktop"), RecordingChannel("telegram", delay=0.5)
    svc = service([slow, desk])
    loop = asyncio.get_running_loop()
    start = loop.time()
    svc.on_state(five(95, svc.clock))
    await asyncio.sleep(0.05)
    assert len(desk.sent) == 1 and desk.sent[0][1] - start < 0.3 and slow.sent == []
    await svc.drain()
    assert len(slow.sent) == 1


async def test_raising_channel_is_contained() -> None:
    class Broken(RecordingChannel):
        async def send(self, alert, quip=None):
            raise RuntimeError("boom")

    desk = RecordingChannel("desktop")
    svc = service([Broken("slack"), desk])
    svc.on_state(five(60, svc.clock))
    await svc.drain()
    assert len(desk.sent) == 1
    assert any(not d.ok and d.channel == "slack" for _, d in svc.history)


async def test_pause_persists_and_holds_everything() -> None:
    clock = FakeClock(NOW)
    desk = RecordingChannel("desktop")
    svc = service([desk], clock)
    svc.pause(NOW + timedelta(hours=1))
    assert svc.on_state(five(80, clock)) == []
    restarted = service([desk], clock)
    assert restarted.paused_until == NOW + timedelta(hours=1)
    clock.advance(3700)
    assert [a.threshold for a in restarted.on_state(five(81, clock))] == [75]
    assert restarted.paused_until is None
    await restarted.drain()


def test_corrupt_memory_file_is_set_aside(tmp_path) -> None:
    path = tmp_path / "alerts.json"
    path.write_text("{not json")
    memory, paused = AlertStore(path).load()
    assert memory.fired == {} and paused is None
    assert (tmp_path / "alerts.json.bad").exists()


def test_config_from_settings() -> None:
    cfg = st.load()
    cfg.set("alerts.quiet_hours", "22:00-07:00")
    cfg.set("alerts.weekly_thresholds", [80])
    pc = config_from_settings(cfg.get, None)
    assert (
        pc.quiet_hours is not None
        and pc.weekly_thresholds == (80,)
        and pc.five_hour_thresholds == (50, 75, 90, 100)
    )


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
    assert d.ok and d.detail == "notification server"
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
    assert fake.sent[0]["buttons"] == [] and fake.sent[0]["urgency"] is Urgency.Normal


@pytest.mark.parametrize(
    "notifier", [FakeNotifier(None), FakeNotifier(frozenset(), send_error=OSError("bus"))]
)
async def test_no_server_or_failure_falls_back_to_the_tray(notifier) -> None:
    shown = []
    ch = DesktopChannel(notifier=notifier, fallback=lambda t, b, c: shown.append((t, c)))
    d = await ch.send(alert())
    assert d.ok and d.detail.startswith("tray fallback")
    assert shown == [("5-hour at 60%", False)]


async def test_no_fallback_reports_failure_without_raising() -> None:
    d = await DesktopChannel(notifier=FakeNotifier(None)).send(alert())
    assert not d.ok and "no notification server" in d.detail


def test_real_notifier_gets_our_name_and_icon() -> None:
    ch = DesktopChannel()
    notifier = ch._get_notifier()
    assert notifier.app_name == APP_NAME == "Claude Watch"
    assert notifier.app_icon is not None and notifier.app_icon.path == default_icon_path()
    assert default_icon_path().is_file()


async def test_with_the_dispatcher_every_enabled_channel_gets_the_alert() -> None:
    from trayapp.channels.dispatcher import Dispatcher
    from trayapp.channels.quips import QuipWriter

    cfg = st.load()
    desk, slack = RecordingChannel("desktop"), RecordingChannel("slack")
    svc = AlertService(
        cfg.get, [desk], FakeClock(NOW), dispatcher=Dispatcher([desk, slack], QuipWriter(cfg.get), cfg.get)
    )
    svc.on_state(five(91, svc.clock))
    await svc.drain()
    assert len(desk.sent) == 1 and len(slack.sent) == 1
    assert sorted(d.channel for _, d in svc.history) == ["desktop", "slack"]
