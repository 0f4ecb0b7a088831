"""Composition root of the tray app: builds services and UI in order, wires signals, runs the
qasync loop, and shuts everything down along one path.

Order: logging and crash handlers, QApplication (names, icon), single-instance claim, settings,
the usage service (demo server with ``--demo``), the alert dispatcher (desktop and the other
channels) and the alert service that delivers through it, the tray, the popup. With no system
tray (offscreen, some GNOME setups) the dashboard opens as an ordinary window and everything
else keeps working. ``--self-test`` builds the tray and popup
offscreen-safe, checks the essentials, prints ``SELF-TEST OK`` and exits 0.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from trayapp.channels.dispatcher import Dispatcher
    from trayapp.services.live_sessions import LiveSessionsService
    from trayapp.services.settings_watcher import SettingsWatcher
    from trayapp.settings import Settings

log = logging.getLogger(__name__)
APP_NAME = "Claude Watch"


class ClaudeWatch:
    """Holds the long-lived objects; one instance per process."""

    ALERT_DRAIN_SECONDS = 3.0  # how long shutdown lets alert sends in flight finish

    def __init__(self, app: Any, demo: bool, self_test: bool) -> None:
        from trayapp import settings as st
        from trayapp.core.clock import SystemClock

        self.app = app
        self.demo = demo
        self.self_test = self_test
        self.clock = SystemClock()
        self.settings = st.load()
        for warning in self.settings.warnings:
            log.warning("settings: %s", warning)
        self.demo_handle: Any = None
        self.usage: Any = None
        self.quit_future: asyncio.Future[int] | None = None
        self.settings_dialog: Any = None
        self.single: Any = None
        # Builders of popup sections (local usage, live sessions): called once, when the popup
        # is first built, and added below the timeline in this order.
        self.panel_factories: list[Any] = [self._live_sessions_panel, self._local_usage_panel]
        self.tracking: Any = None
        self.live_sessions: LiveSessionsService | None = None  # built with the popup
        self.settings_watcher: SettingsWatcher | None = None

    # ----- build
    def build(self) -> None:
        from PySide6.QtCore import QTimer

        from trayapp.channels.desktop import DesktopChannel
        from trayapp.services.alerts import AlertService
        from trayapp.ui.tray import Tray

        self.tray = Tray(self.clock)
        self._popup: Any = None
        self.state: Any = None
        self.tray_available = Tray.available()
        if not self.tray_available:
            log.warning("no system tray available: the dashboard opens as a window")
        self.desktop = DesktopChannel(
            enabled=lambda: bool(self.settings.get("alerts.desktop")),
            fallback=self._tray_message,
            on_open=self.show_dashboard,
            on_snooze=lambda: self.alerts.pause(self.clock.now() + timedelta(hours=1)),
        )
        self.dispatcher = make_dispatcher(self.settings.get, self.desktop)
        self.alerts = AlertService(self.settings.get, self.dispatcher, self.clock)
        # The pause lives in the alert service; the tray shows it and follows paused_changed.
        self.tray.follow_pause(self.alerts)
        # Wiring: tray and popup ask, the app does.
        self.tray.dashboard_requested.connect(self.toggle_dashboard)
        self.tray.refresh_requested.connect(self.refresh_now)
        self.tray.pause_requested.connect(self.alerts.pause)
        self.tray.settings_requested.connect(self.open_settings)
        self.tray.quit_requested.connect(self.quit)
        # The tooltip's countdowns move by the minute; nothing else ticks while the popup is closed.
        self.tooltip_timer = QTimer()
        self.tooltip_timer.setInterval(60_000)
        self.tooltip_timer.timeout.connect(self.tray.refresh_tooltip)
        self.tooltip_timer.start()

    def start_usage(self) -> None:
        """Start the usage service (or the demo) and route its states to the UI and alerts."""
        if self.demo:
            from trayapp.demo import start_demo

            self.demo_handle = start_demo()
        self.usage = make_usage_service(self.settings, self.clock, self.demo_handle)
        self.usage.state_changed.connect(self.on_state)
        self.usage.start()

    def start_tracking(self) -> None:
        """Scan Claude Code transcripts in the background for the local-usage panel."""
        try:
            from trayapp.services.tracking_service import TrackingService

            self.tracking = TrackingService(self.settings, clock=self.clock)
            self.tracking.start()
        except Exception:
            log.exception("local usage tracking unavailable")
            self.tracking = None

    def _live_sessions_panel(self) -> Any:
        """The live sessions, read by their service only while the panel is visible."""
        from trayapp.services.live_sessions import LiveSessionsService
        from trayapp.ui.panels.live_sessions import make_panel

        self.live_sessions = LiveSessionsService(self.clock)
        return make_panel(self.live_sessions)

    def _local_usage_panel(self) -> Any | None:
        if self.tracking is None:
            return None  # tracking could not start (already logged); the popup goes without it
        from trayapp.ui.panels.local_usage import make_panel

        tz_name = str(self.settings.get("tracking.timezone") or "")
        tz = None
        if tz_name:
            from zoneinfo import ZoneInfo

            tz = ZoneInfo(tz_name)
        return make_panel(self.tracking, tz)

    @property
    def popup(self) -> Any:
        """The dashboard, built on first use (it costs a few MB the tray alone does not need)."""
        if self._popup is None:
            from trayapp.ui.popup import Popup

            popup = Popup(self.clock)
            popup.setWindowTitle(f"{APP_NAME} dashboard")
            popup.follow(self.settings)
            popup.set_window_mode(not self.tray_available)
            popup.refresh_requested.connect(self.refresh_now)
            popup.settings_requested.connect(self.open_settings)
            popup.range_changed.connect(self._range_changed)
            popup.set_history_loader(self.history)
            for factory in self.panel_factories:
                try:
                    panel = factory()
                    if panel is not None:
                        popup.add_panel(panel)
                except Exception:
                    log.exception("popup panel %r failed to build", factory)
            if self.state is not None:
                popup.set_state(self.state)
            self._popup = popup
        return self._popup

    async def history(self, since: datetime) -> list[Any]:
        """The timeline's rows, read on a worker thread (never SQLite on the GUI thread)."""
        if self.usage is None:
            return []
        state = self.usage.state
        ids = [ws.window.id for ws in state.windows] if state is not None else ["five_hour", "seven_day"]
        return list(await self.usage.history_async(ids, since))

    # ----- behaviour
    def on_state(self, state: Any) -> None:
        self.state = state
        self.tray.set_state(state)
        if self._popup is not None:
            self._popup.set_state(state)
        self.alerts.on_state(state)

    def toggle_dashboard(self, anchor: Any = None) -> None:
        if self.popup.window_mode:
            self.show_dashboard()
        else:
            self.popup.toggle_at(anchor)

    def show_dashboard(self) -> None:
        self.popup.show_at(self.tray.anchor())

    def refresh_now(self) -> None:
        if self.usage is not None:
            self.usage.refresh_now()

    def _tray_message(self, title: str, body: str, critical: bool) -> None:
        if self.tray_available:
            self.tray.show_message(title, body, critical)
        else:
            log.warning("alert (no notification server, no tray): %s: %s", title, body)

    def _range_changed(self, key: str) -> None:
        try:
            self.settings.update({"ui.timeline_range": key})  # this key only, merged into the file
        except Exception as exc:
            log.warning("could not save the timeline range: %s", exc)

    def open_settings(self) -> None:
        from trayapp.ui.settings_dialog import SettingsDialog

        if self.settings_dialog is None:
            self.settings_dialog = SettingsDialog(self.settings)
            self._add_channels_page(self.settings_dialog)
        else:
            self.settings_dialog.load_values()
        if self._popup is not None and not self._popup.window_mode:
            self._popup.hide()
        self.settings_dialog.show()
        self.settings_dialog.raise_()
        self.settings_dialog.activateWindow()

    def _add_channels_page(self, dialog: Any) -> None:
        """Secrets, Telegram linking and "Send test" as a tab; the dialog works without it."""
        try:
            from trayapp.services.channels_service import ChannelsService
            from trayapp.ui.channels_page import make_page

            page = make_page(ChannelsService(self.settings, dispatcher_factory=lambda: self.dispatcher))
        except Exception:
            log.exception("alert channels page unavailable")
            return
        dialog.add_page(page, "Alert channels")

    def watch_settings(self) -> None:
        """Apply what `config set` or an editor writes to settings.toml while the app runs. The
        popup, usage and tracking services follow the settings themselves (Settings.subscribe)."""
        from trayapp.services.settings_watcher import SettingsWatcher

        self.settings.subscribe("app.start_at_login", self._start_at_login_changed)
        self.settings_watcher = SettingsWatcher(self.settings)
        self.settings_watcher.start()

    def _start_at_login_changed(self, keys: list[str], settings: Settings) -> None:
        """A hand edit of app.start_at_login gets the autostart entry the dialog and `config set`
        would have made."""
        from trayapp.platform import autostart
        from trayapp.settings import start_at_login

        on = bool(settings.get("app.start_at_login"))
        if autostart.is_enabled() != on:
            try:
                start_at_login(on)
            except OSError as exc:
                log.warning("could not change start at login: %s", exc)

    def quit(self) -> None:
        if self.quit_future is not None and not self.quit_future.done():
            self.quit_future.set_result(0)

    def _quit_on_termination_signals(self, loop: asyncio.AbstractEventLoop) -> None:
        """SIGTERM (a desktop session logging out, ``kill``), SIGINT (Ctrl+C) and SIGHUP (its terminal
        closed) quit along the normal path: services stop, queued alerts are sent, the databases and
        the single-instance socket are closed. Without this Python dies on the spot."""
        if sys.platform == "win32":
            return  # no POSIX signals; Windows ends a session through Qt's own shutdown
        import signal

        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            try:
                loop.add_signal_handler(sig, self._on_termination_signal, sig)
            except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or no support
                log.debug("cannot handle signal %s", sig)

    def _on_termination_signal(self, sig: int) -> None:
        log.info("signal %s: quitting", sig)
        self.quit()

    async def shutdown(self) -> None:
        if self.settings_watcher is not None:
            self.settings_watcher.stop()
        self.tooltip_timer.stop()
        self.dispatcher.stop_flusher()
        if self.live_sessions is not None:
            self.live_sessions.stop()
        if self.tracking is not None:
            await self.tracking.stop()
        if self.usage is not None:
            stop = self.usage.stop()
            if asyncio.iscoroutine(stop):
                await stop
        # Sends in flight may finish (bounded); what is left is cancelled, never raised: a slow
        # channel must not skip the rest of the shutdown.
        await self.alerts.drain(self.ALERT_DRAIN_SECONDS)
        from trayapp.runtime import drain

        await drain(2.0)  # every other background task (settings page, export, live sessions)
        if self.demo_handle is not None:
            self.demo_handle.stop()
        if self.single is not None:
            self.single.close()
        self.tray.hide()
        log.info("Claude Watch stopped")

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        from trayapp.logging_setup import install_crash_handlers

        install_crash_handlers(loop)
        self.quit_future = loop.create_future()
        self._quit_on_termination_signals(loop)
        self.build()
        if self.self_test:
            return self.run_self_test()
        self.tray.show()
        if not self.tray_available:
            self.show_dashboard()
        if self.single is not None:
            self.single.activation_requested.connect(self.show_dashboard)
        self._report_loop_health()
        self.start_usage()
        self.start_tracking()
        self.watch_settings()
        self.dispatcher.run_flusher()
        if os.environ.get("CLAUDE_WATCH_SHOW_DASHBOARD") == "1":
            self.show_dashboard()
        log.info("Claude Watch running (tray available: %s)", self.tray_available)
        try:
            return await self.quit_future
        finally:
            await self.shutdown()

    def _report_loop_health(self) -> None:
        """Long-lived loops report unexpected errors to loop-health.json, which `doctor` reads."""
        from trayapp import paths
        from trayapp.runtime import enable_health_file

        try:
            enable_health_file(paths.ensure(paths.state_dir()))
        except OSError as exc:
            log.warning("cannot write the background-work report: %s", exc)

    def run_self_test(self) -> int:
        from trayapp import paths
        from trayapp.core.models import AccountState

        problems = []
        self.tray.set_state(AccountState(snapshot=None))
        self.popup.set_state(AccountState(snapshot=None))
        if self.tray.action_texts()[:1] != ["Open dashboard"]:
            problems.append("tray menu")
        if not (paths.resources_dir() / "icons" / "claude-watch-128.png").is_file():
            problems.append(f"resources missing in {paths.resources_dir()}")
        try:
            import desktop_notifier  # noqa: F401
        except Exception as exc:
            problems.append(f"desktop-notifier: {exc}")
        if problems:
            print("SELF-TEST FAILED: " + "; ".join(problems))
            return 1
        print(f"SELF-TEST OK (tray available: {self.tray_available})")
        return 0


