"""Every colour the app paints: the popup and timeline, light and dark (following the system or
``ui.theme``), and the tray icon.

The popup paints its own surfaces (it is a frameless panel, not a styled dialog), so one small
palette per scheme keeps every widget in step. ``resolve`` decides the scheme: the setting when
it says light or dark, otherwise Qt's reported colour scheme, otherwise the window colour's
lightness. The tray icon is painted on its own dark disc, so it has one palette, :data:`ICON`,
for light and dark panels alike; the notification icon files (``resources/icons``) show its
healthy ring in the same colours (a test compares them).

The colours themselves are plain data in :mod:`trayapp.core.palette` (no Qt), re-exported here.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QPalette

from trayapp.core.palette import DARK, ICON, LIGHT, IconPalette, Theme

__all__ = ["DARK", "ICON", "LIGHT", "IconPalette", "Theme", "muted_style", "resolve", "text_style"]


def system_is_dark() -> bool:
    app = QGuiApplication.instance()
    if app is None:
        return False
    scheme = QGuiApplication.styleHints().colorScheme()
    if scheme == Qt.ColorScheme.Dark:
        return True
    if scheme == Qt.ColorScheme.Light:
        return False
    window = QGuiApplication.palette().color(QPalette.ColorRole.Window)
    return window.lightness() < 128


def resolve(setting: str) -> Theme:
    """The theme for the ``ui.theme`` setting value (system, light or dark)."""
    if setting == "dark":
        return DARK
    if setting == "light":
        return LIGHT
    return DARK if system_is_dark() else LIGHT


def text_style(theme: Theme, extra: str = "") -> str:
    """Style sheet of a label in the theme's main text colour."""
    return f"background: transparent; color: {theme.text}; {extra}"


def muted_style(theme: Theme, extra: str = "") -> str:
    """Style sheet of a secondary label (captions, details)."""
    return f"background: transparent; color: {theme.muted}; {extra}"
