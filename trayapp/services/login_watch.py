"""Watches Claude Code's login deadline, read-only, and warns before it lapses.

:class:`LoginWatch` reads the credentials through :mod:`trayapp.sources.credentials` on the io lane
(never writing, refreshing or copying them) and runs the pure rules of
:mod:`trayapp.core.login_freshness`: at start, once a day at a fixed local time, after a sleep (wall
time running ahead of monotonic time) and whenever the credentials file changes (a
``QFileSystemWatcher`` on the file and its folder, as Claude Code replaces the file; a cheap ``stat``
each tick catches what the watcher misses). A due warning is saved as sent in
``state/login-freshness.json`` *before* it goes to the dispatcher, so a restart never repeats one.

Signed out means: the credentials are missing or emptied (Claude Code writes empty strings and
``expiresAt: 0`` after a rejected refresh), or the usage endpoint answered 401 (:meth:`on_state`).
A changed credentials file ends a 401 spell; when the login comes back ``signed_in_again`` fires
(the feature then asks the usage service for a reading at once).

Signals:
    status_changed(object): the account's :class:`~trayapp.core.login_freshness.LoginStatus`.
    signed_in_again(): the account was signed out and now has a usable login.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal

from trayapp import paths, runtime
from trayapp.core import login_freshness as lf
from trayapp.core.clock import Clock, SystemClock
from trayapp.core.models import AccountState, ErrorKind
from trayapp.sources.credentials import CredentialsReport, CredentialStatus, candidate_files, load_credentials
from trayapp.store.files import atomic_write, read_capped

if TYPE_CHECKING:
    from trayapp.channels.dispatcher import Dispatcher

log = logging.getLogger(__name__)

TICK = 60.0  # seconds between the loop's looks at the clock and the file's stat
SETTLE_MS = 300  # a replaced file is several events
MAX_MEMORY_BYTES = 256_000
SIGNED_IN = (CredentialStatus.OK, CredentialStatus.EXPIRED, CredentialStatus.MISSING_SCOPE)


def memory_file() -> Path:
    return paths.state_dir() / "login-freshness.json"


class LoginMemoryStore:
    """The warnings already sent, per account and login, in one small JSON file."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or memory_file()

    def load(self) -> lf.LoginMemory:
        try:
            return lf.LoginMemory.from_json(json.loads(read_capped(self.path, MAX_MEMORY_BYTES)))
        except FileNotFoundError:
            return lf.LoginMemory()
        except (OSError, ValueError, RecursionError) as exc:
            log.warning("login memory %s unreadable (%s); starting afresh", self.path, exc)
            return lf.LoginMemory()

    def save(self, memory: lf.LoginMemory) -> None:
        atomic_write(self.path, json.dumps(memory.to_json(), indent=1))


def status_from_report(report: CredentialsReport, account: str, now: datetime) -> lf.LoginStatus:
    creds = report.credentials
    signed_in = report.status in SIGNED_IN and creds is not None
    deadline = creds.login_expires_at if creds is not None else None
    return lf.LoginStatus(account, signed_in, deadline, now, "" if signed_in else (report.message or ""))


