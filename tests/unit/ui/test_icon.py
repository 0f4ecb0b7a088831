"""The tray icon painter: colours by level, arc length by percentage, at every size and DPR."""

from __future__ import annotations

import math
from collections import Counter

import pytest
from PySide6.QtGui import QColor, QImage, QPainter

from tests.helpers.states import account_state, error, window_state
from trayapp.core.models import ErrorKind, Level
from trayapp.ui.icon import SIZES, icon_inputs, make_icon, paint_icon
from trayapp.ui.theme import ICON

LEVEL_COLORS, DISC, TRACK = ICON.levels, ICON.disc, ICON.track


def ring_pixel(img, size: float, degrees_clockwise_from_top: float, dpr: float = 1.0) -> QColor:
    """The colour in the middle of the ring stroke at an angle."""
    stroke = max(2.0, size * 0.14)
    inset = stroke / 2 + max(1.0, size * 0.05)
    r = size / 2 - inset
    a = math.radians(degrees_clockwise_from_top)
    x = size / 2 + r * math.sin(a)
    y = size / 2 - r * math.cos(a)
    return img.pixelColor(int(x * dpr), int(y * dpr))


def close(c: QColor, hex_color: str, tol: int = 40) -> bool:
    e = QColor(hex_color)
    return abs(c.red() - e.red()) + abs(c.green() - e.green()) + abs(c.blue() - e.blue()) <= tol


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize(
    ("percent", "level"), [(30, Level.OK), (80, Level.WARNING), (93, Level.CRITICAL), (100, Level.AT_LIMIT)]
)
def test_arc_is_coloured_by_level_and_as_long_as_the_percentage(qapp, size, percent, level) -> None:
    img = paint_icon(size, percent, level)
    assert img.width() == size
    assert img.height() == size
    assert close(ring_pixel(img, size, 8), LEVEL_COLORS[level])
    if percent < 100:
        assert close(ring_pixel(img, size, percent * 3.6 + 15), TRACK)
    # Corners stay transparent: no square blob on the panel.
    assert img.pixelColor(0, 0).alpha() == 0


@pytest.mark.parametrize("dpr", [1.0, 2.0])
def test_hidpi_is_painted_natively(qapp, dpr) -> None:
    img = paint_icon(22, 50, Level.OK, device_pixel_ratio=dpr)
    assert img.width() == round(22 * dpr)
    assert close(ring_pixel(img, 22, 45, dpr), LEVEL_COLORS[Level.OK])
    assert close(ring_pixel(img, 22, 270, dpr), TRACK)


def test_stale_is_grey_and_error_has_no_arc(qapp) -> None:
    stale = paint_icon(32, 60, Level.STALE)
    assert close(ring_pixel(stale, 32, 30), LEVEL_COLORS[Level.STALE])
    err = paint_icon(32, None, Level.ERROR)
    assert close(ring_pixel(err, 32, 30), TRACK)
    # The red "!" sits in the middle.
    reds = sum(
        1
        for x in range(10, 22)
        for y in range(6, 26)
        if err.pixelColor(x, y).red() > 200 and err.pixelColor(x, y).green() < 140
    )
    assert reds > 5


def on_panel(img: QImage, panel: str) -> QImage:
    """The icon as a panel of colour ``panel`` shows it."""
    out = QImage(img.size(), QImage.Format.Format_RGB32)
    out.fill(QColor(panel))
    p = QPainter(out)
    p.drawImage(0, 0, img)
    p.end()
    return out


def luminance(c: QColor) -> float:
    """WCAG relative luminance."""

    def channel(v: int) -> float:
        s = v / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(c.red()) + 0.7152 * channel(c.green()) + 0.0722 * channel(c.blue())


def contrast(a: QColor, b: QColor) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_readable_on_light_and_dark_panels(qapp) -> None:
    img = paint_icon(22, 40, Level.OK)
    # The middle of the icon, inside the ring, where the digits are.
    middle = [(x, y) for x in range(22) for y in range(22) if math.hypot(x + 0.5 - 11, y + 0.5 - 11) <= 5]
    seen = {}
    for panel in ("#f2f2f2", "#202124"):  # a light and a dark panel
        shown = on_panel(img, panel)
        colours = [shown.pixelColor(x, y) for x, y in middle]
        ink = max(colours, key=luminance)  # the digits
        ground = Counter(c.name() for c in colours).most_common(1)[0][0]
        assert ground == QColor(DISC).name()  # behind the digits is the disc, not the panel
        assert contrast(ink, QColor(ground)) >= 7  # white on the dark disc: WCAG AAA
        seen[panel] = [c.name() for c in colours]
    # The panel does not show through anywhere behind the digits: both panels show the same pixels.
    assert seen["#f2f2f2"] == seen["#202124"]


def test_small_sizes_use_a_dot_not_digits(qapp) -> None:
    img = paint_icon(16, 40, Level.WARNING)
    assert close(img.pixelColor(8, 8), LEVEL_COLORS[Level.WARNING])


def test_template_image_is_monochrome(qapp) -> None:
    img = paint_icon(22, 70, Level.CRITICAL, template=True)
    for x in range(22):
        for y in range(22):
            c = img.pixelColor(x, y)
            if c.alpha() > 0:
                assert c.red() == c.green() == c.blue() == 0


def test_icon_inputs_follow_the_state(qapp) -> None:
    assert icon_inputs(None) == (None, Level.STALE)
    ok = account_state(window_state("five_hour", 42.0))
    assert icon_inputs(ok) == (42.0, Level.OK)
    stale = account_state(window_state("five_hour", 42.0), stale=True)
    assert icon_inputs(stale) == (42.0, Level.STALE)
    failed = account_state(no_snapshot=True, error=error(ErrorKind.NETWORK))
    assert icon_inputs(failed)[1] is Level.ERROR
    icon = make_icon(ok)
    assert {s.width() for s in icon.availableSizes()} >= set(SIZES)


def test_failed_fetch_with_old_numbers_gets_a_red_badge(qapp) -> None:
    plain = paint_icon(22, 58, Level.STALE)
    badged = paint_icon(22, 58, Level.STALE, badge=True)
    corner = badged.pixelColor(18, 18)
    assert close(corner, "#ff5c5c", tol=60)
    assert not close(plain.pixelColor(18, 18), "#ff5c5c", tol=60)


def test_a_small_icon_at_2x_scaling_shows_digits(qapp) -> None:
    """Issue 20: at 2x a 16 px tray icon (32 device pixels) showed a dot; digits are chosen by
    device pixels. The dot fills the centre in the level colour; digits leave text-coloured pixels."""
    dot = paint_icon(16, 40, Level.WARNING, device_pixel_ratio=1.0)
    hidpi = paint_icon(16, 40, Level.WARNING, device_pixel_ratio=2.0)
    assert close(dot.pixelColor(8, 8), LEVEL_COLORS[Level.WARNING])
    centre = [hidpi.pixelColor(x, y) for x in range(10, 22) for y in range(10, 22)]
    assert any(close(c, ICON.text, tol=60) for c in centre)  # the digits' ink
    assert not any(close(c, LEVEL_COLORS[Level.WARNING], tol=30) for c in centre[60:84])  # no dot
