"""Composition root of the tray app: builds services and UI in order, wires signals, runs the
qasync loop, and shuts everything down along one path.

Order: logging, private file modes, QApplication, single-instance claim, settings, the usage service
(demo server with ``--demo``), the alert dispatcher and the alert service, the tray, the sessions hub
(registry, hook receiver), the popup, the optional update check. With no system tray (some GNOME setups)
the dashboard opens as an ordinary window. Optional subsystems (window scheduler, telemetry, ...) are
feature modules listed in :mod:`trayapp.app_features`; the Settings dialog and the settings-file
follower are in :mod:`trayapp.app_settings`. ``--self-test`` checks the essentials, prints ``SELF-TEST OK``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from types import ModuleType
from typing import TYPE_CHECKING

from trayapp.paths import tighten_permissions
from trayapp.services.update_check import start as start_update_check  # off unless updates.check is on

if TYPE_CHECKING:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QWidget

    from trayapp.app_settings import PageFactory
    from trayapp.channels.desktop import DesktopChannel
    from trayapp.channels.dispatcher import Dispatcher
    from trayapp.core.clock import Clock
    from trayapp.core.models import AccountState
    from trayapp.demo import DemoHandle
    from trayapp.platform.single_instance import SingleInstance
    from trayapp.services.alerts import AlertService
    from trayapp.services.settings_watcher import SettingsWatcher
    from trayapp.services.tracking_service import TrackingService
    from trayapp.services.usage_service import UsageService
    from trayapp.settings import Settings
    from trayapp.store.usage_repo import HistoryRow
    from trayapp.ui.panels.sessions import SessionsPanel
    from trayapp.ui.placement import Rect
    from trayapp.ui.popup import Popup
    from trayapp.ui.settings_dialog import SettingsDialog
    from trayapp.ui.tray import Tray

log = logging.getLogger(__name__)
APP_NAME = "Claude Watch"
Stop = Callable[[], Awaitable[object]]


def _later(fn: Callable[[], object]) -> Stop:
    """A synchronous stop as the awaitable the shutdown list holds."""

    async def stop() -> None:
        fn()

    return stop


class ClaudeWatch:
    """Holds the long-lived objects; one instance per process.

    Every subsystem registers its stop right where it starts (:meth:`_on_stop`); :meth:`shutdown`
    runs them in reverse order, each guarded, so one that fails or hangs cannot skip the rest.
    """

    ALERT_DRAIN_SECONDS = 3.0  # how long shutdown lets alert sends in flight finish
    TASK_DRAIN_SECONDS = 2.0  # and every other background task

    # Made by build(): the parts the tray app always has.
    tray: Tray
    tray_available: bool
    desktop: DesktopChannel
    dispatcher: Dispatcher
    alerts: AlertService
    tooltip_timer: QTimer

    def __init__(self, app: QApplication, demo: bool, self_test: bool) -> None:
        from trayapp import settings as st
        from trayapp.core.clock import SystemClock

        self.app = app
        self.demo = demo
        self.self_test = self_test
        self.clock: Clock = SystemClock()
        self.settings: Settings = st.load()
        for warning in self.settings.warnings:
            log.warning("settings: %s", warning)
        self.state: AccountState | None = None
        self.quit_future: asyncio.Future[int] | None = None
        # Started later, or never (self-test, a subsystem that could not start).
        self.single: SingleInstance | None = None
        self.demo_handle: DemoHandle | None = None
        self.usage: UsageService | None = None
        self.tracking: TrackingService | None = None
        self.settings_watcher: SettingsWatcher | None = None
        self.settings_dialog: SettingsDialog | None = None
        self._popup: Popup | None = None
        self.sessions_panel: SessionsPanel | None = None  # built with the popup
        self._stops: list[tuple[str, Stop]] = []
        # Popup sections below the timeline, in this order; built once, with the popup.
        self.panel_factories: list[Callable[[], QWidget | None]] = [
            self._sessions_panel,
            self._local_usage_panel,
        ]
        self.settings_pages: list[tuple[str, PageFactory]] = []  # extra Settings pages (features)
        self._features: list[tuple[str, ModuleType]] = []

    def on_stop(self, name: str, stop: Stop) -> None:
        """Register a stop, run at shutdown (last registered first)."""
        self._stops.append((name, stop))

    def on_stop_sync(self, name: str, stop: Callable[[], object]) -> None:
        self._stops.append((name, _later(stop)))

    @property
    def built_popup(self) -> Popup | None:
        """The popup if it was built (the ``popup`` property builds it)."""
        return self._popup

    # ----- build
    def build(self) -> None:
        """Everything the app always has, then the optional features (what tests build)."""
        self._build_core()
        self.attach_features()

    def attach_features(self, early: bool | None = None) -> None:
        from trayapp.app_features import attach_all

        self._features += attach_all(self, early=early)

    def _build_core(self) -> None:
        from PySide6.QtCore import QTimer

        from trayapp import runtime
        from trayapp.channels.desktop import DesktopChannel
        from trayapp.channels.dispatcher import build_or_desktop_only
        from trayapp.services.alerts import AlertService
        from trayapp.services.session_hub import SessionsHub
        from trayapp.ui.icon import alert_icon_file
        from trayapp.ui.tray import Tray

        if self.single is not None:  # claimed before the build (run_app): released last
            self.on_stop("single instance", _later(self.single.close))
        self.tray = Tray(self.clock)
        self.on_stop("tray", _later(self.tray.hide))
        self.tray_available = Tray.available()
        if not self.tray_available:
            log.warning("no system tray available: the dashboard opens as a window")
        self.desktop = DesktopChannel(
            enabled=lambda: bool(self.settings.get("alerts.desktop")),
            fallback=self._tray_message,
            on_open=self.show_dashboard,
            on_open_session=self.open_session,
            icon_for=alert_icon_file,
            on_snooze=lambda: self.alerts.pause(self.clock.now() + timedelta(hours=1)),
        )
        self.dispatcher = build_or_desktop_only(self.settings.get, self.desktop)
        self.alerts = AlertService(self.settings.get, self.dispatcher, self.clock)
        self.sessions = SessionsHub(self.settings, self.dispatcher, self.alerts, self.clock, self.tray)
        # Stopped after the alerts: every other background task (settings page, export, sessions).
        self.on_stop("background tasks", lambda: runtime.drain(self.TASK_DRAIN_SECONDS))
        # Sends in flight may finish (bounded); what is left is cancelled, never raised.
        self.on_stop("alerts", lambda: self.alerts.drain(self.ALERT_DRAIN_SECONDS))
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
        self.on_stop("tooltip timer", _later(self.tooltip_timer.stop))

    async def start_usage(self) -> None:
        """Start the usage service (or the demo) and route its states to the UI and alerts. The
        engine opens the database and reads the last reading on a worker thread, not the GUI's."""
        from trayapp.runtime import run_blocking
        from trayapp.services.usage_engine import create_engine
        from trayapp.services.usage_service import UsageService

        if self.demo:  # a week of history, transcripts and sessions in the demo's own folder
            from trayapp.services.demo_seed import start_seeded_demo

            demo = self.demo_handle = await run_blocking(start_seeded_demo)
            self.on_stop("demo server", _later(demo.stop))
        engine = await run_blocking(
            create_engine, demo=self.demo_handle, clock=self.clock, settings=self.settings
        )
        usage = self.usage = UsageService(engine, settings=self.settings)
        usage.state_changed.connect(self.on_state)
        usage.start()
        self.on_stop("usage", usage.stop)

    def start_tracking(self) -> None:
        """Scan Claude Code transcripts in the background for the local-usage panel."""
        try:
            from trayapp.services.tracking_service import TrackingService

            tracking = TrackingService(self.settings, clock=self.clock)
            tracking.start()
        except Exception:
            log.exception("local usage tracking unavailable")
            return
        self.tracking = tracking
        self.on_stop("tracking", tracking.stop)

    def start_alert_outbox(self) -> None:
        """Retry Telegram/Slack messages that could not go out yet."""
        self.dispatcher.run_flusher()
        self.on_stop("outbox flusher", _later(self.dispatcher.stop_flusher))

    def _sessions_panel(self) -> QWidget:
        """Every Claude Code session; "Open" focuses its terminal (off the GUI thread) or shows its row."""
        from trayapp.platform.focus import focus_terminal_off_thread
        from trayapp.ui.panels.sessions import make_panel

        hub = self.sessions  # its telemetry: each session's live cost and tokens
        self.sessions_panel = make_panel(hub.service, self.clock, focus_terminal_off_thread, hub.telemetry)
        return self.sessions_panel

    def _local_usage_panel(self) -> QWidget | None:
        if self.tracking is None:
            return None  # tracking could not start (already logged); the popup goes without it
        from trayapp.services.ledger_service import resolve_timezone
        from trayapp.ui.panels.local_usage import make_panel

        tz = resolve_timezone(str(self.settings.get("tracking.timezone") or ""))
        return make_panel(self.tracking, tz, self.sessions.telemetry)  # telemetry: today between scans

    @property
    def popup(self) -> Popup:
        """The dashboard, built on first use (it costs a few MB the tray alone does not need)."""
        if self._popup is None:
            from trayapp.ui.popup import Popup

            popup = Popup(self.clock)
            popup.setWindowTitle(f"{APP_NAME} dashboard")
            popup.follow(self.settings)
            popup.set_window_mode(not self.tray_available)
            if not self.tray_available:  # the window carries the tray menu and asks before closing
                from trayapp.ui.window_mode import WindowMode

                WindowMode(popup, self.tray.menu, self.settings, self.quit)  # owned by the popup
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

    async def history(self, since: datetime) -> list[HistoryRow]:
        """The timeline's rows, read on a worker thread (never SQLite on the GUI thread)."""
        if self.usage is None:
            return []
        state = self.usage.state  # signed out, it has no windows: the chart keeps its history
        ids = [ws.window.id for ws in (state.windows if state else ())] or ["five_hour", "seven_day"]
        return list(await self.usage.history_async(ids, since))

    # ----- behaviour
    def on_state(self, state: AccountState) -> None:
        self.state = state
        self.tray.set_state(state)
        if self._popup is not None:
            self._popup.set_state(state)
        self.alerts.on_state(state)

    def toggle_dashboard(self, anchor: Rect | None = None) -> None:
        if self.popup.window_mode:
            self.show_dashboard()
        else:
            self.popup.toggle_at(anchor)

    def show_dashboard(self) -> None:
        self.popup.show_at(self.tray.anchor())

    def open_session(self, session_id: str) -> None:
        """A session notification's "Open": the dashboard, and the session's terminal focused where
        that works (else its row shown), as the panel's own "Open" button does."""
        log.info("opening session %s from its notification", session_id)
        self.show_dashboard()  # builds the popup and its sessions panel on first use
        if self.sessions_panel is not None:
            self.sessions_panel.open_requested.emit(session_id)

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
        from trayapp.app_settings import open_settings

        open_settings(self)

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
        """Stop everything that started, last started first. Each stop is guarded: one that fails
        is logged and the others still run (the databases and the single-instance socket close)."""
        while self._stops:
            name, stop = self._stops.pop()
            try:
                await stop()
            except Exception:
                log.exception("stopping %s failed", name)
        log.info("Claude Watch stopped")

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        from trayapp.logging_setup import install_crash_handlers

        install_crash_handlers(loop)
        self.quit_future = loop.create_future()
        self._quit_on_termination_signals(loop)
        self._build_core()
        if self.self_test:
            from trayapp.self_test import run_self_test

            self.attach_features()
            return run_self_test(self)
        # The theme, the icon, then the other features (the icon shows about as fast as a bare tray's).
        self.attach_features(early=True)
        self.tray.show()
        self.app.processEvents()
        self.attach_features(early=False)
        if not self.tray_available:
            self.show_dashboard()
        if self.single is not None:
            self.single.activation_requested.connect(self.show_dashboard)
        self._report_loop_health()
        await self.start_usage()
        self.start_tracking()
        self.on_stop("sessions and local server", await self.sessions.start(self.usage))
        from trayapp.app_features import start_all
        from trayapp.app_settings import watch_settings

        watch_settings(self)
        self.start_alert_outbox()
        await start_all(self, self._features)
        self.on_stop("update check", start_update_check(self.clock, self.settings.get, self._tray_message))
        if os.environ.get("CLAUDE_WATCH_SHOW_DASHBOARD") == "1":
            self.show_dashboard()
        log.info("Claude Watch running (tray available: %s)", self.tray_available)
        try:
            return await self.quit_future
        finally:
            await self.shutdown()

    def _report_loop_health(self) -> None:
        """Long-lived loops report unexpected errors to loop-health.json, which `doctor` reads."""
        from trayapp import paths, runtime

        try:
            runtime.enable_health_file(paths.ensure(paths.state_dir()))
        except OSError as exc:
            log.warning("cannot write the background-work report: %s", exc)


def run_app(demo: bool, self_test: bool) -> int:
    """Start the tray app; returns the process exit code."""
    import trayapp.ui  # noqa: F401  (first: the None guard, and no linecache of what follows: 1.7 MB)
    from trayapp.logging_setup import setup_logging

    # The log and the single-instance claim stay in the user's folders, also for --demo: a demo's
    # log outlives its temporary folder, and a second launch finds the running demo.
    setup_logging()
    instance = None
    if not self_test:
        from trayapp.platform.single_instance import identity

        instance = identity()
    if demo:  # every other folder moves into a temporary demo folder: the user's data stay untouched
        from trayapp.demo import enter_demo_home

        enter_demo_home()
    tighten_permissions()  # before anything else reads or writes in the app's folders
    if self_test and not os.environ.get("QT_QPA_PLATFORM") and not os.environ.get("DISPLAY"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    import qasync
    from PySide6.QtWidgets import QApplication

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
    if instance is not None:
        from trayapp.platform.single_instance import SingleInstance

        cw.single = SingleInstance(instance[0], lock_dir=instance[1])
        if not cw.single.claim():
            print("Claude Watch is already running: showing its dashboard.")
            return 0
    with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
        return runner.run(cw.run())
