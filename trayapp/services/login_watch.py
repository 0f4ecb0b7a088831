"""Watches every account's Claude Code login deadline, read-only, and warns before one lapses.

:class:`LoginWatch` reads each account's credentials through :mod:`trayapp.sources.credentials` on the io lane
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

Several accounts (issue 16): :meth:`LoginWatch.set_accounts` follows the accounts list. The default
login is read as before; an added account through
:func:`~trayapp.services.usage_accounts.credentials_loader` (its own folder only), its files
watched too. Each has its own 401 spell (:meth:`on_account_state`), its own warnings (the memory is
keyed by the account's stable key: a rename repeats none) and texts naming it when there are
several.

Signals:
    status_changed(object): one account's :class:`~trayapp.core.login_freshness.LoginStatus`.
    statuses_changed(object): every account's status, a tuple in account order, after any change.
    signed_in_again(): the default login was signed out and now is usable again.
    account_signed_in_again(str): the same for an added account (its label).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal

from trayapp import paths, runtime
from trayapp.core import login_freshness as lf
from trayapp.core.accounts import DEFAULT_KEY, Account, same_label
from trayapp.core.clock import Clock, SystemClock
from trayapp.core.models import AccountState, ErrorKind
from trayapp.sources.credentials import CredentialsReport, CredentialStatus, candidate_files, load_credentials
from trayapp.store.files import atomic_write, read_capped

if TYPE_CHECKING:
    from trayapp.channels.dispatcher import Dispatcher

log = logging.getLogger(__name__)

Loader = Callable[[datetime], CredentialsReport]
Signature = tuple[int, int, int] | None

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


def _signature(path: Path) -> Signature:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns


def account_loader(account: Account) -> Loader:
    from trayapp.services.usage_accounts import credentials_loader

    return credentials_loader(account)


def account_files(account: Account) -> list[Path]:
    """The credentials files an added account's login lives in (its folder only)."""
    return candidate_files([account.config_dir], account.config_dir)


def command_for(account: Account) -> str:
    """The sign-in command shown for ``account`` (an added one names its folder)."""
    if account.is_default:
        return lf.SIGN_IN_COMMAND
    return lf.sign_in_text(str(account.config_dir), str(Path.home()))


@dataclass(slots=True)
class _Login:
    """One account's login as watched: the watch's own bookkeeping (mutable, never shared)."""

    account: Account
    load: Loader
    paths: list[Path]
    signatures: list[Signature] = field(default_factory=list)
    stamp: str | None = None
    auth_failed: bool = False  # the endpoint said 401 for the current credentials
    status: lf.LoginStatus | None = None

    def look(self) -> bool:
        """Stat the files again; whether anything changed since the last look."""
        now = [_signature(p) for p in self.paths]
        changed, self.signatures = now != self.signatures, now
        return changed