def _signature(path: Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns


class LoginWatch(QObject):
    status_changed = Signal(object)
    signed_in_again = Signal()

    def __init__(
        self,
        dispatcher: Dispatcher | None,
        *,
        clock: Clock | None = None,
        held: Callable[[], bool] = lambda: False,
        loader: Callable[[datetime], CredentialsReport] | None = None,
        watch_paths: Sequence[Path] | None = None,
        store: LoginMemoryStore | None = None,
        account: str = lf.DEFAULT_ACCOUNT,
        tz: tzinfo | None = None,
        tick: float = TICK,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.dispatcher = dispatcher
        self.clock: Clock = clock or SystemClock()
        self.held = held
        self._load = loader or (lambda now: load_credentials(now))
        self.paths = list(watch_paths) if watch_paths is not None else candidate_files()
        self.store = store or LoginMemoryStore()
        self.account = account
        self.tz = tz
        self.tick = tick
        self.memory = lf.LoginMemory()
        self.status: lf.LoginStatus | None = None
        self.sent: list[Any] = []  # alerts handed to the dispatcher (tests, doctor)
        self._auth_failed = False  # the endpoint said 401 for the current credentials
        self._stamp: str | None = None
        self._signatures = [_signature(p) for p in self.paths]
        self._next_daily = lf.next_daily_check(self.clock.now(), tz)
        self._wall, self._mono = self.clock.now(), self.clock.monotonic()
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._watcher = QFileSystemWatcher(self)
        self._watcher.fileChanged.connect(self._soon)
        self._watcher.directoryChanged.connect(self._soon)
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(SETTLE_MS)
        self._settle.timeout.connect(self._changed)

    # --- life cycle ----------------------------------------------------------------------------
    async def start(self) -> None:
        """Load the memory, check once, then watch (the file, the clock, the daily time)."""
        self.memory = await runtime.run_blocking(self.store.load, lane="io")
        self._arm()
        await self.check("start")
        self._task = runtime.spawn(self._run(), name="login watch", group=self)

    async def stop(self) -> None:
        self._settle.stop()
        watched = self._watcher.files() + self._watcher.directories()
        if watched:
            self._watcher.removePaths(watched)
        if self._task is not None:
            self._task.cancel()
            await runtime.drain(1.0, group=self, cancel_after=True)
            self._task = None

    def on_state(self, state: AccountState) -> None:
        """A usage reading: a 401 (AUTH) means signed out; a good reading means signed in."""
        failed = state.error is not None and state.error.kind is ErrorKind.AUTH
        if state.error is None and state.snapshot is not None:
            failed = False
        elif not failed:
            return  # a network or server problem says nothing about the login
        if failed != self._auth_failed:
            self._auth_failed = failed
            if self.status is not None:
                self._publish(self._with_auth(self.status), self.status)

    # --- checks --------------------------------------------------------------------------------
    async def check(self, why: str) -> lf.LoginStatus:
        """Re-read the credentials, warn if a threshold is due, publish the status."""
        async with self._lock:
            now = self.clock.now()
            report: CredentialsReport = await runtime.run_blocking(self._load, now, lane="io")
            if report.stamp != self._stamp:
                if self._stamp is not None:
                    log.info("Claude Code's credentials changed (%s)", why)
                    self._auth_failed = False  # a new login is tried afresh
                self._stamp = report.stamp
            status = self._with_auth(status_from_report(report, self.account, now))
            alert, memory = lf.evaluate(status, self.memory, held=self.held(), tz=self.tz)
            if memory != self.memory:
                try:
                    await runtime.run_blocking(self.store.save, memory, lane="io")
                except OSError as exc:
                    log.error("cannot save the login memory (%s): the warning waits", exc)
                    alert, memory = None, self.memory
                self.memory = memory
            before, self.status = self.status, status
        log.info("login check (%s): %s", why, lf.status_text(status, self.tz))
        if alert is not None:
            log.info("login warning %s: %s", alert.key, alert.title)
            self.sent.append(alert)
            if self.dispatcher is not None:
                runtime.spawn(self.dispatcher.dispatch(alert), f"login warning {alert.key}", group=self)
        self._publish(status, before)
        return status

    def _with_auth(self, status: lf.LoginStatus) -> lf.LoginStatus:
        if self._auth_failed and status.signed_in:
            return replace(status, signed_in=False, reason="The usage endpoint refused the login (401).")
        return status

    def _publish(self, status: lf.LoginStatus, before: lf.LoginStatus | None) -> None:
        self.status = status
        self.status_changed.emit(status)
        if before is not None and not before.signed_in and status.signed_in:
            log.info("Claude Code is signed in again")
            self.signed_in_again.emit()

    # --- watching ------------------------------------------------------------------------------
    def _arm(self) -> None:
        """(Re)watch each credentials file and its folder (a replaced file needs a new watch)."""
        files, dirs = set(self._watcher.files()), set(self._watcher.directories())
        for path in self.paths:
            if str(path.parent) not in dirs and path.parent.is_dir():
                self._watcher.addPath(str(path.parent))
            if str(path) not in files and path.exists():
                self._watcher.addPath(str(path))

    def _soon(self, _path: str = "") -> None:
        self._settle.start()

    def _changed(self) -> None:
        self._arm()
        self._signatures = [_signature(p) for p in self.paths]
        runtime.try_spawn(self.check("credentials changed"), "login check", group=self)

    async def _run(self) -> None:
        health = runtime.LoopHealth("login watch")
        while True:
            await asyncio.sleep(self.tick)
            try:
                await self._turn()
            except Exception as exc:
                await asyncio.sleep(health.failed(exc))
                continue
            health.succeeded()

    async def _turn(self) -> None:
        now, mono = self.clock.now(), self.clock.monotonic()
        why = ""
        if lf.slept(self._wall, self._mono, now, mono):
            why = "after sleep"
        elif now >= self._next_daily:
            why = "daily"
        signatures = [_signature(p) for p in self.paths]
        if signatures != self._signatures:
            self._signatures = signatures
            self._arm()
            why = why or "credentials changed"
        self._wall, self._mono = now, mono
        if why:
            self._next_daily = lf.next_daily_check(now, self.tz)
            await self.check(why)
