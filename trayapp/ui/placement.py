"""Where the popup goes: next to the tray icon, inside the screen's available area.

Pure (plain tuples, no Qt) so every panel position can be unit-tested. The tray icon's geometry
is used when the platform knows it (XEmbed, Windows, macOS); under StatusNotifierItem it is
empty, so the mouse cursor (which just clicked the icon) stands in for it.
"""

from __future__ import annotations

from typing import NamedTuple


class Rect(NamedTuple):
    x: int
    y: int
    w: int
    h: int

    @property
    def right(self) -> int:
        return self.x + self.w

    @property
    def bottom(self) -> int:
        return self.y + self.h

    def is_empty(self) -> bool:
        return self.w <= 0 or self.h <= 0


GAP = 6


def place_popup(
    size: tuple[int, int],
    anchor: Rect | None,
    cursor: tuple[int, int],
    available: Rect,
    screen: Rect | None = None,
) -> tuple[int, int]:
    """Top-left corner for a popup of ``size`` anchored at the tray icon.

    Args:
        size: popup (width, height).
        anchor: the tray icon's geometry, or None/empty when unknown.
        cursor: the mouse position, used when the anchor is unknown.
        available: the screen's available geometry (without panels).
        screen: the whole screen, to tell which edge the panel sits on; defaults to ``available``.

    The popup opens away from the panel: below a top panel, above a bottom one, beside a side
    panel; it is centred on the anchor along the panel and clamped into ``available``.
    """
    w, h = size
    screen = screen or available
    if anchor is None or anchor.is_empty():
        anchor = Rect(cursor[0], cursor[1], 1, 1)
    ax = anchor.x + anchor.w // 2
    ay = anchor.y + anchor.h // 2
    edge = panel_edge(ax, ay, available, screen)
    if edge == "top":
        x, y = ax - w // 2, max(anchor.bottom, available.y) + GAP
    elif edge == "bottom":
        x, y = ax - w // 2, min(anchor.y, available.bottom) - h - GAP
    elif edge == "left":
        x, y = max(anchor.right, available.x) + GAP, ay - h // 2
    else:
        x, y = min(anchor.x, available.right) - w - GAP, ay - h // 2
    x = max(available.x + GAP, min(x, available.right - w - GAP))
    y = max(available.y + GAP, min(y, available.bottom - h - GAP))
    return x, y


def panel_edge(ax: int, ay: int, available: Rect, screen: Rect) -> str:
    """Which screen edge the tray's panel sits on.

    The panel's reserved strip (screen minus available area) says it when the desktop reserves
    one; otherwise horizontal panels win near the top or bottom (an icon in the top-right corner
    is closer to the right edge, but it sits in a top panel), then the nearest side.
    """
    if available != screen:
        insets = {
            "top": available.y - screen.y,
            "bottom": screen.bottom - available.bottom,
            "left": available.x - screen.x,
            "right": screen.right - available.right,
        }
        best = max(insets, key=lambda k: insets[k])
        if insets[best] > 0:
            return best
    band = max(48, screen.h // 8)
    if ay - screen.y <= band:
        return "top"
    if screen.bottom - ay <= band:
        return "bottom"
    return "left" if ax - screen.x < screen.right - ax else "right"
