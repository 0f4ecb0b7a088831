"""The composition root: self-test as a real process, and the wiring of states to tray, popup, alerts."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

from tests.helpers.states import NOW, account_state, window_state


def test_self_test_exits_zero_offscreen(tmp_path) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    out = subprocess.run(
        [sys.executable, "-m", "trayapp", "--self-test"], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "SELF-TEST OK" in out.stdout


async def test_states_reach_tray_popup_and_alerts(qapp) -> None:
    from trayapp.app import ClaudeWatch

    cw = ClaudeWatch(qapp, demo=False, self_test=True)
    cw.build()
    assert cw._popup is None  # built on first use
    state = account_state(window_state("five_hour", 77.0, timedelta(hours=2), NOW), now=NOW)
    cw.on_state(state)
    assert "5-hour: 77%" in cw.tray.icon.toolTip()
    assert cw.popup.gauge("five_hour").percent_text() == "77%"  # created with the latest state
    assert any(k.endswith(":t75") for k in cw.alerts.memory.fired)
    await cw.alerts.drain()
    until = cw.clock.now() + timedelta(hours=1)
    cw.tray.pause_requested.emit(until)  # "Pause alerts" in the tray menu
    assert cw.alerts.paused_until == until
    assert "Alerts paused until" in cw.tray.icon.toolTip()
    cw.tray.pause_requested.emit(None)  # "Resume alerts"
    assert cw.alerts.paused_until is None
    assert "Alerts paused" not in cw.tray.icon.toolTip()
    cw.tray.hide()


def test_snooze_on_a_notification_pauses_alerts_for_an_hour(qapp) -> None:
    from trayapp.app import ClaudeWatch
    from trayapp.core.clock import FakeClock

    cw = ClaudeWatch(qapp, demo=False, self_test=True)
    cw.clock = FakeClock(NOW)
    cw.build()
    cw.on_state(account_state(window_state("five_hour", 30.0, timedelta(hours=2), NOW), now=NOW))
    assert cw.alerts.dispatcher is cw.dispatcher
    assert cw.dispatcher.channel("desktop") is cw.desktop
    assert cw.desktop.on_snooze is not None
    cw.desktop.on_snooze()  # the notification's "Snooze 1 h" button
    assert cw.alerts.paused_until == NOW + timedelta(hours=1)
    assert "Alerts paused until" in cw.tray.icon.toolTip()
    cw.tray.hide()


def test_without_the_full_channel_set_alerts_still_go_through_a_dispatcher(monkeypatch) -> None:
    from trayapp.channels import dispatcher as dispatcher_module
    from trayapp.channels.desktop import DesktopChannel

    def unavailable(*args, **kwargs):
        raise OSError("outbox unreadable")

    monkeypatch.setattr(dispatcher_module, "build_default", unavailable)
    desktop = DesktopChannel()
    dispatcher = dispatcher_module.build_or_desktop_only(lambda key: None, desktop)
    assert isinstance(dispatcher, dispatcher_module.Dispatcher)
    assert dispatcher.channels == [desktop]


def test_settings_dialog_has_the_schema_pages_and_the_channels_page(qapp) -> None:
    from trayapp.app import ClaudeWatch

    cw = ClaudeWatch(qapp, demo=False, self_test=True)
    cw.build()
    cw.settings.set("ui.theme", "dark")  # saved before the dashboard is first built
    assert cw._popup is None
    assert cw.popup.theme_setting == "dark"
    assert cw.popup.theme.dark
    cw.open_settings()
    pages = cw.settings_dialog.page_titles()
    assert pages[0] == "General"
    assert "Alert channels" not in pages  # its secrets and tests joined the Notifications page
    assert cw.settings_dialog.page_of("telegram.enabled") == "Notifications"
    cw.settings_dialog.set_editor_text("ui.theme", "light")
    assert cw.settings_dialog.apply()
    assert not cw.popup.theme.dark
    cw.settings_dialog.set_editor_text("ui.theme", "dark")
    assert cw.settings_dialog.apply()
    assert cw.popup.theme.dark  # applied live
    cw.settings_dialog.close()
    cw.tray.hide()


def test_panel_factories_fill_the_popup_when_it_is_built(qapp) -> None:
    from PySide6.QtWidgets import QLabel

    from trayapp.app import ClaudeWatch

    cw = ClaudeWatch(qapp, demo=False, self_test=True)
    cw.build()
    made = []

    def broken():
        raise RuntimeError("no tracking service")

    cw.panel_factories += [lambda: made.append(QLabel("Local usage")) or made[-1], broken]
    popup = cw.popup
    assert len(made) == 1
    assert popup.isAncestorOf(made[0])
    cw.tray.hide()


async def test_shutdown_goes_on_when_an_alert_send_hangs(qapp, caplog) -> None:
    """A channel that never answers used to make ``asyncio.wait_for(alerts.drain(), 3.0)`` raise
    TimeoutError out of shutdown: the single-instance socket stayed claimed and the tray shown."""
    import asyncio
    import logging

    from trayapp.app import ClaudeWatch

    class HangingDispatcher:
        """Delivers nothing, ever (a remote server that accepts the connection and stays silent)."""

        def __init__(self) -> None:
            self.started = asyncio.Event()
            self.cancelled = False

        async def dispatch(self, alert) -> None:
            self.started.set()
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                self.cancelled = True
                raise

    class Single:
        closed = False

        def close(self) -> None:
            self.closed = True

    cw = ClaudeWatch(qapp, demo=False, self_test=True)
    cw.single = single = Single()  # claimed before the build, as run_app does
    cw.build()
    cw.ALERT_DRAIN_SECONDS = 0.2
    cw.alerts.dispatcher = hanging = HangingDispatcher()
    cw.on_state(account_state(window_state("five_hour", 77.0, timedelta(hours=2), NOW), now=NOW))
    await asyncio.wait_for(hanging.started.wait(), 5)
    with caplog.at_level(logging.INFO):
        await asyncio.wait_for(cw.shutdown(), 10)  # returns instead of raising TimeoutError
    assert hanging.cancelled  # the send was given up on after the bounded wait...
    assert single.closed
    assert "Claude Watch stopped" in caplog.text
    assert "1 task(s) still running after 0.2 s: cancelled" in caplog.text


async def test_signed_out_the_timeline_keeps_its_history(qapp) -> None:
    """Issue 20: an expired login blanked the chart (a state without windows asked for no rows)."""
    from types import SimpleNamespace

    from tests.helpers.states import error
    from trayapp.app import ClaudeWatch
    from trayapp.core.models import ErrorKind

    asked: list[list[str]] = []

    async def history_async(ids, since, until=None):
        asked.append(list(ids))
        return [(since, wid, 40.0, None) for wid in ids]

    cw = ClaudeWatch(qapp, demo=False, self_test=True)
    signed_out = account_state(now=NOW, error=error(ErrorKind.AUTH, "expired"))
    cw.usage = SimpleNamespace(state=signed_out, history_async=history_async)
    rows = await cw.history(NOW - timedelta(hours=24))
    assert asked == [["five_hour", "seven_day"]]
    assert len(rows) == 2
