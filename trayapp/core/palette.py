"""Every colour the app paints, as plain data: the popup and timeline palettes, light and dark,
and the tray icon's palette. No Qt: the status-bar formats colour their output from here without
starting Qt, and ``ui/theme.py`` (which decides light or dark with Qt) re-exports these.

Level colours (ok, warning, critical, at limit, stale, error) live here only; a test fails on a
colour literal anywhere else in ``trayapp/``.
"""

from __future__ import annotations

from dataclasses import dataclass

from trayapp.core.models import Level


@dataclass(frozen=True, slots=True)
class Theme:
    dark: bool
    bg: str
    surface: str
    border: str
    text: str
    muted: str
    track: str
    accent: str
    grid: str
    levels: dict[Level, str]
    banner_bg: str
    banner_text: str
    error_bg: str
    error_text: str
    series: tuple[str, ...]


LIGHT = Theme(
    dark=False,
    bg="#ffffff",
    surface="#f6f8fa",
    border="#d0d7de",
    text="#1f2328",
    muted="#656d76",
    track="#e6e9ed",
    accent="#d97757",
    grid="#eaeef2",
    levels={
        Level.OK: "#1a7f37",
        Level.WARNING: "#bf8700",
        Level.CRITICAL: "#d1480f",
        Level.AT_LIMIT: "#cf222e",
        Level.STALE: "#8c959f",
        Level.ERROR: "#8c959f",
    },
    banner_bg="#fff8c5",
    banner_text="#4d2d00",
    error_bg="#ffebe9",
    error_text="#82071e",
    series=("#d97757", "#0969da", "#8250df", "#1a7f37", "#bf3989", "#9a6700"),
)

DARK = Theme(
    dark=True,
    bg="#1c2026",
    surface="#252a31",
    border="#3a414a",
    text="#e6edf3",
    muted="#9198a1",
    track="#353c45",
    accent="#e8906f",
    grid="#2c333b",
    levels={
        Level.OK: "#3fb950",
        Level.WARNING: "#d29922",
        Level.CRITICAL: "#f0783e",
        Level.AT_LIMIT: "#f85149",
        Level.STALE: "#7d8590",
        Level.ERROR: "#7d8590",
    },
    banner_bg="#3b2e0a",
    banner_text="#f2cc60",
    error_bg="#3d1618",
    error_text="#ffa198",
    series=("#e8906f", "#58a6ff", "#bc8cff", "#3fb950", "#f778ba", "#d29922"),
)


@dataclass(frozen=True, slots=True)
class IconPalette:
    """The tray icon's colours (``ui/icon.py``).

    ``levels`` colour the ring's arc; ``error_mark`` is the red "!" and the failed-fetch badge;
    the ``template_*`` colours draw the macOS template image, which the menu bar tints itself.
    """

    levels: dict[Level, str]
    disc: str
    track: str
    text: str
    error_mark: str
    template_ink: str
    template_track: str  # #AARRGGBB


ICON = IconPalette(
    levels={
        Level.OK: "#2ea043",
        Level.WARNING: "#d29922",
        Level.CRITICAL: "#f0642e",
        Level.AT_LIMIT: "#e5383b",
        Level.STALE: "#8b949e",
        Level.ERROR: "#8b949e",
    },
    disc="#1f2328",
    track="#4a525c",
    text="#ffffff",
    error_mark="#ff5c5c",
    template_ink="#000000",
    template_track="#5a000000",
)
