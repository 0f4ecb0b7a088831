"""The timeline: utilization history per window, painted with QPainter.

One line per window over the last 24 hours or 7 days, vertical markers where a window reset,
dashed threshold guides, a dashed projection from the latest reading to the next reset at the
current burn rate, and a hover read-out with the time and value under the mouse. The data are
prepared once per update by :mod:`trayapp.ui.timeline_model` (decimated), so painting stays
cheap even with 90 days of 5-minute samples in the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QMouseEvent, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from trayapp.core.models import AccountState, level_for
from trayapp.ui.theme import LIGHT, Theme
from trayapp.ui.timeline_model import Axis, Row, Series, build_series, nearest, view_span

LEFT, RIGHT, TOP, BOTTOM = 34, 10, 22, 20


class Timeline(QWidget):
    """History chart. Feed it with :meth:`set_data`; it never fetches anything itself."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("timeline")
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.theme: Theme = LIGHT
        self.series: list[Series] = []
        self.labels: dict[str, str] = {"five_hour": "5-hour", "seven_day": "Weekly"}
        self.projections: dict[str, tuple[float, float, float, float]] = {}
        self.thresholds: tuple[int, ...] = (50, 75, 90)
        self.range_key = "24h"
        self.now = datetime.now(UTC)
        self.t0 = self.t1 = 0.0
        self._hover_x: float | None = None

    def sizeHint(self) -> QSize:
        return QSize(320, 150)

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.update()

    def set_data(
        self,
        rows: Sequence[Row],
        state: AccountState | None,
        now: datetime,
        range_key: str = "24h",
        thresholds: Sequence[int] = (50, 75, 90),
    ) -> None:
        """Replace the plotted history (``rows`` from the store) and the projection from ``state``."""
        self.now, self.range_key = now, range_key
        since, axis_end = view_span(now, range_key)
        self.t0, self.t1 = since.timestamp(), axis_end.timestamp()
        order = [ws.window.id for ws in state.windows] if state else []
        if state is not None:
            # Remember labels: history may show windows the current reading no longer has.
            self.labels.update({ws.window.id: ws.window.label for ws in state.windows})
        self.series = build_series(rows, since, now, max_points=max(240, self.width() * 2), order=order)
        self.thresholds = tuple(t for t in thresholds if t < 100)
        self.projections = {}
        if state is not None and not state.stale:
            for ws in state.windows:
                w = ws.window
                if w.resets_at is None or not ws.burn_rate_per_hour or ws.projected_at_reset is None:
                    continue
                start = now.timestamp()
                end = min(w.resets_at.timestamp(), self.t1)
                if end <= start:
                    continue
                value = w.utilization + ws.burn_rate_per_hour * (end - start) / 3600
                self.projections[w.id] = (start, w.utilization, end, value)
        self.update()

    def _axis(self) -> Axis:
        return Axis(
            self.t0,
            self.t1,
            LEFT,
            TOP,
            max(1, self.width() - LEFT - RIGHT),
            max(1, self.height() - TOP - BOTTOM),
        )

    def color_for(self, index: int) -> QColor:
        return QColor(self.theme.series[index % len(self.theme.series)])

    def paintEvent(self, event: QPaintEvent) -> None:
        t = self.theme
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(t.bg))
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        ax = self._axis()
        small = QFont()
        small.setPixelSize(10)
        p.setFont(small)
        # Grid and percentage labels.
        for v in (0, 50, 100):
            y = ax.y(v)
            p.setPen(QPen(QColor(t.grid), 1))
            p.drawLine(QPointF(ax.left, y), QPointF(ax.left + ax.width, y))
            p.setPen(QColor(t.muted))
            p.drawText(
                QRectF(0, y - 7, LEFT - 5, 14),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                f"{v}%",
            )
        # Threshold guides.
        for v in self.thresholds:
            if v in (50,):
                continue
            pen = QPen(QColor(t.levels[level_for(v)]), 1, Qt.PenStyle.DashLine)
            pen.setDashPattern([2, 4])
            p.setPen(pen)
            y = ax.y(v)
            p.drawLine(QPointF(ax.left, y), QPointF(ax.left + ax.width, y))
        self._paint_time_axis(p, ax)
        # The future is shaded lightly; "now" is a solid line.
        now_x = ax.x(self.now.timestamp())
        future = QColor(t.surface)
        p.fillRect(QRectF(now_x, ax.top, ax.left + ax.width - now_x, ax.height), future)
        p.setPen(QPen(QColor(t.muted), 1))
        p.drawLine(QPointF(now_x, ax.top), QPointF(now_x, ax.top + ax.height))
        # Series, reset markers and projections.
        for i, s in enumerate(self.series):
            color = self.color_for(i)
            marker = QColor(color)
            marker.setAlpha(110)
            p.setPen(QPen(marker, 1, Qt.PenStyle.DotLine))
            for r in s.resets:
                x = ax.x(r)
                if ax.left <= x <= ax.left + ax.width:
                    p.drawLine(QPointF(x, ax.top), QPointF(x, ax.top + ax.height))
            pen = QPen(color, 2 if i == 0 else 1.6)
            pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
            p.setPen(pen)
            for seg in s.segments:
                if not seg:
                    continue
                path = QPainterPath(QPointF(ax.x(seg[0][0]), ax.y(seg[0][1])))
                for at, value in seg[1:]:
                    path.lineTo(ax.x(at), ax.y(value))
                p.drawPath(path)
            proj = self.projections.get(s.window_id)
            if proj is not None:
                dash = QPen(color, 1.6, Qt.PenStyle.DashLine)
                p.setPen(dash)
                p.drawLine(QPointF(ax.x(proj[0]), ax.y(proj[1])), QPointF(ax.x(proj[2]), ax.y(proj[3])))
        self._paint_legend(p)
        self._paint_hover(p, ax)
        p.end()

    def _paint_time_axis(self, p: QPainter, ax: Axis) -> None:
        local_now = self.now.astimezone()
        if self.range_key == "7d":
            step = timedelta(days=1)
            first = local_now.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=7)
            fmt = "%a"
        else:
            step = timedelta(hours=6)
            first = local_now.replace(minute=0, second=0, microsecond=0)
            first -= timedelta(hours=first.hour % 6) + timedelta(hours=24)
            fmt = "%H:%M"
        p.setPen(QColor(self.theme.muted))
        tick = first
        while tick.timestamp() <= self.t1:
            x = ax.x(tick.timestamp())
            if ax.left + 8 <= x <= ax.left + ax.width - 8:
                p.setPen(QPen(QColor(self.theme.grid), 1))
                p.drawLine(QPointF(x, ax.top), QPointF(x, ax.top + ax.height))
                p.setPen(QColor(self.theme.muted))
                label = tick.strftime(fmt)
                p.drawText(
                    QRectF(x - 24, ax.top + ax.height + 3, 48, 14), Qt.AlignmentFlag.AlignCenter, label
                )
            tick += step

    def _paint_legend(self, p: QPainter) -> None:
        x = float(LEFT)
        for i, s in enumerate(self.series):
            label = self.labels.get(s.window_id, s.window_id)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(self.color_for(i))
            p.drawEllipse(QPointF(x + 4, 9), 3.5, 3.5)
            p.setPen(QColor(self.theme.muted))
            width = p.fontMetrics().horizontalAdvance(label)
            p.drawText(QRectF(x + 11, 1, width + 4, 16), Qt.AlignmentFlag.AlignVCenter, label)
            x += width + 24
        if not self.series:
            p.setPen(QColor(self.theme.muted))
            p.drawText(
                QRectF(LEFT, TOP, self.width() - LEFT - RIGHT, self.height() - TOP - BOTTOM),
                Qt.AlignmentFlag.AlignCenter,
                "No history yet: it fills in as readings arrive",
            )

    def hover_text(self, x: float) -> str | None:
        """What the hover read-out says with the mouse at widget x (None when nothing is near)."""
        ax = self._axis()
        found = nearest(self.series, ax.t_at(x))
        if found is None:
            return None
        s, (ts, v) = found
        when = datetime.fromtimestamp(ts, UTC).astimezone()
        fmt = "%a %H:%M" if self.range_key == "7d" else "%H:%M"
        return f"{when.strftime(fmt)} · {self.labels.get(s.window_id, s.window_id)} {v:.0f}%"

    def _paint_hover(self, p: QPainter, ax: Axis) -> None:
        if self._hover_x is None:
            return
        found = nearest(self.series, ax.t_at(self._hover_x))
        text = self.hover_text(self._hover_x)
        if found is None or text is None:
            return
        s, (ts, v) = found
        x, y = ax.x(ts), ax.y(v)
        p.setPen(QPen(QColor(self.theme.muted), 1))
        p.drawLine(QPointF(x, ax.top), QPointF(x, ax.top + ax.height))
        idx = self.series.index(s)
        p.setBrush(self.color_for(idx))
        p.setPen(QPen(QColor(self.theme.bg), 1.5))
        p.drawEllipse(QPointF(x, y), 4, 4)
        width = p.fontMetrics().horizontalAdvance(text) + 12
        bx = min(max(ax.left, x - width / 2), ax.left + ax.width - width)
        box = QRectF(bx, ax.top + 2, width, 18)
        p.setPen(QPen(QColor(self.theme.border), 1))
        p.setBrush(QColor(self.theme.bg))
        p.drawRoundedRect(box, 4, 4)
        p.setPen(QColor(self.theme.text))
        p.drawText(box, Qt.AlignmentFlag.AlignCenter, text)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        self._hover_x = event.position().x()
        self.update()

    def leaveEvent(self, event: object) -> None:
        self._hover_x = None
        self.update()
