"""Runs the alert policy on every account state and hands what fires to the dispatcher.

:class:`AlertStore` keeps the policy's memory (fired alert keys, last seen window instances,
held fresh-window alerts) and the pause in ``paths.state_dir()/alerts.json``, written atomically
(temp file + rename) before anything is sent, so a crash or restart never repeats an alert. A
corrupt file is set aside (``alerts.json.bad``) and the app carries on. :class:`AlertService`
evaluates, saves, then starts one delivery task per alert (``runtime.spawn``, in the service's
own task group) through the :class:`~trayapp.channels.dispatcher.Dispatcher`, the only delivery
path: it sends to the instant channels (desktop, sound) at once and never makes them wait for a
quip or a remote channel. At shutdown :meth:`AlertService.drain` lets the sends in flight finish
for a bounded time and cancels the rest.
Several accounts (issue 16): :meth:`AlertService.follow_accounts` makes every evaluation run over
each account's latest state with that account's own memory (kept under ``accounts`` in the same
file); alerts are then titled "Work: 5-hour at 90%" and keyed per account. The default account
keeps the memory and keys it had before accounts existed, so nothing is announced twice.
The service is also the one owner of the pause ("pause alerts for 1 h", "Snooze 1 h" on a
notification); the tray shows it by following ``paused_changed``.

Signals:
    paused_changed(object): the pause end (aware datetime) or None when alerts resumed.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from trayapp import paths, runtime
from trayapp.core import accounts as ac
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

    def load_accounts(self) -> dict[str, PolicyMemory]:
        """The other accounts' memories, by account key (none before accounts existed)."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        raw = data.get("accounts") if isinstance(data, dict) else None
        if not isinstance(raw, dict):
            return {}
        return {str(k): PolicyMemory.from_json(v) for k, v in raw.items()}

    def save(
        self,
        memory: PolicyMemory,
        paused_until: datetime | None,
        accounts: Mapping[str, PolicyMemory] | None = None,
    ) -> None:
        data = memory.to_json()
        data["paused_until"] = paused_until.isoformat() if paused_until else None
        if accounts:
            data["accounts"] = {key: m.to_json() for key, m in accounts.items()}
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
        self.account_memory: dict[str, PolicyMemory] = self.store.load_accounts()
        # label -> (key, state) of every account, when there are several (follow_accounts).
        self._accounts: Callable[[], Mapping[str, tuple[str, AccountState]]] | None = None
        self._several: Callable[[], bool] = lambda: False

    def follow_accounts(
        self,
        states: Callable[[], Mapping[str, tuple[str, AccountState]]],
        several: Callable[[], bool] | None = None,
    ) -> None:
        """Evaluate every account's state (label -> (key, state)) at each new state from now on;
        ``several``: more than one account is configured (titles name the account even before the
        others' first readings)."""
        self._accounts = states
        self._several = several or (lambda: False)

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
        accounts = self._accounts() if self._accounts is not None else {}
        if len(accounts) > 1 or (accounts and self._several()):
            alerts = self._evaluate_accounts(accounts, config, now)
        else:
            alerts, memory = evaluate(state, config, self.memory, now)
            if memory != self.memory or alerts:
                self.memory = memory
                self._save()
        for alert in alerts:
            log.info("alert %s: %s", alert.key, alert.title)
            # The dispatcher logs each channel's outcome and never raises for a channel.
            task = runtime.try_spawn(self.dispatcher.dispatch(alert), f"alert {alert.key}", group=self)
            if task is None:
                log.warning("no event loop: alert delivery skipped")
        return alerts

    def _evaluate_accounts(
        self, accounts: Mapping[str, tuple[str, AccountState]], config: PolicyConfig, now: datetime
    ) -> list[Alert]:
        out: list[Alert] = []
        changed = False
        for label, (key, state) in accounts.items():
            before = self.memory if key == ac.DEFAULT_KEY else self.account_memory.get(key, PolicyMemory())
            alerts, memory = evaluate(state, config, before, now)
            if memory != before or alerts:
                changed = True
                if key == ac.DEFAULT_KEY:
                    self.memory = memory
                else:
                    self.account_memory[key] = memory
            out += [
                replace(
                    a,
                    key=ac.account_key(key, a.key),
                    title=ac.account_title(label, a.title, several=True),
                )
                for a in alerts
            ]
        if changed:
            self._save()
        return out

    async def drain(self, timeout: float | None = None) -> bool:
        """Wait for every send in flight (tests, shutdown); after ``timeout`` seconds cancel the rest.

        Returns True when every send finished on its own, False when some were cancelled (they
        stay in the outbox when they got that far, and go out after the next start).
        """
        return await runtime.drain(timeout, group=self, cancel_after=True)

    def _save(self) -> None:
        try:
            self.store.save(self.memory, self.paused_until, self.account_memory)
        except OSError as exc:
            log.error("could not save alert memory to %s: %s", self.store.path, exc)