def make_usage_service(settings: Any, clock: Any, demo_handle: Any) -> Any:
    """The usage service the app polls through."""
    from trayapp.services.usage_service import UsageService

    return UsageService(settings, clock=clock, demo=demo_handle)


def make_dispatcher(setting: Any, desktop: Any) -> Dispatcher:
    """The standard channel set (desktop, sound, Telegram, Slack) with quips. If it cannot be
    built (an unreadable outbox, say), a dispatcher with the desktop channel alone, so alerts
    still take the one delivery path."""
    from trayapp.channels.dispatcher import Dispatcher, build_default
    from trayapp.channels.quips import QuipWriter

    try:
        return build_default(setting, desktop=desktop)
    except Exception:
        log.exception("alert channels unavailable; desktop notifications only")
        return Dispatcher([desktop], QuipWriter(setting), setting)


def run_app(demo: bool, self_test: bool) -> int:
    """Start the tray app; returns the process exit code."""
    from trayapp.logging_setup import setup_logging

    setup_logging()
    if self_test and not os.environ.get("QT_QPA_PLATFORM") and not os.environ.get("DISPLAY"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    import qasync
    from PySide6.QtWidgets import QApplication

    import trayapp.ui  # noqa: F401  (applies the PySide6 None-reference guard)
    from trayapp.ui.icon import app_icon

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    app.setOrganizationName("Claude Watch")
    app.setDesktopFileName("claude-watch")
    app.setQuitOnLastWindowClosed(False)
    app.setWindowIcon(app_icon())
    cw = ClaudeWatch(app, demo, self_test)
    if not self_test:
        from trayapp.platform.single_instance import SingleInstance

        cw.single = SingleInstance()
        if not cw.single.claim():
            print("Claude Watch is already running: showing its dashboard.")
            return 0
    with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
        return runner.run(cw.run())
