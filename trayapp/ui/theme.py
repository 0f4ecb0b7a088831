"""Every colour the app paints: the popup and timeline, light and dark (following the system or
``ui.theme``), and the tray icon.

The popup paints its own surfaces (it is a frameless panel, not a styled dialog), so one small
palette per scheme keeps every widget in step. ``resolve`` decides the scheme: the setting when
it says light or dark, otherwise Qt's reported colour scheme, otherwise the window colour's
lightness. The tray icon is painted on its own dark disc, so it has one palette, :data:`ICON`,
for light and dark panels alike; the notification icon files (``resources/icons``) show its
healthy ring in the same colours (a test compares them).

The colours themselves are plain data in :mod:`trayapp.core.palette` (no Qt), re-exported here.

Everything else (the Settings dialog, the tray menu, the no-tray window's menu, message boxes)
follows ``ui.theme`` through one application-wide palette and style sheet, applied here and
nowhere else: :func:`apply_app` sets them, :class:`AppTheme` re-applies them whenever the setting
or the system's colour scheme changes, and :func:`attach` (a feature, ``trayapp.app_features``)
starts that follower when the app is built. With ``system``, the platform's own palette is kept
unless it disagrees with the system's reported scheme.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from trayapp.core.models import Level
from trayapp.core.palette import DARK, ICON, LIGHT, IconPalette, Theme

if TYPE_CHECKING:
    from trayapp.settings import Settings

__all__ = [
    "DARK",
    "ICON",
    "LIGHT",
    "AppTheme",
    "IconPalette",
    "Theme",
    "apply_app",
    "muted_style",
    "resolve",
    "text_style",
]

log = logging.getLogger(__name__)
# The platform's own palette and style, kept before the first change so "system" can go back.
_platform: dict[str, Any] = {}
_follower: AppTheme | None = None


def system_is_dark() -> bool:
    app = QGuiApplication.instance()
    if app is None:
        return False
    scheme = QGuiApplication.styleHints().colorScheme()
    if scheme == Qt.ColorScheme.Dark:
        return True
    if scheme == Qt.ColorScheme.Light:
        return False
    # The platform's palette, not ours: a dark palette set for ui.theme = dark must not make
    # "system" look dark afterwards.
    palette = _platform.get("palette") or QGuiApplication.palette()
    return bool(palette.color(QPalette.ColorRole.Window).lightness() < 128)


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


def palette_for(theme: Theme) -> QPalette:
    """A whole application palette from ``theme`` (dialogs and menus). Light: windows on
    ``surface``, fields on ``bg``; dark: windows on ``bg``, fields and check boxes on the lighter
    ``track``, or an unticked box would vanish into the window."""
    window, base = (theme.bg, theme.track) if theme.dark else (theme.surface, theme.bg)
    p = QPalette()
    roles = QPalette.ColorRole
    colours = {
        roles.Window: window,
        roles.WindowText: theme.text,
        roles.Base: base,
        roles.AlternateBase: theme.grid,
        roles.Text: theme.text,
        roles.Button: window,
        roles.ButtonText: theme.text,
        roles.BrightText: theme.levels[Level.AT_LIMIT],
        roles.ToolTipBase: theme.surface,
        roles.ToolTipText: theme.text,
        roles.PlaceholderText: theme.muted,
        roles.Highlight: theme.accent,
        roles.HighlightedText: theme.bg,
        roles.Link: theme.series[1],
        roles.LinkVisited: theme.series[2],
        roles.Light: theme.track if theme.dark else theme.bg,
        roles.Midlight: theme.border,
        roles.Mid: theme.muted,  # secondary text in style sheets (palette(mid)) must stay readable
        roles.Dark: theme.muted,
        roles.Shadow: theme.text if not theme.dark else theme.bg,
    }
    for role, colour in colours.items():
        p.setColor(role, QColor(colour))
    disabled = QPalette.ColorGroup.Disabled
    for role in (roles.WindowText, roles.Text, roles.ButtonText):
        p.setColor(disabled, role, QColor(theme.muted))
    p.setColor(disabled, roles.Base, QColor(window))
    return p


def style_sheet(theme: Theme) -> str:
    """The application style sheet: menus in the popup's colours, and the roles the Settings
    dialog gives its labels (``cwRole``: hint, error, title) and threshold chips."""
    t = theme
    return f"""
