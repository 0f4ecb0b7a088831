"""The tray's needs-you badge (issue 13): an accent badge at the icon's top right while any Claude
Code session waits for the user, nothing else on the icon changes, the count from 22 px up, the
cache key includes it, and the tray repaints only when what it shows changes."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QColor, QImage

from tests.helpers.states import NOW, account_state, window_state
from trayapp.core.clock import FakeClock
from trayapp.core.models import Level
from trayapp.ui.icon import NEEDS_YOU, SIZES, icon_key, needs_you_centre, paint_icon
from trayapp.ui.theme import ICON
from trayapp.ui.tray import Tray


def close(c: QColor, hex_color: str, tol: int = 40) -> bool:
    e = QColor(hex_color)
    return abs(c.red() - e.red()) + abs(c.green() - e.green()) + abs(c.blue() - e.blue()) <= tol


def badge_pixel(img: QImage, size: int, dpr: float = 1.0) -> QColor:
    """A pixel inside the badge, off its centre (where a count digit may be drawn)."""
    centre, r = needs_you_centre(size)
    return img.pixelColor(int((centre.x() + r * 0.6) * dpr), int(centre.y() * dpr))


def changed_pixels(a: QImage, b: QImage) -> list[tuple[int, int]]:
    return [
        (x, y)
        for x in range(a.width())
        for y in range(a.height())
        if a.pixelColor(x, y) != b.pixelColor(x, y)
    ]


@pytest.mark.parametrize("size", SIZES)
def test_badge_is_an_accent_mark_at_the_top_right_and_changes_nothing_else(qapp, size) -> None:
    plain = paint_icon(size, 34, Level.OK)
    badged = paint_icon(size, 34, Level.OK, needs_you=2)
    assert close(badge_pixel(badged, size), NEEDS_YOU)
    assert not close(badge_pixel(plain, size), NEEDS_YOU)
    centre, r = needs_you_centre(size)
    changed = changed_pixels(plain, badged)
    assert changed
    # Every changed pixel lies in the badge's circle (plus its ring and antialiasing).
    reach = r + max(1.0, size * 0.05) + 1.5
    for x, y in changed:
        assert (x + 0.5 - centre.x()) ** 2 + (y + 0.5 - centre.y()) ** 2 <= reach**2, (x, y)
    # Top right: the badge's centre is right of and above the icon's middle.
    assert centre.x() > size / 2
    assert centre.y() < size / 2


def test_no_badge_for_zero_and_the_count_is_drawn_from_22_px(qapp) -> None:
    plain = paint_icon(22, 34, Level.OK)
    assert changed_pixels(plain, paint_icon(22, 34, Level.OK, needs_you=0)) == []
    one, three = paint_icon(22, 34, Level.OK, needs_you=1), paint_icon(22, 34, Level.OK, needs_you=3)
    assert changed_pixels(one, three)  # a different digit
    # Below 22 px a plain dot: the count is not drawn, so 1 and 3 look alike.
    assert (
        changed_pixels(paint_icon(16, 34, Level.OK, needs_you=1), paint_icon(16, 34, Level.OK, needs_you=3))
        == []
    )
    # The digit is in the disc's colour on the accent.
    centre, r = needs_you_centre(22)
    inside = [
        three.pixelColor(x, y)
        for x in range(int(centre.x() - r), int(centre.x() + r))
        for y in range(int(centre.y() - r), int(centre.y() + r))
    ]
    assert any(close(c, ICON.disc, 60) for c in inside)


def test_badge_shows_on_a_hidpi_and_a_template_icon(qapp) -> None:
    hi = paint_icon(22, 34, Level.OK, device_pixel_ratio=2.0, needs_you=1)
    assert close(badge_pixel(hi, 22, 2.0), NEEDS_YOU)
    template = paint_icon(22, 34, Level.OK, template=True, needs_you=1)
    assert badge_pixel(template, 22).alpha() == 255  # black ink the menu bar tints
    assert paint_icon(22, 34, Level.OK, template=True).pixelColor(21, 1).alpha() == 0


def test_the_icon_key_includes_the_badge() -> None:
    state = account_state(window_state("five_hour", 34.0), now=NOW)
    assert icon_key(state) == icon_key(state, needs_you=0)
    assert icon_key(state, needs_you=1) != icon_key(state)
    assert icon_key(state, needs_you=1) != icon_key(state, needs_you=2)
    assert icon_key(state, needs_you=-3) == icon_key(state)


def tray_badge_pixel(tray: Tray) -> QColor:
    img = tray.icon.icon().pixmap(22, 22).toImage()
    return badge_pixel(img, 22, img.devicePixelRatio())


def test_tray_set_needs_you_paints_the_badge_and_says_so(qtbot) -> None:
    tray = Tray(FakeClock(NOW))
    tray.set_state(account_state(window_state("five_hour", 34.0), now=NOW))
    assert not close(tray_badge_pixel(tray), NEEDS_YOU)
    tray.set_needs_you(2)
    assert close(tray_badge_pixel(tray), NEEDS_YOU)
    assert "2 Claude Code sessions need you" in tray.tooltip()
    tray.set_needs_you(1)
    assert tray.tooltip().endswith("1 Claude Code session needs you")
    tray.set_needs_you(0)
    assert not close(tray_badge_pixel(tray), NEEDS_YOU)
    assert "need" not in tray.tooltip()


def test_tray_repaints_only_when_the_badge_or_state_changes(qtbot, monkeypatch) -> None:
    tray = Tray(FakeClock(NOW))
    painted: list[object] = []
    real = tray.icon.setIcon
    monkeypatch.setattr(tray.icon, "setIcon", lambda icon: (painted.append(icon), real(icon)))
    tray.set_needs_you(1)
    tray.set_needs_you(1)  # the same count again (every sessions_changed repeats it)
    assert len(painted) == 1
    tray.set_needs_you(2)
    assert len(painted) == 2
    tray.set_state(account_state(window_state("five_hour", 50.0), now=NOW))
    assert len(painted) == 3
