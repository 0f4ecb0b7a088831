"""Login freshness as a feature of the tray app (listed in :mod:`trayapp.app_features`).

``attach`` builds the :class:`~trayapp.services.login_watch.LoginWatch` (nothing read yet), adds the
tray tooltip's "Login renews in N days" line, the popup's login line with its "Open sign-in" button,
and routes the notification button ``login.sign_in`` (the signed-out notice's and the warnings')
to a terminal running ``claude auth login``. ``start`` loads the memory, checks once, follows the
usage states (a 401 is signed out) and asks for a reading as soon as the login is back.

Every account (issue 16): the watch follows ``config/accounts.json`` (read at start, then its
stamp once a minute, or at once after :func:`accounts_changed`: the Accounts page's nudge); each
account's 401 comes from its own engine (``account_state_changed``; the default keeps
``default_state_changed``); "Open sign-in" opens ``claude auth login`` with that account's folder
as ``CLAUDE_CONFIG_DIR``; a login back on an added account asks that account's engine for a
reading. The tooltip and the popup get one line per account, named when there are several.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from trayapp import runtime
from trayapp.core import login_freshness as lf
from trayapp.core.accounts import Account

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from trayapp.app import ClaudeWatch
    from trayapp.core.models import Alert
    from trayapp.services.login_watch import LoginWatch
    from trayapp.store.accounts_repo import AccountsRepo

log = logging.getLogger(__name__)

_watches: WeakKeyDictionary[ClaudeWatch, LoginWatch] = WeakKeyDictionary()
_nudges: WeakKeyDictionary[ClaudeWatch, asyncio.Event] = WeakKeyDictionary()
SIGN_IN = ("claude", "auth", "login")
RECHECK = 60.0  # seconds between looks at accounts.json (as the accounts feature)


def watch_of(cw: ClaudeWatch) -> LoginWatch | None:
    """The app's login watch (tests, other features), once attached."""
    return _watches.get(cw)


def accounts_changed(cw: ClaudeWatch) -> None:
    """Read the accounts file again now (the Accounts page saved it), not at the next minute."""
    nudge = _nudges.get(cw)
    if nudge is not None:
        nudge.set()


async def open_sign_in(account: Account | None = None) -> bool:
    """Open a terminal running ``claude auth login`` (on the io lane) for ``account`` (an added
    one: with its folder as ``CLAUDE_CONFIG_DIR``); False when none opened."""
    from trayapp.platform.terminal import open_terminal

    folder = None if account is None or account.is_default else str(account.config_dir)
    env = lf.sign_in_env(folder)
    try:
        launch = await runtime.run_blocking(partial(open_terminal, SIGN_IN, command_env=env), lane="io")
    except OSError as exc:
        log.warning("cannot open a terminal for `claude auth login`: %s", exc)
        return False
    log.info("opened a terminal for `%s` (%s)", lf.sign_in_text(folder), launch.argv[0])
    return True


def account_of_alert(accounts: Sequence[Account], alert: Alert | None) -> Account | None:
    """The account a notification is about: a login warning names its key; an alert service's
    signed-out notice for an added account has the key ``account:<key>:...``; anything else is
    the default login's."""
    if alert is None:
        return None
    key = alert.extra.get("account")
    for account in sorted(accounts, key=lambda a: -len(a.key)):
        if key == account.key or (not account.is_default and alert.key.startswith(f"account:{account.key}:")):
            return account
    return next((a for a in accounts if a.is_default), None)


def tooltip_text(statuses: Sequence[lf.LoginStatus]) -> str | None:
    """One tooltip line per account ("Work: Login renews in 3 days" when there are several)."""
    lines = [line for line in map(lf.tooltip_line, statuses) if line]
    return "\n".join(lines) or None


def attach(cw: ClaudeWatch) -> None:
    from trayapp.services.login_watch import LoginWatch

    def held() -> bool:
        until = cw.alerts.paused_until
        return not bool(cw.settings.get("alerts.enabled")) or (until is not None and until > cw.clock.now())

    watch = LoginWatch(cw.dispatcher, clock=cw.clock, held=held)
    _watches[cw] = watch

    def tooltip() -> str | None:
        return None if cw.demo else tooltip_text(watch.statuses)

    cw.tray.tooltip_lines.append(tooltip)

    def sign_in(key: str) -> None:
        account = next((a for a in watch.accounts if a.key == key), None)
        runtime.try_spawn(open_sign_in(account), "open sign-in")

    def on_action(name: str, alert: Any) -> None:
        if name == lf.SIGN_IN_ACTION:
            account = account_of_alert(watch.accounts, alert)
            runtime.try_spawn(open_sign_in(account), "open sign-in")

    cw.desktop.action_routes[lf.SIGN_IN_ACTION.partition(".")[0]] = on_action

    def panel() -> QWidget | None:
        if cw.demo:
            return None  # the demo's login is simulated
        from trayapp.features.login_panel import LoginPanel

        view = LoginPanel()
        view.sign_in_requested.connect(sign_in)
        watch.statuses_changed.connect(view.set_statuses)
        if watch.statuses:
            view.set_statuses(watch.statuses)
        return view

    cw.panel_factories.append(panel)


async def start(cw: ClaudeWatch) -> Callable[[], Awaitable[object]] | None:
    watch = _watches.get(cw)
    if watch is None or cw.demo:
        return None
    from trayapp.store.accounts_repo import AccountsRepo

    repo = AccountsRepo()
    usage = cw.usage
    watch.statuses_changed.connect(lambda _statuses: cw.tray.refresh_tooltip())
    watch.signed_in_again.connect(cw.refresh_now)
    if usage is not None:
        usage.default_state_changed.connect(watch.on_state)  # another account's 401 is not the default's
        usage.account_state_changed.connect(watch.on_account_state)
        watch.account_signed_in_again.connect(lambda label: usage.refresh_now(label))
    stamp = await runtime.run_blocking(_stamp, repo, lane="io")
    await watch.set_accounts(await runtime.run_blocking(repo.load_or_last, lane="io"))
    await watch.start()
    nudge = _nudges[cw] = asyncio.Event()
    task = runtime.spawn(_follow(watch, repo, nudge, stamp), name="login accounts follower")
    log.info("login watch running (%d account(s))", len(watch.accounts))

    async def stop() -> None:
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        await watch.stop()

    return stop


async def _follow(watch: LoginWatch, repo: AccountsRepo, nudge: asyncio.Event, stamp: object) -> None:
    """Follow accounts.json: a changed stamp (a minute's look, or a nudge) gives the watch the new
    list (a refused file: the last good one)."""
    health = runtime.LoopHealth("login accounts follower")
    while True:
        try:
            await asyncio.wait_for(nudge.wait(), RECHECK)
        except TimeoutError:
            pass
        nudge.clear()
        try:
            now = await runtime.run_blocking(_stamp, repo, lane="io")
            if now != stamp:
                stamp = now
                await watch.set_accounts(await runtime.run_blocking(repo.load_or_last, lane="io"))
            health.succeeded()
        except Exception as exc:
            await asyncio.sleep(health.failed(exc))


def _stamp(repo: AccountsRepo) -> tuple[int, int, int] | None:
    try:
        st = repo.path.stat()
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)
