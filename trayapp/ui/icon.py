"""The tray icon, painted at run time: a ring showing the binding limit's percentage.

A dark disc carries a grey track and an arc coloured by level (ok, warning, critical, at limit),
with the number in the middle from 20 px up and a dot below that. The disc keeps it readable on
light and dark panels alike. Stale readings draw the arc grey; errors draw a grey ring with a red
"!". While Claude Code sessions wait for the user, an accent badge sits at the top right (their
count from 22 px up, a plain dot below). On macOS a template image (black on transparent) lets
the menu bar tint it. Every size from 16 to 64 px is painted natively (no scaling), at the
screen's device pixel ratio. The colours are ``ui.theme.ICON`` (and the popup's dark accent).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QImage, QPainter, QPen, QPixmap

from trayapp.core.models import AccountState, Alert, AlertKind, Level
from trayapp.ui.theme import DARK, ICON

NEEDS_YOU = DARK.accent  # the app's accent as it shows on dark surfaces: the icon's disc is dark

IconKey = tuple[float | None, Level, bool, int, float, bool]

SIZES = (16, 20, 22, 24, 32, 48, 64)


def level_color(level: Level) -> QColor:
    return QColor(ICON.levels[level])


def paint_icon(
    size: int,
    percent: float | None,
    level: Level,
    device_pixel_ratio: float = 1.0,
    template: bool = False,
    badge: bool = False,
    needs_you: int = 0,
) -> QImage:
    """Paint one icon image of ``size`` logical pixels.

    Args:
        size: logical edge length (16-64).
        percent: the binding window's utilization, or None when unknown.
        level: colour level (STALE and ERROR are drawn specially).
        device_pixel_ratio: physical pixels per logical pixel (HiDPI).
        template: macOS template image: black shapes on transparent, no colour.
        badge: a red dot at the bottom right: the last fetch failed (the numbers are old).
        needs_you: sessions waiting for the user; more than 0 draws the accent badge.
    """
    px = max(1, round(size * device_pixel_ratio))
    img = QImage(px, px, QImage.Format.Format_ARGB32_Premultiplied)
    img.setDevicePixelRatio(device_pixel_ratio)
    img.fill(Qt.GlobalColor.transparent)
    p = QPainter(img)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    s = float(size)
    ink = QColor(ICON.template_ink)
    disc = QColor(ICON.disc)
    mark = ink if template else QColor(ICON.error_mark)
    if not template:
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(disc)
        p.drawEllipse(QRectF(0, 0, s, s))
    stroke = max(2.0, s * 0.14)
    inset = stroke / 2 + (0.5 if template else max(1.0, s * 0.05))
    ring = QRectF(inset, inset, s - 2 * inset, s - 2 * inset)
    track = QPen(QColor(ICON.template_track if template else ICON.track), stroke)
    track.setCapStyle(Qt.PenCapStyle.FlatCap)
    p.setPen(track)
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawEllipse(ring)
    if percent is not None and level is not Level.ERROR:
        frac = max(0.0, min(percent, 100.0)) / 100.0
        if frac > 0:
            arc = QPen(ink if template else level_color(level), stroke)
            arc.setCapStyle(Qt.PenCapStyle.FlatCap)
            p.setPen(arc)
            # Qt angles: 1/16 degree, counter-clockwise from 3 o'clock; start at 12, go clockwise.
            span = -round(max(frac, 0.03) * 360 * 16)
            p.drawArc(ring, 90 * 16, span)
    center = QPointF(s / 2, s / 2)
    if level is Level.ERROR:
        _draw_text(p, "!", s, mark, bold=True, scale=0.62)
    elif px >= 20 and percent is not None:  # device pixels: a 16 px icon at 2x has room for digits
        text = "!!" if percent >= 100 and px < 24 else f"{min(percent, 999):.0f}"
        _draw_text(
            p,
            text,
            s,
            ink if template else QColor(ICON.text),
            bold=True,
            scale=0.36 if len(text) > 2 else 0.5,
        )
    else:
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(ink if template else level_color(level))
        r = s * 0.16
        p.drawEllipse(center, r, r)
    if badge and level is not Level.ERROR:
        r = max(2.5, s * 0.17)
        p.setPen(QPen(ink if template else disc, max(1.0, s * 0.05)))
        p.setBrush(mark)
        p.drawEllipse(QPointF(s - r - 0.5, s - r - 0.5), r, r)
    if needs_you > 0:
        _draw_needs_you(p, s, needs_you, template)
    p.end()
    return img


def needs_you_centre(size: float) -> tuple[QPointF, float]:
    """Where the needs-you badge sits on an icon of ``size`` logical pixels: centre and radius."""
    r = max(3.0, size * 0.22)
    return QPointF(size - r - 0.5, r + 0.5), r


def _draw_needs_you(p: QPainter, s: float, count: int, template: bool) -> None:
    centre, r = needs_you_centre(s)
    ink = QColor(ICON.template_ink)
    if template:
        p.setPen(Qt.PenStyle.NoPen)
    else:  # a ring in the disc's colour parts the badge from the arc beneath it
        p.setPen(QPen(QColor(ICON.disc), max(1.0, s * 0.05)))
    p.setBrush(ink if template else QColor(NEEDS_YOU))
    p.drawEllipse(centre, r, r)
    if s >= 22 and not template:
        font = QFont()
        font.setBold(True)
        font.setPixelSize(max(7, round(r * 1.5)))
        p.setFont(font)
        p.setPen(QColor(ICON.disc))
        box = QRectF(centre.x() - r, centre.y() - r, 2 * r, 2 * r)
        p.drawText(box, Qt.AlignmentFlag.AlignCenter, str(count) if count < 10 else "+")


def _draw_text(p: QPainter, text: str, s: float, color: QColor, bold: bool, scale: float) -> None:
    font = QFont()
    font.setBold(bold)
    font.setPixelSize(max(7, round(s * scale)))
    font.setLetterSpacing(QFont.SpacingType.PercentageSpacing, 92)
    p.setFont(font)
    p.setPen(color)
    p.drawText(QRectF(0, 0, s, s), Qt.AlignmentFlag.AlignCenter, text)


def icon_inputs(state: AccountState | None) -> tuple[float | None, Level]:
    """The percentage and level the tray icon shows for ``state``."""
    if state is None:
        return None, Level.STALE
    level = state.level
    if state.binding is None:
        return None, level if level in (Level.ERROR, Level.STALE) else Level.STALE
    return state.binding.window.utilization, level


def icon_key(
    state: AccountState | None, device_pixel_ratio: float = 1.0, template: bool = False, needs_you: int = 0
) -> IconKey:
    """Everything the painted icon depends on: equal keys paint equal icons (the tray's cache)."""
    percent, level = icon_inputs(state)
    badge = state is not None and state.error is not None and state.snapshot is not None
    return percent, level, badge, max(0, needs_you), device_pixel_ratio, template


def make_icon(
    state: AccountState | None,
    device_pixel_ratio: float = 1.0,
    template: bool = False,
    needs_you: int = 0,
) -> QIcon:
    """A QIcon with every tray size painted natively for ``state`` (and the needs-you badge)."""
    percent, level, badge, needs_you, _, _ = icon_key(state, device_pixel_ratio, template, needs_you)
    icon = QIcon()
    for size in SIZES:
        icon.addPixmap(
            QPixmap.fromImage(
                paint_icon(size, percent, level, device_pixel_ratio, template, badge, needs_you)
            )
        )
        if device_pixel_ratio == 1.0:
            icon.addPixmap(
                QPixmap.fromImage(paint_icon(size, percent, level, 2.0, template, badge, needs_you))
            )
    if template:
        icon.setIsMask(True)
    return icon


def app_icon() -> QIcon:
    """The application's own icon (window icons, notifications): a healthy 60% ring."""
    icon = QIcon()
    for size in (16, 24, 32, 48, 64, 128):
        icon.addPixmap(QPixmap.fromImage(paint_icon(size, 62.0, Level.OK)))
    return icon


def alert_icon_file(alert: Alert) -> Path | None:
    """A PNG of the alert's own gauge (its percentage, its level's colour) for its notification,
    cached in ``cache/notification-icons/``; None (the app icon) for alerts that are not about a
    window's usage. Painted on the GUI thread, where the desktop channel sends."""
    from trayapp import paths

    if alert.kind not in (AlertKind.THRESHOLD, AlertKind.PREDICTIVE, AlertKind.FRESH_WINDOW):
        return None  # sessions, a signed-out login: the app icon
    percent = max(0, min(100, round(alert.utilization)))
    folder = paths.ensure(paths.cache_dir() / "notification-icons")
    path = folder / f"{alert.level.value}-{percent}.png"
    if not path.is_file():
        image = paint_icon(128, float(percent), alert.level)
        if not image.save(str(path), "PNG"):
            return None
    return path
