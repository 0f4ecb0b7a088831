"""Runs the alert policy on every account state and hands the alerts to the channels.

:class:`AlertStore` keeps the policy's memory (fired alert keys, last seen window instances,
held fresh-window alerts) and the pause in ``paths.state_dir()/alerts.json``, written atomically
(temp file + rename) before anything is sent, so a crash or restart never repeats an alert. A
corrupt file is set aside (``alerts.json.bad``) and the app carries on. :class:`AlertService`
evaluates, saves, then starts one task per enabled channel: the desktop channel first, and no
channel ever waits for another, so a slow Telegram send never delays the desktop notification.

Signals:
    alert_fired(object): an :class:`Alert` the policy decided to send.
    delivered(object): a channel's :class:`Delivery` for an alert.
    paused_changed(object): the pause end (aware datetime) or None when alerts resumed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import tempfile
from collections.abc import Callable, Coroutine, Sequence
from datetime import datetime, time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from trayapp import paths
from trayapp.channels.base import Channel, Delivery
from trayapp.core.alert_policy import PolicyConfig, PolicyMemory, evaluate, parse_quiet_hours
from trayapp.core.clock import Clock, SystemClock
from trayapp.core.models import AccountState, Alert

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
    alert_fired = Signal(object)
    delivered = Signal(object)
    paused_changed = Signal(object)

    def __init__(
        self,
        get_setting: Callable[[str], Any],
        channels: Sequence[Channel] = (),
        clock: Clock | None = None,
        store: AlertStore | None = None,
        parent: QObject | None = None,
        dispatcher: Any = None,
    ) -> None:
        super().__init__(parent)
        self.get_setting = get_setting
        self.channels: list[Channel] = list(channels)
        # A channels.dispatcher.Dispatcher, when the full channel set (with quips) is wired.
        self.dispatcher = dispatcher
        self.clock: Clock = clock or SystemClock()
        self.store = store or AlertStore()
        self.memory, self.paused_until = self.store.load()
        self._tasks: set[asyncio.Task[Any]] = set()
        self.history: list[tuple[Alert, Delivery]] = []

    def add_channel(self, channel: Channel) -> None:
        self.channels.append(channel)

    def is_paused(self) -> bool:
        return self.paused_until is not None and self.paused_until > self.clock.now()

    def pause(self, until: datetime | None) -> None:
        """Hold every alert until ``until``; None resumes at once."""
        self.paused_until = until
        self._save()
        self.paused_changed.emit(until)

    def on_state(self, state: AccountState) -> list[Alert]:
        """Evaluate ``state``; persist, then send what fired. Returns the alerts."""
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
            self.alert_fired.emit(alert)
            self.dispatch(alert)
        return alerts

    def dispatch(self, alert: Alert, quip: str | None = None) -> None:
        """Start one independent send per enabled channel (desktop first).

        With a dispatcher, it decides (it starts the quip-less channels, the desktop among them,
        at once and only then waits for a quip for the others).
        """
        if self.dispatcher is not None:
            self.spawn(self._dispatch(alert))
            return
        ordered = sorted(self.channels, key=lambda c: c.name != "desktop")
        for channel in ordered:
            try:
                if not channel.enabled():
                    continue
            except Exception:
                log.exception("channel %s: enabled() failed", getattr(channel, "name", "?"))
                continue
            self.spawn(self._send(channel, alert, quip))

    async def _dispatch(self, alert: Alert) -> None:
        result = await self.dispatcher.dispatch(alert)
        for delivery in result.deliveries:
            self._record(alert, delivery)

    def _record(self, alert: Alert, delivery: Delivery) -> None:
        log.info(
            "alert %s via %s: %s",
            alert.key,
            delivery.channel,
            delivery.detail or ("sent" if delivery.ok else "failed"),
        )
        self.history.append((alert, delivery))
        self.delivered.emit(delivery)

    async def _send(self, channel: Channel, alert: Alert, quip: str | None) -> Delivery:
        try:
            delivery = await channel.send(alert, quip)
        except Exception as exc:  # channels promise not to raise; never let one take the app down
            log.exception("channel %s raised", channel.name)
            delivery = Delivery(channel.name, False, f"error: {type(exc).__name__}")
        log.info(
            "alert %s via %s: %s",
            alert.key,
            delivery.channel,
            delivery.detail or ("sent" if delivery.ok else "failed"),
        )
        self.history.append((alert, delivery))
        self.delivered.emit(delivery)
        return delivery

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any] | None:
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
