"""The tray app's settings side: the Settings dialog (built once, with its alert-channels page and
the pages features add) and following settings.toml while the app runs (hand edits, ``config set``).

Split from :mod:`trayapp.app` so the composition root stays a list of steps.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from trayapp.app import ClaudeWatch
    from trayapp.settings import Settings
    from trayapp.ui.settings_dialog import SettingsDialog

log = logging.getLogger(__name__)

# (title, factory) of extra Settings pages: features add theirs in attach() (trayapp.app_features).
PageFactory = Callable[[], "QWidget | None"]


def open_settings(cw: ClaudeWatch) -> None:
    """Show the Settings dialog (built on first use), above the popup, which closes."""
    from trayapp.ui.settings_dialog import SettingsDialog

    dialog = cw.settings_dialog
    if dialog is None:
        dialog = cw.settings_dialog = SettingsDialog(cw.settings)
        _add_channels_page(cw, dialog)
        for title, factory in cw.settings_pages:
            try:
                page = factory()
            except Exception:
                log.exception("settings page %r unavailable", title)
                continue
            if page is not None:
                dialog.add_page(page, title)
    else:
        dialog.load_values()
    popup = cw.built_popup
    if popup is not None and not popup.window_mode:
        popup.hide()
    dialog.show()
    dialog.raise_()
    dialog.activateWindow()


def _add_channels_page(cw: ClaudeWatch, dialog: SettingsDialog) -> None:
    """Secrets, Telegram linking and "Send test" as a page; the dialog works without it."""
    try:
        from trayapp.services.channels_service import ChannelsService
        from trayapp.ui.channels_page import make_page

        page = make_page(ChannelsService(cw.settings, dispatcher_factory=lambda: cw.dispatcher))
    except Exception:
        log.exception("alert channels page unavailable")
        return
    dialog.add_page(page, "Alert channels")


def watch_settings(cw: ClaudeWatch) -> None:
    """Apply what `config set` or an editor writes to settings.toml while the app runs. The popup,
    usage and tracking services follow the settings themselves (Settings.subscribe)."""
    from trayapp.services.settings_watcher import SettingsWatcher

    unsubscribe = cw.settings.subscribe("app.start_at_login", _start_at_login_changed)
    watcher = cw.settings_watcher = SettingsWatcher(cw.settings)
    watcher.start()
    cw.on_stop_sync("settings watcher", watcher.stop)
    cw.on_stop_sync("start-at-login follower", unsubscribe)


def _start_at_login_changed(keys: list[str], settings: Settings) -> None:
    """A hand edit of app.start_at_login gets the autostart entry the dialog and `config set`
    would have made."""
    from trayapp.platform import autostart
    from trayapp.settings import start_at_login

    on = bool(settings.get("app.start_at_login"))
    if autostart.is_enabled() != on:
        try:
            start_at_login(on)
        except OSError as exc:
            log.warning("could not change start at login: %s", exc)
