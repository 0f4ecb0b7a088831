"""Several Claude Code logins in the tray app (listed in :mod:`trayapp.app_features`).

``attach`` reads ``config/accounts.json`` (a refused file: the last good list; a small capped file,
read once while the app is built, before any poll) so that the alert service evaluates every
account with its own memory and names it in titles ("Work: 5-hour at 90%") from the very first
reading. ``start``, when there is more than the default account, gives the usage service one
engine per added account (polled in turn, each with its own cooldowns) and points the sessions
service at each account's folder. It then looks at the file once a minute: an account added with
``claude-watch accounts add`` starts polling, a removed one stops (its history stays). With one
account, or in the demo, nothing changes.

The views of several accounts (:mod:`.accounts_views`): ``attach`` registers the popup's account
strip (a panel at the top: a card per account, the headroom hint) and the tray's icons per account;
``start`` feeds them every account's readings and follows ``tray.accounts`` live.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

from trayapp import runtime
from trayapp.core.accounts import Account

if TYPE_CHECKING:
    from trayapp.app import ClaudeWatch
    from trayapp.core.models import AccountState
    from trayapp.features.accounts_views import AccountViews
    from trayapp.services.usage_service import UsageService
    from trayapp.store.accounts_repo import AccountsRepo

log = logging.getLogger(__name__)

RECHECK = 60.0  # seconds between looks at accounts.json


class _Known:
    """The accounts last read from the file (what the alert service names), and their views."""

    def __init__(self, accounts: list[Account], views: AccountViews | None = None) -> None:
        self.accounts = accounts
        self.views = views
        self.nudge = asyncio.Event()  # set by nudge(): look at the file now, not in a minute


def nudge(cw: ClaudeWatch) -> None:
    """Read accounts.json again now (the Settings page's Accounts saved it)."""
    known = _known.get(cw)
    if known is not None:
        known.nudge.set()


def views_of(cw: ClaudeWatch) -> AccountViews | None:
    """The app's account views (tests), once attached."""
    known = _known.get(cw)
    return known.views if known is not None else None


_known: WeakKeyDictionary[ClaudeWatch, _Known] = WeakKeyDictionary()


def attach(cw: ClaudeWatch) -> None:
    if cw.demo:
        return
    from trayapp.features.accounts_views import AccountViews
    from trayapp.store.accounts_repo import AccountsRepo

    views = AccountViews(cw)
    known = _known[cw] = _Known(AccountsRepo().load_or_last(), views)
    views.make_trays()
    cw.panel_factories.append(views.make_strip)  # built with the popup; it sits at the top (popup_slot)

    def states() -> dict[str, tuple[str, AccountState]]:
        usage = cw.usage
        if usage is None:
            return {}
        out: dict[str, tuple[str, AccountState]] = {}
        for a in known.accounts:
            engine = usage.engine if a.is_default else usage.engines.get(a.label)
            if engine is not None:
                out[a.label] = (a.key, engine.state)
        return out

    cw.alerts.follow_accounts(states, lambda: len(known.accounts) > 1)


async def apply(usage: UsageService, accounts: list[Account], current: list[Account]) -> list[Account]:
    """Bring the service from ``current`` to ``accounts``; returns the accounts now polled."""
    from trayapp.services.usage_accounts import account_engine, scope_default_captures

    base = usage.engine
    scope_default_captures(base, accounts)
    if next(iter(usage.engines)) != accounts[0].label:  # renamed, or named before the app started
        usage.add_account(accounts[0].label, base, default=True)
    wanted = {a.key: a for a in accounts[1:]}
    for old in current[1:]:
        new = wanted.get(old.key)
        if new is None or new.config_dir != old.config_dir or new.label != old.label:
            await usage.remove_account(old.label)
    polled = set(usage.engines)
    for account in accounts[1:]:
        if account.label not in polled:
            engine = await runtime.run_blocking(account_engine, account, accounts, base)
            usage.add_account(account.label, engine)
            log.info("polling account %s (%s)", account.label, account.config_dir)
    return list(accounts)


def follow_sessions(cw: ClaudeWatch, accounts: list[Account]) -> None:
    """Live sessions of every account: the sessions service reads each account's ``sessions/``."""
    from trayapp import paths

    service = getattr(getattr(cw, "sessions", None), "service", None)
    if service is None:
        return
    dirs = paths.claude_config_dirs()
    dirs += [a.config_dir for a in accounts[1:] if a.config_dir not in dirs]
    if dirs != service.config_dirs:
        service.set_config_dirs(dirs)


async def start(cw: ClaudeWatch) -> Callable[[], Awaitable[None]] | None:
    if cw.usage is None or cw.demo:
        return None
    from trayapp.store.accounts_repo import AccountsRepo

    usage = cw.usage
    repo = AccountsRepo()
    known = _known.setdefault(cw, _Known([]))
    current: list[Account] = (await _load(repo))[:1]  # what the service polls: the default

    async def follow() -> None:
        nonlocal current
        health = runtime.LoopHealth("accounts watcher")
        stamp: object = None
        while True:
            try:
                now_stamp = await runtime.run_blocking(_stamp, repo)
                if now_stamp != stamp:
                    stamp = now_stamp
                    accounts = known.accounts = await _load(repo)
                    current = await apply(usage, accounts, current)
                    follow_sessions(cw, accounts)
                    if known.views is not None:
                        known.views.refresh()  # an account added or removed: its card and icon
                health.succeeded()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(known.nudge.wait(), RECHECK)
                known.nudge.clear()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                await asyncio.sleep(health.failed(exc))

    task = runtime.spawn(follow(), name="accounts-watcher")
    unfollow = _follow_views(cw, known.views)

    async def stop() -> None:
        unfollow()
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass

    return stop


def _follow_views(cw: ClaudeWatch, views: AccountViews | None) -> Callable[[], None]:
    """Feed ``views`` every account's readings and ``tray.accounts``; returns the undo."""
    usage = cw.usage
    if views is None or usage is None:
        return lambda: None
    usage.account_state_changed.connect(views.refresh)
    usage.state_changed.connect(views.refresh)
    cw.tray.dashboard_requested.connect(views.main_clicked)
    unsubscribe = cw.settings.subscribe("tray.accounts", views.refresh)
    views.refresh()

    def undo() -> None:
        unsubscribe()
        for signal, slot in (
            (usage.account_state_changed, views.refresh),
            (usage.state_changed, views.refresh),
            (cw.tray.dashboard_requested, views.main_clicked),
        ):
            try:
                signal.disconnect(slot)
            except (RuntimeError, TypeError):  # already gone (the service stopped first)
                pass
        views.stop()

    return undo


async def _load(repo: AccountsRepo) -> list[Account]:
    return await runtime.run_blocking(repo.load_or_last)


def _stamp(repo: AccountsRepo) -> tuple[int, int] | None:
    try:
        st = repo.path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)
