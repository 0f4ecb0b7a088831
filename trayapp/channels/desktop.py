"""Desktop notifications through desktop-notifier, with the tray's own balloon as the fallback.

The notification carries our app name ("Claude Watch") and icon (never the Python logo), and the
buttons "Open dashboard" (for a Claude Code session notice, "Open": that session) and "Snooze 1 h"
when the server supports buttons. An alert may name its own buttons instead
(``extra["actions"]``, written by :func:`actions_extra`: the window scheduler's "Start now" and
"Skip"); a press calls ``on_action(name, alert)``, or the handler registered for the name's
prefix in ``action_routes`` (``"login"`` for ``"login.sign_in"``), so several features can each
route their own buttons. Some kinds name buttons of their own (:data:`KIND_ACTIONS`: the signed-out
notice's "Open sign-in"), shown when a handler for them is registered. Before each send the
server's capabilities are asked for: desktop-notifier's ``send`` never raises when there is no
server (it only logs), but ``get_capabilities`` does, which makes it the honest probe. With no
server, or when anything fails, the alert goes to ``fallback`` (``QSystemTrayIcon.showMessage``);
failures are logged and returned as a :class:`Delivery`, never raised.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from trayapp import runtime
from trayapp.channels.base import Delivery
from trayapp.core.humanize import display_text
from trayapp.core.models import Alert, AlertKind

log = logging.getLogger(__name__)

APP_NAME = "Claude Watch"
PROBE_TIMEOUT = 3.0
Fallback = Callable[[str, str, bool], None]
ActionHandler = Callable[[str, Alert], Any]
ACTIONS_KEY = "actions"
# Buttons an alert of this kind gets when it names none itself (routed through ``action_routes``).
KIND_ACTIONS: dict[AlertKind, list[tuple[str, str]]] = {
    AlertKind.SIGNED_OUT: [("login.sign_in", "Open sign-in")],
}


def actions_extra(actions: list[tuple[str, str]]) -> str:
    """``alert.extra["actions"]`` for buttons ``[(name, title), ...]``: ``name=title|name=title``."""
    return "|".join(f"{name}={title}" for name, title in actions)


def parse_actions(alert: Alert) -> list[tuple[str, str]]:
    """The buttons an alert names (see :func:`actions_extra`); malformed parts are dropped."""
    found = []
    for part in alert.extra.get(ACTIONS_KEY, "").split("|"):
        name, _, title = part.partition("=")
        if name.strip() and title.strip():
            found.append((name.strip(), title.strip()))
    return found


def default_icon_path() -> Path:
    from trayapp import paths

    return paths.resources_dir() / "icons" / "claude-watch-128.png"


class DesktopChannel:
    """Channel ``desktop``: native notifications, tray balloon when there is no server."""

    name = "desktop"

    def __init__(
        self,
        *,
        enabled: Callable[[], bool] = lambda: True,
        fallback: Fallback | None = None,
        on_open: Callable[[], Any] | None = None,
        on_open_session: Callable[[str], Any] | None = None,
        on_snooze: Callable[[], Any] | None = None,
        on_action: ActionHandler | None = None,
        icon_path: Path | None = None,
        icon_for: Callable[[Alert], Path | None] | None = None,
        notifier: Any = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._enabled = enabled
        self.fallback = fallback
        self.on_open = on_open
        self.on_open_session = on_open_session
        self.on_snooze = on_snooze
        self.on_action = on_action  # set later by the feature that names actions (the scheduler)
        self.action_routes: dict[str, ActionHandler] = {}  # button name prefix -> handler
        self.icon_path = icon_path or default_icon_path()
        self.icon_for = icon_for
        self._notifier = notifier
        self._now = clock or (lambda: datetime.now(UTC))
        self.last_detail = ""

    def enabled(self) -> bool:
        return bool(self._enabled())

    def _get_notifier(self) -> Any:
        if self._notifier is None:
            from desktop_notifier import DesktopNotifier, Icon

            icon = Icon(path=self.icon_path) if self.icon_path.is_file() else None
            self._notifier = DesktopNotifier(app_name=APP_NAME, app_icon=icon)
        return self._notifier

    async def capabilities(self) -> frozenset[Any] | None:
        """The server's capabilities, or None when there is no usable notification server."""
        try:
            notifier = self._get_notifier()
            caps = await asyncio.wait_for(notifier.get_capabilities(), PROBE_TIMEOUT)
        except Exception as exc:  # no bus, no server, activation failure, timeout...
            log.info("no notification server (%s: %s)", type(exc).__name__, exc)
            return None
        return frozenset(caps)

    async def send(self, alert: Alert, quip: str | None = None) -> Delivery:
        body = display_text(alert.body if not quip else f"{alert.body}\n{quip}")
        caps = await self.capabilities()
        if caps is None:
            return self._fall_back(alert, body, "no notification server")
        try:
            from desktop_notifier import Button, Capability, Urgency

            buttons: list[Any] = []
            on_open, open_title = self._open_action(alert)
            actions = [a for a in parse_actions(alert) if self._handler(a[0]) is not None]
            if not actions:  # the kind's own buttons, only where a feature routes them
                actions = [
                    a for a in KIND_ACTIONS.get(alert.kind, []) if self._prefix(a[0]) in self.action_routes
                ]
            if Capability.BUTTONS in caps and actions:
                buttons = [Button(title=t, on_pressed=self._press(name, alert)) for name, t in actions]
            elif Capability.BUTTONS in caps:
                if on_open is not None:
                    buttons.append(Button(title=open_title, on_pressed=on_open))
                if self.on_snooze is not None:
                    buttons.append(Button(title="Snooze 1 h", on_pressed=self.on_snooze))
            identifier = await self._get_notifier().send(
                title=alert.title,
                message=body,
                urgency=Urgency.Critical if alert.critical else Urgency.Normal,
                icon=self._icon(alert),
                buttons=buttons,
                on_clicked=on_open,
            )
            if alert.critical and alert.resets_at is not None and isinstance(identifier, str):
                self._withdraw_at(identifier, alert.resets_at)
        except Exception as exc:
            log.warning("desktop notification failed: %s", exc)
            return self._fall_back(alert, body, f"notification failed ({type(exc).__name__})")
        self.last_detail = "notification server"
        return Delivery(self.name, True, "notification server")

    @staticmethod
    def _prefix(name: str) -> str:
        return name.partition(".")[0]

    def _handler(self, name: str) -> ActionHandler | None:
        return self.action_routes.get(self._prefix(name)) or self.on_action

    def _press(self, name: str, alert: Alert) -> Callable[[], None]:
        """A button's callback: its route's handler (else ``on_action``) with ``(name, alert)``,
        guarded (a press never raises into the notification backend)."""

        def pressed() -> None:
            handler = self._handler(name)
            if handler is None:
                return
            try:
                handler(name, alert)
            except Exception:
                log.exception("notification action %s failed", name)

        return pressed

    def _icon(self, alert: Alert) -> Any:
        """The alert's own gauge (its percentage in its level's colour) where the app can paint
        one, else None: the app icon given at start. A painting failure never stops the alert."""
        if self.icon_for is None:
            return None
        try:
            path = self.icon_for(alert)
        except Exception as exc:
            log.warning("cannot paint the notification icon: %s", exc)
            return None
        if path is None:
            return None
        from desktop_notifier import Icon

        return Icon(path=path)

    def _withdraw_at(self, identifier: str, resets_at: datetime) -> None:
        """A critical notification stays on screen until dismissed; once its window has reset it
        is wrong ("resets in 29 s" an hour later), so it is withdrawn at the reset."""

        async def withdraw() -> None:
            await asyncio.sleep(max(0.0, (resets_at - self._now()).total_seconds()))
            try:
                await self._get_notifier().clear(identifier)
            except Exception as exc:  # already dismissed, or the server went away
                log.info("could not withdraw a notification after its reset: %s", exc)

        runtime.spawn(withdraw(), "withdraw a notification at its reset", group=self)  # drained at exit

    async def close(self) -> None:
        """Disconnect from the session bus (desktop-notifier keeps a connection open; it has no
        close of its own, so this reaches its D-Bus backend when there is one)."""
        bus = getattr(getattr(self._notifier, "_backend", None), "bus", None)
        if bus is not None:
            bus.disconnect()
            try:
                await asyncio.wait_for(bus.wait_for_disconnect(), PROBE_TIMEOUT)
            except Exception as exc:  # already gone
                log.debug("notification bus disconnect: %s", exc)

    def _open_action(self, alert: Alert) -> tuple[Callable[[], Any] | None, str]:
        """What "Open" (and a click on the body) does: for a Claude Code session notice, that
        session (its terminal, or its row in the popup); for an alert whose own buttons include
        a routed ``<route>.open`` (an agent's notice: the agents window at that task), that
        button; for anything else, the dashboard."""
        session_id = alert.extra.get("session_id")
        if session_id and self.on_open_session is not None:
            open_session = self.on_open_session
            return (lambda: open_session(session_id)), "Open"
        for name, title in parse_actions(alert):
            if name.endswith(".open") and self._prefix(name) in self.action_routes:
                return self._press(name, alert), title
        return self.on_open, "Open dashboard"

    def _fall_back(self, alert: Alert, body: str, why: str) -> Delivery:
        if self.fallback is None:
            self.last_detail = why
            return Delivery(self.name, False, why)
        try:
            self.fallback(alert.title, body, alert.critical)
        except Exception as exc:
            log.warning("tray message fallback failed: %s", exc)
            self.last_detail = f"{why}; tray message failed"
            return Delivery(self.name, False, self.last_detail)
        self.last_detail = f"tray fallback ({why})"
        return Delivery(self.name, True, self.last_detail)
