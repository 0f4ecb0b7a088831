"""Login freshness as a feature of the tray app (listed in :mod:`trayapp.app_features`).

``attach`` builds the :class:`~trayapp.services.login_watch.LoginWatch` (nothing read yet), adds the
tray tooltip's "Login renews in N days" line, the popup's login line with its "Open sign-in" button,
and routes the notification button ``login.sign_in`` (the signed-out notice's and the warnings')
to a terminal running ``claude auth login``. ``start`` loads the memory, checks once, follows the
usage states (a 401 is signed out) and asks for a reading as soon as the login is back.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from trayapp import runtime
from trayapp.core import login_freshness as lf

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from trayapp.app import ClaudeWatch
    from trayapp.services.login_watch import LoginWatch

log = logging.getLogger(__name__)

_watches: WeakKeyDictionary[ClaudeWatch, LoginWatch] = WeakKeyDictionary()
SIGN_IN = ("claude", "auth", "login")


def watch_of(cw: ClaudeWatch) -> LoginWatch | None:
    """The app's login watch (tests, other features), once attached."""
    return _watches.get(cw)


async def open_sign_in() -> bool:
    """Open a terminal running ``claude auth login`` (on the io lane); False when none opened."""
    from trayapp.platform.terminal import open_terminal

    try:
        launch = await runtime.run_blocking(open_terminal, SIGN_IN, lane="io")
    except OSError as exc:
        log.warning("cannot open a terminal for `claude auth login`: %s", exc)
        return False
    log.info("opened a terminal for `claude auth login` (%s)", launch.argv[0])
    return True


def attach(cw: ClaudeWatch) -> None:
    from trayapp.services.login_watch import LoginWatch

    def held() -> bool:
        until = cw.alerts.paused_until
        return not bool(cw.settings.get("alerts.enabled")) or (until is not None and until > cw.clock.now())

    watch = LoginWatch(cw.dispatcher, clock=cw.clock, held=held)
    _watches[cw] = watch

    def tooltip() -> str | None:
        return lf.tooltip_line(watch.status) if watch.status is not None and not cw.demo else None

    cw.tray.tooltip_lines.append(tooltip)

    def on_action(name: str, _alert: Any) -> None:
        if name == lf.SIGN_IN_ACTION:
            runtime.try_spawn(open_sign_in(), "open sign-in")

    cw.desktop.action_routes[lf.SIGN_IN_ACTION.partition(".")[0]] = on_action

    def panel() -> QWidget | None:
        if cw.demo:
            return None  # the demo's login is simulated
        from trayapp.features.login_panel import LoginPanel

        view = LoginPanel()
        view.sign_in_requested.connect(lambda: runtime.try_spawn(open_sign_in(), "open sign-in"))
        watch.status_changed.connect(view.set_status)
        if watch.status is not None:
            view.set_status(watch.status)
        return view

    cw.panel_factories.append(panel)


async def start(cw: ClaudeWatch) -> Callable[[], Awaitable[object]] | None:
    watch = _watches.get(cw)
    if watch is None or cw.demo:
        return None
    watch.status_changed.connect(lambda _status: cw.tray.refresh_tooltip())
    watch.signed_in_again.connect(cw.refresh_now)
    if cw.usage is not None:
        cw.usage.default_state_changed.connect(watch.on_state)  # another account's 401 is not ours
    await watch.start()
    log.info("login watch running")
    return watch.stop
