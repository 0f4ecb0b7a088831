"""Agents as a feature of the tray app (listed in :mod:`trayapp.app_features`).

``attach`` builds the :class:`~trayapp.services.agent_queue.AgentQueue` (nothing read yet) and an
:class:`AgentsUi` that owns the views: the popup's "Agents" section, the "Agents…" tray menu entry
and the Agents window (built on first use), the "New agent" dialog, and the notification buttons
(``action_routes["agents"]``: "Open" shows the window at that task, "Open log" its log file).
``start`` (after the usage service and the sessions hub) starts the queue, seeds the notices with
what already ran, feeds the queue a :class:`~trayapp.core.agents.LimitView` from every usage state
(the binding window's utilization and reset; the queue learns ``rate_limit_event`` itself),
follows the queue's changes (notices at once; views coalesced) and the sessions service's list
(Claude Code sessions we did not start), and serves the CLI's ``agents.*`` requests over the
single-instance socket (``services.agent_ipc.serve_agents``). The stop undoes all of it and stops
the queue.

Every queue call runs as a task (``runtime.spawn``): the GUI thread never waits on a child
process, a file or SQLite.
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from trayapp import runtime
from trayapp.core import agents as ca
from trayapp.features.agents_data import job_record, limit_view, listed, read_chunk
from trayapp.features.agents_notify import OPEN, OPEN_LOG, ROUTE, AgentNotices
from trayapp.ui.coalescer import COALESCE_MS, HIDDEN_MS

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from trayapp.app import ClaudeWatch
    from trayapp.core.agent_list import AgentItem, TailChunk
    from trayapp.core.models import AccountState, Alert
    from trayapp.core.sessions import Session
    from trayapp.services.agent_queue import AgentQueue
    from trayapp.ui.agents_dialog import NewAgentDialog
    from trayapp.ui.agents_panel import AgentsPanel
    from trayapp.ui.agents_window import AgentsWindow
    from trayapp.ui.coalescer import Coalescer

log = logging.getLogger(__name__)


_uis: WeakKeyDictionary[ClaudeWatch, AgentsUi] = WeakKeyDictionary()


def ui_of(cw: ClaudeWatch) -> AgentsUi | None:
    """The app's agents feature (tests, other features), once attached."""
    return _uis.get(cw)


def stop_foreign_pid(pid: int) -> None:
    """SIGTERM to a Claude Code session we did not start (the user confirmed it). Blocking."""
    os.kill(pid, signal.SIGTERM)


