"""Runs the alert policy on every account state and hands what fires to the dispatcher.

:class:`AlertStore` keeps the policy's memory (fired alert keys, last seen window instances,
held fresh-window alerts) and the pause in ``paths.state_dir()/alerts.json``, written atomically
(temp file + rename) before anything is sent, so a crash or restart never repeats an alert. A
corrupt file is set aside (``alerts.json.bad``) and the app carries on. :class:`AlertService`
evaluates, saves, then starts one delivery task per alert through the
:class:`~trayapp.channels.dispatcher.Dispatcher`, the only delivery path: it sends to the instant
channels (desktop, sound) at once and never makes them wait for a quip or a remote channel.
The service is also the one owner of the pause ("pause alerts for 1 h", "Snooze 1 h" on a
notification); the tray shows it by following ``paused_changed``.

Signals:
    paused_changed(object): the pause end (aware datetime) or None when alerts resumed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import tempfile
from collections.abc import Callable, Coroutine
from datetime import datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from trayapp import paths
from trayapp.core.alert_policy import PolicyConfig, PolicyMemory, evaluate, parse_quiet_hours
from trayapp.core.clock import Clock, SystemClock
from trayapp.core.models import AccountState, Alert

if TYPE_CHECKING:
    from trayapp.channels.dispatcher import Dispatcher

log = logging.getLogger(__name__)


def alerts_file() -> Path:
    return paths.state_dir() / "alerts.json"


class AlertStore:
    """The persisted policy memory and pause, in one small JSON file."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or alerts_file()

    def load(self) -> tuple[PolicyMemory, datetime | None]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return PolicyMemory(), None
        except (OSError, ValueError) as exc:
            log.warning("alert memory %s unreadable (%s); starting afresh", self.path, exc)
            try:
                os.replace(self.path, self.path.with_name(self.path.name + ".bad"))
            except OSError:
                pass
            return PolicyMemory(), None
        paused: datetime | None = None
        if isinstance(data, dict) and data.get("paused_until"):
            try:
                paused = datetime.fromisoformat(data["paused_until"])
            except (TypeError, ValueError):
                paused = None
        return PolicyMemory.from_json(data), paused

    def save(self, memory: PolicyMemory, paused_until: datetime | None) -> None:
        data = memory.to_json()
        data["paused_until"] = paused_until.isoformat() if paused_until else None
        paths.ensure(self.path.parent)
        fd, tmp = tempfile.mkstemp(prefix=".alerts-", suffix=".json", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh, indent=1)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def config_from_settings(get: Callable[[str], Any], paused_until: datetime | None) -> PolicyConfig:
    """The policy's configuration from the settings (``settings.get``) and the current pause."""
    quiet: tuple[time, time] | None = parse_quiet_hours(str(get("alerts.quiet_hours") or ""))
    return PolicyConfig(
        enabled=bool(get("alerts.enabled")),
        five_hour_thresholds=tuple(int(v) for v in get("alerts.five_hour_thresholds")),
        weekly_thresholds=tuple(int(v) for v in get("alerts.weekly_thresholds")),
        predictive=bool(get("alerts.predictive")),
        fresh_window=bool(get("alerts.fresh_window")),
        quiet_hours=quiet,
        paused_until=paused_until,
    )


class AlertService(QObject):
    """Evaluates each state, persists the policy memory and the pause, delivers what fires."""

    paused_changed = Signal(object)

    def __init__(
        self,
        get_setting: Callable[[str], Any],
        dispatcher: Dispatcher,
        clock: Clock | None = None,
        store: AlertStore | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.get_setting = get_setting
        self.dispatcher = dispatcher
        self.clock: Clock = clock or SystemClock()
        self.store = store or AlertStore()
        self.memory, self.paused_until = self.store.load()
        self._tasks: set[asyncio.Task[Any]] = set()

    def pause(self, until: datetime | None) -> None:
        """Hold every alert until ``until``; None resumes at once."""
        self.paused_until = until
        self._save()
        self.paused_changed.emit(until)

    def on_state(self, state: AccountState) -> list[Alert]:
        """Evaluate ``state``; persist, then deliver what fired. Returns the alerts."""
        now = self.clock.now()
        if self.paused_until is not None and self.paused_until <= now:
            self.paused_until = None
            self.paused_changed.emit(None)
        config = config_from_settings(self.get_setting, self.paused_until)
        alerts, memory = evaluate(state, config, self.memory, now)
        if memory != self.memory or alerts:
            self.memory = memory
            self._save()
        for alert in alerts:
            log.info("alert %s: %s", alert.key, alert.title)
            # The dispatcher logs each channel's outcome and never raises for a channel.
            self._spawn(self.dispatcher.dispatch(alert))
        return alerts

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any] | None:
        """Run ``coro`` as a task that is kept alive and whose exception is logged."""
        try:
            task = asyncio.get_running_loop().create_task(coro)
        except RuntimeError:
            coro.close()
            log.warning("no event loop: alert delivery skipped")
            return None
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("alert task failed", exc_info=task.exception())

    async def drain(self) -> None:
        """Wait for every send in flight (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _save(self) -> None:
        try:
            self.store.save(self.memory, self.paused_until)
        except OSError as exc:
            log.error("could not save alert memory to %s: %s", self.store.path, exc)