QMenu {{ background: {t.bg}; color: {t.text}; border: 1px solid {t.border}; padding: 4px 0; }}
QMenu::item {{ padding: 5px 24px 5px 20px; background: transparent; }}
QMenu::item:selected {{ background: {t.surface}; color: {t.text}; }}
QMenu::item:disabled {{ color: {t.muted}; }}
QMenu::item:default {{ font-weight: bold; }}
QMenu::separator {{ height: 1px; background: {t.border}; margin: 4px 8px; }}
QLabel[cwRole="hint"] {{ color: {t.muted}; font-size: 11px; }}
QLabel[cwRole="error"] {{ color: {t.levels[Level.AT_LIMIT]}; font-size: 11px; }}
QLabel[cwRole="title"] {{ color: {t.text}; font-size: 16px; font-weight: 600; padding: 2px 0 4px 0; }}
QPushButton[cwRole="chip"] {{ color: {t.text}; background: {t.bg}; border: 1px solid {t.border};
    border-radius: 11px; padding: 3px 9px; }}
QPushButton[cwRole="chip"]:checked {{ background: {t.accent}; color: {t.bg}; border-color: {t.accent}; }}
QPushButton[cwRole="chip"]:disabled {{ color: {t.muted}; }}
QListWidget[cwRole="checks"]::item {{ padding: 2px 4px; }}
QListWidget#settings-nav {{ background: {t.bg}; border: 1px solid {t.border}; border-radius: 6px;
    padding: 4px; outline: 0; }}
QListWidget#settings-nav::item {{ padding: 8px 10px; border-radius: 4px; color: {t.text}; }}
QListWidget#settings-nav::item:selected {{ background: {t.accent}; color: {t.bg}; }}
"""


def apply_app(setting: str, app: QApplication | None = None) -> Theme:
    """Give the whole application the colours of ``ui.theme`` = ``setting``; returns the theme."""
    app = app or QApplication.instance()  # type: ignore[assignment]
    theme = resolve(setting)
    if app is None:
        return theme
    if "palette" not in _platform:
        _platform["palette"] = QPalette(app.palette())
        _platform["style"] = app.style().name()
    native = _platform["palette"]
    native_dark = native.color(QPalette.ColorRole.Window).lightness() < 128
    if setting == "system" and native_dark == theme.dark:
        app.setPalette(native)  # the platform's own colours (a KDE or GNOME colour scheme)
        _set_style(app, _platform["style"])
    else:
        # Native Windows and macOS styles ignore the palette: Fusion draws every style the same.
        if _platform["style"].lower() in ("windowsvista", "macos"):
            _set_style(app, "Fusion")
        app.setPalette(palette_for(theme))
    app.setStyleSheet(style_sheet(theme))
    app.setProperty("cwTheme", "dark" if theme.dark else "light")
    return theme


def _set_style(app: QApplication, name: str) -> None:
    if app.style().name().lower() != name.lower():
        app.setStyle(name)


def reset_app(app: QApplication | None = None) -> None:
    """Back to the platform's palette and style, with no style sheet (tests; shutdown)."""
    global _follower
    if _follower is not None:
        _follower.stop()
        _follower = None
    app = app or QApplication.instance()  # type: ignore[assignment]
    if app is None or "palette" not in _platform:
        return
    app.setPalette(_platform["palette"])
    _set_style(app, _platform["style"])
    app.setStyleSheet("")
    app.setProperty("cwTheme", None)


class AppTheme(QObject):
    """Keeps the application's colours on ``ui.theme``: re-applied when the setting changes (the
    dialog, ``config set``, a hand edit) and, on ``system``, when the desktop's scheme does."""

    def __init__(self, settings: Settings, app: QApplication | None = None) -> None:
        super().__init__()
        self.app = app or QApplication.instance()
        self.settings = settings
        self.theme = apply_app(self.setting(), self.app)  # type: ignore[arg-type]
        self._unsubscribe: Callable[[], None] | None = settings.subscribe("ui.theme", self._changed)
        QGuiApplication.styleHints().colorSchemeChanged.connect(self._system_changed)

    def setting(self) -> str:
        return str(self.settings.get("ui.theme"))

    def _changed(self, _keys: list[str], _settings: Settings) -> None:
        self.theme = apply_app(self.setting(), self.app)  # type: ignore[arg-type]
        log.info("theme: %s", "dark" if self.theme.dark else "light")

    def _system_changed(self, _scheme: object = None) -> None:
        if self._unsubscribe is not None and self.setting() == "system":
            self.theme = apply_app("system", self.app)  # type: ignore[arg-type]

    def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
            QGuiApplication.styleHints().colorSchemeChanged.disconnect(self._system_changed)


def follow(settings: Settings, app: QApplication | None = None) -> AppTheme:
    """Apply ``ui.theme`` to the whole application now and whenever it changes (one follower:
    a second call replaces the first)."""
    global _follower
    if _follower is not None:
        _follower.stop()
    _follower = AppTheme(settings, app)
    return _follower


def attach(cw: Any) -> None:
    """The app feature (``trayapp.app_features``): the app's colours follow ``ui.theme`` from the
    build on, before any window or menu shows."""
    follower = follow(cw.settings, cw.app)
    cw.on_stop_sync("theme follower", follower.stop)