class LoginWatch(QObject):
    status_changed = Signal(object)
    statuses_changed = Signal(object)
    signed_in_again = Signal()
    account_signed_in_again = Signal(str)

    def __init__(
        self,
        dispatcher: Dispatcher | None,
        *,
        clock: Clock | None = None,
        held: Callable[[], bool] = lambda: False,
        loader: Loader | None = None,
        watch_paths: Sequence[Path] | None = None,
        store: LoginMemoryStore | None = None,
        account: str = lf.DEFAULT_ACCOUNT,
        tz: tzinfo | None = None,
        tick: float = TICK,
        loader_for: Callable[[Account], Loader] = account_loader,
        files_for: Callable[[Account], list[Path]] = account_files,
        parent: QObject | None = None,
    ) -> None:
        """``loader`` and ``watch_paths``: the default login's (None: Claude Code's own lookup);
        ``loader_for`` and ``files_for``: an added account's."""
        super().__init__(parent)
        self.dispatcher = dispatcher
        self.clock: Clock = clock or SystemClock()
        self.held = held
        self.store = store or LoginMemoryStore()
        self.tz = tz
        self.tick = tick
        self.loader_for, self.files_for = loader_for, files_for
        self.memory = lf.LoginMemory()
        self.sent: list[Any] = []  # alerts handed to the dispatcher (tests, doctor)
        default = Account(account, paths.claude_config_dirs()[0], DEFAULT_KEY)
        first = _Login(
            default,
            loader or (lambda now: load_credentials(now)),
            list(watch_paths) if watch_paths is not None else candidate_files(),
        )
        first.look()
        self._logins: dict[str, _Login] = {DEFAULT_KEY: first}
        self._started = False
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

    # --- what is known -------------------------------------------------------------------------
    @property
    def status(self) -> lf.LoginStatus | None:
        """The default login's status (None before the first check)."""
        return self._logins[DEFAULT_KEY].status

    @property
    def statuses(self) -> tuple[lf.LoginStatus, ...]:
        """Every checked account's status, in account order."""
        return tuple(login.status for login in self._logins.values() if login.status is not None)

    @property
    def accounts(self) -> list[Account]:
        return [login.account for login in self._logins.values()]

    @property
    def paths(self) -> list[Path]:
        return [p for login in self._logins.values() for p in login.paths]

    def status_of(self, label: str) -> lf.LoginStatus | None:
        login = self._by_label(label)
        return login.status if login is not None else None

    def _by_label(self, label: str) -> _Login | None:
        return next((x for x in self._logins.values() if same_label(x.account.label, label)), None)

    # --- life cycle ----------------------------------------------------------------------------
    async def start(self) -> None:
        """Load the memory, check once, then watch (the files, the clock, the daily time)."""
        self.memory = await runtime.run_blocking(self.store.load, lane="io")
        self._started = True
        self._arm()
        await self.check("start")
        self._task = runtime.spawn(self._run(), name="login watch", group=self)

    async def stop(self) -> None:
        self._started = False
        self._settle.stop()
        watched = self._watcher.files() + self._watcher.directories()
        if watched:
            self._watcher.removePaths(watched)
        if self._task is not None:
            self._task.cancel()
            await runtime.drain(1.0, group=self, cancel_after=True)
            self._task = None

    async def set_accounts(self, accounts: Sequence[Account]) -> None:
        """Follow the accounts list (the default first): new accounts are checked at once (when
        started), removed ones forgotten (their memory stays: re-added, nothing repeats), renamed
        ones keep their state and show their new label."""
        new: list[_Login] = []
        async with self._lock:
            logins: dict[str, _Login] = {}
            for account in accounts:
                old = self._logins.get(account.key)
                if old is not None and (account.is_default or old.account.config_dir == account.config_dir):
                    old.account = replace(account, config_dir=old.account.config_dir)
                    logins[account.key] = old
                    continue
                if account.is_default:
                    continue  # always there; never rebuilt
                login = _Login(account, self.loader_for(account), self.files_for(account))
                await runtime.run_blocking(login.look, lane="io")
                logins[account.key] = login
                new.append(login)
            logins.setdefault(DEFAULT_KEY, self._logins[DEFAULT_KEY])
            logins = {DEFAULT_KEY: logins.pop(DEFAULT_KEY), **logins}
            renamed = [x for x in logins.values() if x.status and x.status.name != x.account.label]
            changed = list(logins) != list(self._logins) or bool(renamed)
            self._logins = logins
            for login in logins.values():
                if login.status is not None:
                    login.status = self._dressed(login, login.status)
        if not self._started:
            return
        self._arm()
        for login in new:
            await self._check(login, "account added")
        if changed and not new:
            self.statuses_changed.emit(self.statuses)

    def on_state(self, state: AccountState) -> None:
        """A usage reading of the default login: a 401 (AUTH) is signed out, a good reading signed in."""
        self._on_state(self._logins[DEFAULT_KEY], state)

    def on_account_state(self, label: str, state: AccountState) -> None:
        """An added account's reading (the usage service's ``account_state_changed``)."""
        login = self._by_label(label)
        if login is not None and not login.account.is_default:
            self._on_state(login, state)

    def _on_state(self, login: _Login, state: AccountState) -> None:
        failed = state.error is not None and state.error.kind is ErrorKind.AUTH
        if state.error is None and state.snapshot is not None:
            failed = False
        elif not failed:
            return  # a network or server problem says nothing about the login
        if failed != login.auth_failed:
            login.auth_failed = failed
            if login.status is not None:
                # A good reading ending the spell is the reading: no "signed in again" asks for another.
                self._publish(login, self._with_auth(login, login.status), login.status, announce=False)

    # --- checks --------------------------------------------------------------------------------
    async def check(self, why: str) -> lf.LoginStatus | None:
        """Re-read every account's credentials, warn where a threshold is due, publish; returns
        the default login's status."""
        for login in list(self._logins.values()):
            await self._check(login, why)
        return self.status

    async def _check(self, login: _Login, why: str) -> lf.LoginStatus:
        async with self._lock:
            now = self.clock.now()
            report: CredentialsReport = await runtime.run_blocking(login.load, now, lane="io")
            if report.stamp != login.stamp:
                if login.stamp is not None:
                    log.info("%s's credentials changed (%s)", login.account.label, why)
                    login.auth_failed = False  # a new login is tried afresh
                login.stamp = report.stamp
            status = self._dressed(login, status_from_report(report, login.account.key, now))
            alert, memory = lf.evaluate(status, self.memory, held=self.held(), tz=self.tz)
            if memory != self.memory:
                try:
                    await runtime.run_blocking(self.store.save, memory, lane="io")
                except OSError as exc:
                    log.error("cannot save the login memory (%s): the warning waits", exc)
                    alert, memory = None, self.memory
                self.memory = memory
            before = login.status
        log.info("login check (%s): %s", why, lf.status_text(status, self.tz))
        if alert is not None:
            log.info("login warning %s: %s", alert.key, alert.title)
            self.sent.append(alert)
            if self.dispatcher is not None:
                runtime.spawn(self.dispatcher.dispatch(alert), f"login warning {alert.key}", group=self)
        self._publish(login, status, before)
        return status

    def _dressed(self, login: _Login, status: lf.LoginStatus) -> lf.LoginStatus:
        """The status with the account's label, the sign-in command and the 401 spell."""
        account = login.account
        status = replace(
            status, label=account.label, several=len(self._logins) > 1, command=command_for(account)
        )
        return self._with_auth(login, status)

    def _with_auth(self, login: _Login, status: lf.LoginStatus) -> lf.LoginStatus:
        if login.auth_failed and status.signed_in:
            return replace(status, signed_in=False, reason="The usage endpoint refused the login (401).")
        if not login.auth_failed and not status.signed_in and status.reason.endswith("(401)."):
            return replace(status, signed_in=True, reason="")
        return status

    def _publish(
        self, login: _Login, status: lf.LoginStatus, before: lf.LoginStatus | None, *, announce: bool = True
    ) -> None:
        login.status = status
        self.status_changed.emit(status)
        self.statuses_changed.emit(self.statuses)
        if announce and before is not None and not before.signed_in and status.signed_in:
            log.info("%s is signed in again", login.account.label)
            if login.account.is_default:
                self.signed_in_again.emit()
            else:
                self.account_signed_in_again.emit(login.account.label)

    # --- watching ------------------------------------------------------------------------------
    def _arm(self) -> None:
        """(Re)watch each credentials file and its folder (a replaced file needs a new watch)."""
        files, dirs = set(self._watcher.files()), set(self._watcher.directories())
        for path in self.paths:
            if str(path.parent) not in dirs and path.parent.is_dir():
                self._watcher.addPath(str(path.parent))
                dirs.add(str(path.parent))
            if str(path) not in files and path.exists():
                self._watcher.addPath(str(path))
                files.add(str(path))

    def _soon(self, _path: str = "") -> None:
        self._settle.start()

    def _changed(self) -> None:
        self._arm()
        runtime.try_spawn(self._look("credentials changed"), "login check", group=self)

    async def _look(self, why: str) -> None:
        """Check the accounts whose files changed (a folder's other files change all the time)."""
        for login in list(self._logins.values()):
            if login.look():
                await self._check(login, why)

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
        self._wall, self._mono = now, mono
        if why:
            self._next_daily = lf.next_daily_check(now, self.tz)
            for login in list(self._logins.values()):
                login.look()
            self._arm()
            await self.check(why)
            return
        changed = [login for login in list(self._logins.values()) if login.look()]
        if changed:
            self._arm()
        for login in changed:
            await self._check(login, "credentials changed")