class AgentsUi:
    """The views of the agents and what their buttons do (see the module docstring)."""

    def __init__(self, cw: ClaudeWatch, queue: AgentQueue) -> None:
        from trayapp.ui.coalescer import Coalescer  # QtCore only: the views' widgets load when shown

        self.cw = cw
        self.queue = queue
        self.notices = AgentNotices()
        self.sessions: list[Session] = []
        self.items: list[AgentItem] = []
        self.panel: AgentsPanel | None = None
        self.window: AgentsWindow | None = None
        self.dialog: NewAgentDialog | None = None
        self.started = False
        self._unsubscribe: Callable[[], object] | None = None
        self._unserve: Callable[[], object] | None = None
        self._unfollow: Callable[[], object] | None = None
        self._unroute: Callable[[], object] | None = None
        self.updates: Coalescer = Coalescer(self._publish)

    # ----- the list
    def _estimate(self, task: ca.Task) -> float | None:
        return ca.estimate_cost(self.queue.tasks(), task.spec.folder)

    def _publish(self, _value: object = None) -> None:
        """The views' list: what is unfinished, and the :data:`MAX_FINISHED` latest that ended."""
        from trayapp.core.agent_list import agent_items

        history = self.queue.tasks() if self.started else []
        estimates: dict[str, float | None] = {}  # per folder, once per publish

        def estimate(task: ca.Task) -> float | None:
            folder = task.spec.folder
            if folder not in estimates:
                estimates[folder] = ca.estimate_cost(history, folder)
            return estimates[folder]

        self.items = agent_items(listed(history), self.sessions, estimate)
        from shiboken6 import isValid

        for view in (self.panel, self.window):
            if view is not None and isValid(view):  # a popup rebuilt has deleted its old section
                view.set_items(self.items)

    def on_queue(self, *args: Any) -> None:
        """A change in the queue: its notices now, the views coalesced."""
        changed = [a for a in args if isinstance(a, ca.Task)] or self.queue.tasks()
        if self._alerts_on():
            for alert in self.notices.changed(changed, self.cw.clock.now()):
                runtime.spawn(self.cw.dispatcher.dispatch(alert), name=f"notify {alert.key}", group=self)
        else:  # decided and dropped while alerts are off or paused: not sent later either
            self.notices.changed(changed, self.cw.clock.now())
        self.updates.set_interval(COALESCE_MS if self._viewed() else HIDDEN_MS)
        self.updates.push(None)

    def _viewed(self) -> bool:
        """Whether a view of the list shows now (else its updates wait up to :data:`HIDDEN_MS`)."""
        from shiboken6 import isValid

        return any(v is not None and isValid(v) and v.isVisible() for v in (self.panel, self.window))

    def on_sessions(self, sessions: list[Session]) -> None:
        """The sessions service's list: Claude Code's background jobs go to the queue (ours follow
        their job; the others become tasks with ``ours=False``), the rest are shown as they are."""
        self.sessions = list(sessions)
        jobs = [job_record(s) for s in sessions if s.job_id]
        if jobs and self.started:
            self.queue.observe_jobs(jobs)
        self.updates.push(None)

    def _alerts_on(self) -> bool:
        """Alerts on, not paused, not in quiet hours (a notice held then would be stale later)."""
        from trayapp.core.alert_policy import in_quiet_hours, parse_quiet_hours

        now = self.cw.clock.now()
        until = self.cw.alerts.paused_until
        paused = until is not None and until > now
        quiet = in_quiet_hours(now, parse_quiet_hours(str(self.cw.settings.get("alerts.quiet_hours") or "")))
        return bool(self.cw.settings.get("alerts.enabled")) and not paused and not quiet

    # ----- views
    def make_panel(self) -> QWidget:
        from trayapp.ui.agents_panel import AgentsPanel

        panel = self.panel = AgentsPanel(self.cw.clock)
        panel.open_requested.connect(lambda task_id: self.open_window(task_id or None))
        panel.new_requested.connect(self.new_agent)
        panel.shown.connect(self.updates.flush)
        panel.set_items(self.items)
        return panel

    def ensure_window(self) -> AgentsWindow:
        if self.window is None:
            from trayapp.ui.agents_window import AgentsWindow
            from trayapp.ui.theme import resolve

            window = self.window = AgentsWindow(self.read_tail, self.cw.clock)
            window.set_theme(resolve(str(self.cw.settings.get("ui.theme"))))
            window.stop_requested.connect(self.stop_task)
            window.restart_requested.connect(self.restart_task)
            window.open_log_requested.connect(self.open_log)
            window.open_folder_requested.connect(self.open_folder)
            window.new_requested.connect(self.new_agent)
            window.set_items(self.items)
        return self.window

    def open_window(self, task_id: str | None = None) -> AgentsWindow:
        """Show the Agents window (at ``task_id`` when given)."""
        self.updates.flush()  # what waited while nothing showed
        window = self.ensure_window()
        window.show()
        window.raise_()
        window.activateWindow()
        if task_id:
            window.select(task_id)
        return window

    async def read_tail(self, task_id: str, offset: int) -> TailChunk | None:
        try:
            path = self.queue.log_path(task_id)
        except LookupError:
            return None
        return await runtime.run_blocking(read_chunk, path, offset, lane="io")

    def new_agent(self) -> NewAgentDialog:
        """Open the "New agent" dialog (one at a time)."""
        from trayapp.ui.agents_dialog import NewAgentDialog
        from trayapp.ui.theme import resolve

        if self.dialog is not None and self.dialog.isVisible():
            self.dialog.raise_()
            return self.dialog
        tasks = sorted(self.queue.tasks(), key=lambda t: t.created_at.timestamp() if t.created_at else 0.0)
        recent = [t.spec.folder for t in reversed(tasks) if t.spec.folder]
        slots = [s.name for s in self.queue.slots]
        dialog = self.dialog = NewAgentDialog(
            recent,
            estimate=lambda folder: ca.estimate_cost(self.queue.tasks(), folder),
            slots=slots,
            theme=resolve(str(self.cw.settings.get("ui.theme"))),
        )
        dialog.submitted.connect(
            lambda spec: runtime.spawn(self.submit(spec), name="agents submit", group=self)
        )
        dialog.show()
        return dialog

    async def submit(self, spec: ca.TaskSpec) -> ca.Task | None:
        dialog = self.dialog
        try:
            task: ca.Task = await self.queue.submit(spec)
        except Exception as exc:
            log.warning("agents: could not queue the task: %s", exc)
            if dialog is not None:
                dialog.submit_failed(f"Could not start: {exc}")
            return None
        if dialog is not None:
            dialog.submit_done()
        self.open_window(task.id)
        return task

    # ----- actions
    def _find(self, task_id: str) -> ca.Task | None:
        return next((i.task for i in self.items if i.id == task_id), None)

    def stop_task(self, task_id: str) -> None:
        """Stop a task of the queue (one we did not start only because the user confirmed it in
        the window), or a Claude Code session outside the queue (confirmed too)."""
        task = self._find(task_id)
        if self.queue.get(task_id) is None and task is not None and not task.ours:
            runtime.spawn(self._stop_foreign(task), name="stop a foreign session", group=self)
            return
        force = task is not None and not task.ours
        stop = self.queue.stop(task_id, force=force)
        runtime.spawn(self._call(stop, "stop"), name=f"agents stop {task_id}", group=self)

    def restart_task(self, task_id: str) -> None:
        async def restart() -> None:
            task = await self._call(self.queue.restart(task_id), "restart")
            if task is not None and self.window is not None:
                self.updates.flush()
                self.window.select(task.id)

        runtime.spawn(restart(), name=f"agents restart {task_id}", group=self)

    async def _call(self, work: Awaitable[Any], what: str) -> Any:
        try:
            return await work
        except Exception as exc:
            log.warning("agents: %s failed: %s", what, exc)
            self.cw.tray.show_message(f"Agent {what} failed", str(exc)[:300])
            return None

    async def _stop_foreign(self, task: ca.Task) -> None:
        """A session we did not start and the queue does not hold (an interactive one), after the
        user's confirmation: SIGTERM to its process."""
        if task.pid:
            await self._call(runtime.run_blocking(stop_foreign_pid, task.pid, lane="io"), "stop")

    def open_log(self, task_id: str) -> None:
        """Its log file in the default viewer; when there is none (a background session: Claude
        Code keeps its output), a tray message says how to see it."""
        runtime.spawn(self._open_log(task_id), name=f"agents open log {task_id}", group=self)

    async def _open_log(self, task_id: str) -> None:
        path = self.queue.log_path(task_id)
        if await runtime.run_blocking(path.is_file, lane="io"):
            self._open_path(path)
            return
        task = self.queue.get(task_id)
        job = task.job_id if task is not None else None
        hint = f"Its output is Claude Code's: claude logs {job} (or claude attach {job})." if job else ""
        self.cw.tray.show_message("No log for this agent yet", hint or "It has not written any output yet.")

    def open_folder(self, task_id: str) -> None:
        task = self._find(task_id)
        if task is not None and task.spec.folder:
            self._open_path(Path(task.spec.folder))

    @staticmethod
    def _open_path(path: Path) -> None:
        from PySide6.QtCore import QUrl
        from PySide6.QtGui import QDesktopServices

        QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))

    def on_action(self, name: str, alert: Alert) -> None:
        """A notification button: "Open" (the window at the task) or "Open log"."""
        task_id = alert.extra.get("task_id", "")
        if name == OPEN:
            self.open_window(task_id or None)
        elif name == OPEN_LOG and task_id:
            self.open_log(task_id)

    def runs_session(self, session_id: str) -> bool:
        """Whether ``session_id`` is one of our agents' runs (a headless child's chosen id, or a
        background session whose job we started), whose notices are ours to give."""
        ours = [t for t in self.queue.tasks() if t.ours]
        if any(t.session_id == session_id for t in ours):
            return True
        jobs = {t.job_id for t in ours if t.job_id}
        return any(s.session_id == session_id and s.job_id in jobs for s in self.sessions)

    # ----- lifecycle
    async def start(self) -> None:
        cw = self.cw
        await self.queue.start()
        self.started = True
        self.notices.seed(self.queue.tasks())
        self._unsubscribe = self.queue.subscribe(self.on_queue)
        view = limit_view(cw.state)
        if view is not None:
            self.queue.set_limits(view)
        if cw.usage is not None:
            cw.usage.state_changed.connect(self.on_state)
            # A run's rate_limit_event is a free, fresh reading for the usage engine (the default
            # account's: the runs use its login).
            from trayapp.services.agent_usage import route_readings

            self._unroute = route_readings(self.queue.on_rate_limit, cw.usage.engine, cw.clock.now)
        sessions = cw.sessions.service
        sessions.sessions_changed.connect(self.on_sessions)
        sessions.announced_elsewhere = self.runs_session  # no "Claude finished" beside "Agent done"
        self.sessions = list(sessions.sessions)
        self._unfollow = cw.settings.subscribe(["agents", "ui.theme"], self._settings_changed)
        if cw.single is not None:
            try:
                from trayapp.services.agent_ipc import serve_agents
            except ImportError as exc:  # the CLI's side is optional: the tray works without it
                log.warning("agents: the CLI cannot reach the app (%s)", exc)
            else:
                self._unserve = cw.single.add_handler("agents", serve_agents(self.queue))
        self.updates.push(None)

    def _settings_changed(self, keys: list[str], _settings: object) -> None:
        if any(k.startswith("agents.") for k in keys):
            self.queue.set_policy(policy(self.cw))
        if "ui.theme" in keys:  # the popup's section follows the popup; the window and dialog here
            from trayapp.ui.theme import resolve

            theme = resolve(str(self.cw.settings.get("ui.theme")))
            for view in (self.window, self.dialog):
                if view is not None:
                    view.set_theme(theme)

    def on_state(self, state: AccountState) -> None:
        view = limit_view(state)
        if view is not None:
            self.queue.set_limits(view)

    async def shutdown(self) -> None:
        for undo in (self._unserve, self._unsubscribe, self._unfollow, self._unroute):
            if undo is not None:
                undo()
        self._unserve = self._unsubscribe = self._unfollow = self._unroute = None
        try:
            self.cw.sessions.service.sessions_changed.disconnect(self.on_sessions)
            if self.cw.usage is not None:
                self.cw.usage.state_changed.disconnect(self.on_state)
        except (RuntimeError, TypeError):
            pass
        self.updates.stop()
        await self.queue.stop_all()
        await runtime.drain(5.0, group=self, cancel_after=True)
        await runtime.run_blocking(self.queue.repo.close, lane="io")
        if self.window is not None:
            self.window.hide()


