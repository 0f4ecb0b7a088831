"""Sections that parts of the app add to the popup dashboard (``Popup.add_panel``).

A panel may define ``set_theme(theme)``: the popup calls it when the panel is added and whenever
its theme changes, so the panel's text follows the popup's light or dark palette (not the
system's, which may differ when the user picked a theme).
"""

from __future__ import annotations

from trayapp.ui.theme import Theme


def button_style(theme: Theme) -> str:
    """A flat button in the theme's colours (like the popup's range buttons)."""
    return (
        f"QToolButton {{ color: {theme.text}; background: transparent; border: 1px solid {theme.border};"
        " border-radius: 5px; padding: 1px 8px; font-size: 11px; }"
        f"QToolButton:hover {{ background: {theme.surface}; }}"
        "QToolButton::menu-indicator { image: none; width: 0; }"
    )


def chip_style(theme: Theme, colour: str, filled: bool = False) -> str:
    """A state chip ("Working", "Needs you", "Held: near limit"): outlined in ``colour``, or filled
    with it for what waits for the user (the sessions and agents rows share it)."""
    chip = "border-radius: 8px; padding: 1px 7px; font-size: 11px; font-weight: 600;"
    if filled:
        return f"background: {colour}; color: {theme.bg}; border: 1px solid {colour}; {chip}"
    return f"background: transparent; color: {colour}; border: 1px solid {colour}; {chip}"
