"""Popup placement next to the tray icon, on every panel edge, with and without tray geometry."""

from __future__ import annotations

from trayapp.ui.placement import GAP, Rect, place_popup

SCREEN = Rect(0, 0, 1280, 800)
SIZE = (380, 600)


def test_top_panel_opens_below_the_icon_and_stays_on_screen() -> None:
    avail = Rect(0, 32, 1280, 768)
    x, y = place_popup(SIZE, Rect(1257, 1, 22, 30), (0, 0), avail, SCREEN)
    assert y == avail.y + GAP  # below the panel's reserved strip (32 px), not the icon's bottom (31)
    assert x == 1280 - GAP - SIZE[0]  # centred on the icon, then pushed back inside the right edge


def test_bottom_panel_opens_above() -> None:
    avail = Rect(0, 0, 1280, 760)
    x, y = place_popup(SIZE, Rect(600, 765, 24, 30), (0, 0), avail, SCREEN)
    assert y + SIZE[1] <= 760 - GAP + 1
    assert abs((x + SIZE[0] // 2) - 612) <= 1


def test_side_panels_open_beside() -> None:
    left = place_popup(SIZE, Rect(2, 400, 30, 24), (0, 0), Rect(40, 0, 1240, 800), SCREEN)
    assert left[0] >= 40
    right = place_popup(SIZE, Rect(1250, 400, 30, 24), (0, 0), Rect(0, 0, 1240, 800), SCREEN)
    assert right[0] + SIZE[0] <= 1240


def test_empty_tray_geometry_uses_the_cursor() -> None:
    avail = Rect(0, 32, 1280, 768)
    for empty in (None, Rect(0, 0, 0, 0)):
        x, y = place_popup(SIZE, empty, (1200, 10), avail, SCREEN)
        assert (x, y) != (0, 0)
        assert y >= 32
        assert x + SIZE[0] <= 1280


def test_popup_taller_than_the_screen_is_clamped_to_the_top() -> None:
    x, y = place_popup((380, 2000), Rect(1257, 1, 22, 30), (0, 0), Rect(0, 32, 1280, 768), SCREEN)
    assert y == 32 + GAP


def test_top_right_corner_without_reserved_space_is_a_top_panel() -> None:
    # Xvfb + trayer, no window manager: available == screen, icon at the top-right corner.
    x, y = place_popup(SIZE, Rect(1257, 1, 22, 30), (1268, 16), SCREEN, SCREEN)
    assert y == 31 + GAP
    assert x + SIZE[0] == 1280 - GAP


def test_reserved_strip_names_the_edge() -> None:
    # A left dock reserves 64 px; the icon sits low on it.
    x, y = place_popup(SIZE, Rect(20, 700, 24, 24), (0, 0), Rect(64, 0, 1216, 800), SCREEN)
    assert x == 64 + GAP