def policy(cw: ClaudeWatch) -> ca.QueuePolicy:
    """The queue's policy from ``agents.max_concurrent`` and ``agents.hold_above`` (the defaults
    while those settings are not known)."""
    from trayapp.core.agents import policy_from_settings

    try:
        return policy_from_settings(cw.settings.get)
    except (KeyError, TypeError, ValueError):
        return ca.QueuePolicy()


def build_queue(cw: ClaudeWatch) -> AgentQueue:
    from trayapp.services.agent_queue import AgentQueue
    from trayapp.store.agents_repo import AgentsRepo

    return AgentQueue(AgentsRepo(), clock=cw.clock, policy=policy(cw))


def attach(cw: ClaudeWatch) -> None:
    ui = AgentsUi(cw, build_queue(cw))
    _uis[cw] = ui
    cw.panel_factories.append(ui.make_panel)
    cw.tray.menu_entries.append(("Agents…", lambda: ui.open_window()))
    cw.desktop.action_routes[ROUTE] = ui.on_action


async def start(cw: ClaudeWatch) -> Callable[[], Awaitable[object]] | None:
    ui = _uis.get(cw)
    if ui is None:
        return None
    await ui.start()
    log.info("agents running (%d tasks known)", len(ui.queue.tasks()))
    return ui.shutdown
