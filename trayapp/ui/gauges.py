"""Gauge rows of the popup: one per usage window, plus the extra-usage (money) row.

Each row paints itself from a value and a theme: the window's name and percentage, a bar with
threshold ticks and a faint segment for where the current pace leads by the reset, the reset
countdown with the burn rate, and the projection in words. Text is recomputed from ``now`` on
every tick so countdowns stay live while the popup is open.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from trayapp.core import humanize
from trayapp.core.models import ExtraUsage, Level, WindowState, level_for
from trayapp.ui.theme import LIGHT, Theme

PAD_X = 16
TICKS = (50, 75, 90)
PACE_LINE = 14  # pixels per extra line of the pace sentence
PACE_LINES = 2  # at most this many; beyond, elided (the tooltip has it all)
WIDTH = 378  # the popup's inner width (popup_layout.WIDTH less its border): a row's width until laid out


def _font(px: int, bold: bool = False) -> QFont:
    f = QFont()
    f.setPixelSize(px)
    f.setBold(bold)
    return f


class _Row(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme: Theme = LIGHT
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.update()

    def _bar(
        self,
        p: QPainter,
        rect: QRectF,
        value: float,
        color: str,
        projected: float | None = None,
        ticks: tuple[int, ...] = (),
    ) -> None:
        t = self.theme
        radius = rect.height() / 2
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(t.track))
        p.drawRoundedRect(rect, radius, radius)
        frac = max(0.0, min(value, 100.0)) / 100.0
        if projected is not None and projected > value:
            ghost = QColor(color)
            ghost.setAlpha(70)
            pw = rect.width() * max(0.0, min(projected, 100.0)) / 100.0
            p.setBrush(ghost)
            p.drawRoundedRect(QRectF(rect.x(), rect.y(), pw, rect.height()), radius, radius)
        if frac > 0:
            w = max(rect.height(), rect.width() * frac)
            p.setBrush(QColor(color))
            p.drawRoundedRect(QRectF(rect.x(), rect.y(), w, rect.height()), radius, radius)
        tick = QColor(t.bg)
        tick.setAlpha(200)
        p.setPen(tick)
        for v in ticks:
            x = rect.x() + rect.width() * v / 100.0
            p.drawLine(int(x), int(rect.y()), int(x), int(rect.bottom()) - 1)


class GaugeRow(_Row):
    """One usage window: name, %, bar, countdown, burn rate and projection."""

    def __init__(self, ws: WindowState, now: datetime, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ws = ws
        self.now = now
        self.stale = False
        self.setObjectName(f"gauge-{ws.window.id}")

    def set_value(self, ws: WindowState, now: datetime, stale: bool = False) -> None:
        self.ws, self.now, self.stale = ws, now, stale
        self._update_tooltip()
        self.updateGeometry()
        self.update()

    def tick(self, now: datetime) -> None:
        lines = self.pace_lines(self.width())
        self.now = now
        if self.pace_lines(self.width()) != lines:
            self.updateGeometry()  # the sentence moved to two lines (or back): the row's height changes
        self._update_tooltip()
        self.update()

    # Texts, exposed for tests and accessibility.
    def title(self) -> str:
        return self.ws.window.label

    def percent_text(self) -> str:
        return humanize.format_percent(self.ws.window.utilization)

    def reset_text(self) -> str:
        return humanize.reset_text(self.ws, self.now)

    def pace_text(self) -> str:
        return "" if self.stale else humanize.pace_text(self.ws, self.now)

    def burn_text(self) -> str:
        return "" if self.stale else humanize.burn_text(self.ws)

    def level(self) -> Level:
        return Level.STALE if self.stale else level_for(self.ws.window.utilization)

    # The pace sentence ("at this pace: 100% at Fri 10:15, 23 h 33 min before reset") is the most
    # useful line in the popup and can be wider than the row: it wraps to a second line (the row
    # grows, height-for-width), and says it in full in the row's tooltip when even that is short.
    def pace_warn(self) -> bool:
        return self.ws.projected_full_at is not None or self.ws.window.utilization >= 100

    def pace_lines(self, width: int) -> int:
        """Lines the pace sentence takes in a row ``width`` pixels wide (0: none, at most 2)."""
        pace = self.pace_text()
        if not pace:
            return 0
        fm = QFontMetrics(_font(11, bold=self.pace_warn()))
        return 1 if fm.horizontalAdvance(pace) <= width - 2 * PAD_X else 2

    def pace_fits(self, width: int) -> bool:
        """Whether the whole sentence is drawn at ``width`` (else it is elided, in the tooltip)."""
        fm = QFontMetrics(_font(11, bold=self.pace_warn()))
        rect = fm.boundingRect(0, 0, width - 2 * PAD_X, 1000, Qt.TextFlag.TextWordWrap, self.pace_text())
        return rect.height() <= PACE_LINES * fm.lineSpacing()

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        lines = self.pace_lines(width)
        return 60 + (18 + PACE_LINE * (lines - 1) if lines else 0)

    def sizeHint(self) -> QSize:
        width = self.width() if self.isVisible() else WIDTH
        return QSize(320, self.heightForWidth(width))

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._update_tooltip()
        super().resizeEvent(event)

    def _update_tooltip(self) -> None:
        pace = self.pace_text()
        self.setToolTip(pace if pace and self.pace_lines(self.width()) > 1 else "")

    def paintEvent(self, event: QPaintEvent) -> None:
        t = self.theme
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        w = self.width() - 2 * PAD_X
        color = t.levels[self.level()]
        p.setFont(_font(18, bold=True))
        p.setPen(QColor(color))
        pct = self.percent_text()
        pct_w = QFontMetrics(p.font()).horizontalAdvance(pct)
        p.drawText(QRectF(PAD_X, 4, w, 24), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, pct)
        p.setFont(_font(13, bold=True))
        p.setPen(QColor(t.text))
        label = QFontMetrics(p.font()).elidedText(self.title(), Qt.TextElideMode.ElideRight, w - pct_w - 12)
        p.drawText(QRectF(PAD_X, 4, w, 24), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, label)
        projected = None if self.stale else self.ws.projected_at_reset
        self._bar(p, QRectF(PAD_X, 31, w, 8), self.ws.window.utilization, color, projected, TICKS)
        p.setFont(_font(11))
        p.setPen(QColor(t.muted))
        p.drawText(
            QRectF(PAD_X, 42, w, 16),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            self.reset_text(),
        )
        burn = self.burn_text()
        if burn:
            p.drawText(
                QRectF(PAD_X, 42, w, 16), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, burn
            )
        pace = self.pace_text()
        if pace:
            warn = self.pace_warn()
            p.setPen(QColor(t.levels[Level.CRITICAL] if warn else t.muted))
            p.setFont(_font(11, bold=warn))
            lines = self.pace_lines(self.width())
            if lines > 1 and not self.pace_fits(self.width()):
                pace = QFontMetrics(p.font()).elidedText(pace, Qt.TextElideMode.ElideRight, 2 * w - 40)
            p.drawText(
                QRectF(PAD_X, 58, w, 16 + PACE_LINE * (lines - 1)),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap,
                pace,
            )
        p.end()


class ExtraUsageRow(_Row):
    """Pay-as-you-go credits: money used of the monthly limit, in its currency."""

    def __init__(self, extra: ExtraUsage, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.extra = extra
        self.setObjectName("gauge-extra-usage")

    def set_value(self, extra: ExtraUsage) -> None:
        self.extra = extra
        self.updateGeometry()
        self.update()

    def amount_text(self) -> str:
        e = self.extra
        if not e.is_enabled:
            return "off"
        used = humanize.format_money(e.used or 0.0, e.currency, e.decimal_places)
        if e.monthly_limit is None:
            return used
        return f"{used} / {humanize.format_money(e.monthly_limit, e.currency, e.decimal_places)}"

    def detail_text(self) -> str:
        e = self.extra
        if not e.is_enabled:
            return "Extra usage is off: you stop at your plan's limits"
        if e.utilization is None:
            return "used this month (no monthly limit)"
        return f"{e.utilization:.0f}% of this month's extra usage limit"

    def sizeHint(self) -> QSize:
        return QSize(320, 60 if self.extra.is_enabled else 44)

    def paintEvent(self, event: QPaintEvent) -> None:
        t = self.theme
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        w = self.width() - 2 * PAD_X
        e = self.extra
        p.setFont(_font(13, bold=True))
        p.setPen(QColor(t.text))
        p.drawText(
            QRectF(PAD_X, 4, w, 24), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, "Extra usage"
        )
        p.setFont(_font(13, bold=e.is_enabled))
        util = e.utilization or 0.0
        color = t.levels[level_for(util)] if e.is_enabled else t.muted
        p.setPen(QColor(color))
        p.drawText(
            QRectF(PAD_X, 4, w, 24),
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
            self.amount_text(),
        )
        y = 28
        if e.is_enabled:
            self._bar(p, QRectF(PAD_X, 31, w, 6), util, color)
            y = 40
        p.setFont(_font(11))
        p.setPen(QColor(t.muted))
        p.drawText(
            QRectF(PAD_X, y, w, 16),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            self.detail_text(),
        )
        p.end()
