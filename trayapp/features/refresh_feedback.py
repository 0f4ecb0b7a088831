"""Feedback for "Refresh now" from the tray menu (a feature, listed in :mod:`trayapp.app_features`).

The popup's own ⟳ button shows its busy state and the throttle notice in its banner. The tray
menu's "Refresh now" (also the ☰ menu of the dashboard window) had nothing to show: a refresh
within 30 s of the last request is not sent, and nothing visibly happened. Here the open dashboard
shows the same busy state, and with the dashboard closed a throttled refresh says in a message when
the next one is allowed.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from trayapp.app import ClaudeWatch
    from trayapp.core.models import AccountState

log = logging.getLogger(__name__)


def attach(cw: ClaudeWatch) -> None:
    """Follow each "Refresh now" of the menu (connected after the app's own slot, which starts it)."""
    cw.tray.refresh_requested.connect(lambda: follow(cw))


def follow(cw: ClaudeWatch) -> None:
    """Show the refresh the app just started: busy in an open dashboard, a message if throttled."""
    if cw.usage is None:
        return
    task = cw.usage.refresh_now()  # the one running (a second call returns it, never a new one)
    popup = cw.built_popup
    shown = popup is not None and popup.isVisible()
    if shown and popup is not None:
        popup.set_refreshing(True)  # until the state it answers with arrives (set_state)
    task.add_done_callback(lambda done: answered(cw, done, shown))


def answered(cw: ClaudeWatch, task: asyncio.Task[AccountState], shown: bool) -> None:
    if task.cancelled() or task.exception() is not None or shown:
        return  # a visible dashboard says it in its banner
    from trayapp.ui.popup_layout import THROTTLED  # the mark of the engine's "too soon" notice

    notice = next((n for n in task.result().notices if THROTTLED in n), None)
    if notice is not None:
        log.info("refresh from the menu not sent: %s", notice)
        if cw.tray_available:
            cw.tray.show_message("Claude Watch", notice)
