"""The schedule view: today's 24 hours (local midnight to midnight) with the current 5-hour window
and its projected reset, the planned anchors with the window each one buys, and today's start
attempts marked verified or failed. It edits the plan with the mouse.

- Press and drag on empty space: a new anchor where the button is released (every weekday, remind).
- Drag an anchor's marker: move it. Right-click it, or click it and press Delete: remove it.
- Times snap to :data:`SNAP_MINUTES`. An edit that breaks the plan's rules (anchors less than 5 h
  apart, more than four a day) is refused: the marker goes back and the reason is shown inline.

A view: :meth:`ScheduleView.set_data` takes values; edits leave as ``plan_edited(plan)`` (already
validated by the pure :func:`core.schedule.validate`), refusals as ``refused(reason)``. It reuses
the timeline's :class:`~trayapp.ui.timeline_model.Axis` (time to pixels) and its palette.

Signals:
    plan_edited(object): the edited :class:`~trayapp.core.schedule.Plan`, valid, to be saved.
    refused(str): why an edit was refused (also painted in the view until the next edit).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

from trayapp.core.models import AccountState, Level
from trayapp.core.schedule import (
    WINDOW,
    Anchor,
    AnchorMode,
    Attempt,
    Outcome,
    Plan,
    PlanError,
    anchor_instant,
    anchors_on,
    plan_from_reset,
    validate,
)
from trayapp.ui.theme import LIGHT, Theme
from trayapp.ui.timeline_model import Axis

LEFT, RIGHT, TOP, BOTTOM = 12, 12, 30, 34
SNAP_MINUTES = 15
HIT_PX = 7.0  # how close to a marker a press must be to grab it
DRAG_PX = 3.0  # a press that moves less than this is a click
FAILED = (Outcome.NOT_OPENED, Outcome.FAILED)


class ScheduleView(QWidget):
    """Today's plan on a 24-hour axis (see the module docstring)."""

    plan_edited = Signal(object)
    refused = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("schedule-view")
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.theme: Theme = LIGHT
        self.tz = ZoneInfo("UTC")
        self.plan = Plan()
        self.now = datetime.now(UTC)
        self.day: date = self.now.date()
        self.resets_at: datetime | None = None
        self.attempts: list[Attempt] = []
        self.message = ""  # the last refusal, painted inline
        self.selected: str | None = None  # anchor id (click, then Delete)
        self._press: tuple[float, str | None] | None = None  # (x, grabbed anchor id)
        self._drag_x: float | None = None
        self._hover_x: float | None = None

    def sizeHint(self) -> QSize:
        return QSize(320, 118)

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.update()

    # ----- values in
    def set_data(
        self,
        plan: Plan,
        state: AccountState | None,
        attempts: Sequence[Attempt],
        now: datetime,
        tz: ZoneInfo,
    ) -> None:
        """Show ``plan`` for the local day of ``now`` with the 5-hour window from ``state``."""
        self.plan, self.now, self.tz = plan, now, tz
        self.day = now.astimezone(tz).date()
        five = state.snapshot.window("five_hour") if state is not None and state.snapshot else None
        self.resets_at = five.resets_at if five is not None else None
        self.attempts = list(attempts)
        if self.selected not in {a.id for a in plan.anchors}:
            self.selected = None
        self.update()

    # ----- geometry
    def span(self) -> tuple[datetime, datetime]:
        """Local midnight to the next midnight, as UTC instants (23 or 25 hours on DST days)."""
        start = datetime.combine(self.day, time(0), self.tz)
        end = datetime.combine(self.day + timedelta(days=1), time(0), self.tz)
        return start.astimezone(UTC), end.astimezone(UTC)

    def axis(self) -> Axis:
        t0, t1 = (d.timestamp() for d in self.span())
        width = max(1, self.width() - LEFT - RIGHT)
        return Axis(t0, t1, LEFT, TOP, width, max(1, self.height() - TOP - BOTTOM))

    def today(self) -> list[tuple[Anchor, datetime]]:
        return [(a, anchor_instant(a, self.day, self.tz)) for a in anchors_on(self.plan, self.day)]

    def x_of(self, anchor_id: str) -> float | None:
        for anchor, at in self.today():
            if anchor.id == anchor_id:
                return self.axis().x(at.timestamp())
        return None

    def time_at(self, x: float) -> time:
        """The local time of day under ``x``, snapped to :data:`SNAP_MINUTES` (23:45 at most)."""
        instant = datetime.fromtimestamp(self.axis().t_at(x), UTC).astimezone(self.tz)
        minutes = (instant.hour * 60 + instant.minute + SNAP_MINUTES // 2) // SNAP_MINUTES * SNAP_MINUTES
        minutes = max(0, min(minutes, 24 * 60 - SNAP_MINUTES))
        if instant.date() > self.day:
            minutes = 24 * 60 - SNAP_MINUTES
        elif instant.date() < self.day:
            minutes = 0
        return time(minutes // 60, minutes % 60)

    def anchor_near(self, x: float) -> str | None:
        best: tuple[float, str] | None = None
        ax = self.axis()
        for anchor, at in self.today():
            d = abs(ax.x(at.timestamp()) - x)
            if d <= HIT_PX and (best is None or d < best[0]):
                best = (d, anchor.id)
        return best[1] if best else None

    # ----- edits
    def _apply(self, plan: Plan) -> bool:
        try:
            valid = validate(replace(plan, preset="custom"))
        except PlanError as exc:
            self.message = str(exc)
            self.refused.emit(self.message)
            self.update()
            return False
        self.message = ""
        self.plan = valid
        self.plan_edited.emit(valid)
        self.update()
        return True

    def add_anchor(self, at: time) -> bool:
        anchor = Anchor(at)
        if any(a.id == anchor.id for a in self.plan.anchors):
            return False
        return self._apply(replace(self.plan, anchors=(*self.plan.anchors, anchor)))

    def move_anchor(self, anchor_id: str, at: time) -> bool:
        moved = tuple(replace(a, at=at) if a.id == anchor_id else a for a in self.plan.anchors)
        if moved == self.plan.anchors:
            return False
        ok = self._apply(replace(self.plan, anchors=moved))
        if ok:
            self.selected = f"{at.hour:02d}:{at.minute:02d}"
        return ok

    def remove_anchor(self, anchor_id: str) -> bool:
        kept = tuple(a for a in self.plan.anchors if a.id != anchor_id)
        if len(kept) == len(self.plan.anchors):
            return False
        self.selected = None
        return self._apply(replace(self.plan, anchors=kept))

    # ----- mouse and keys
    def mousePressEvent(self, event: QMouseEvent) -> None:
        x = event.position().x()
        grabbed = self.anchor_near(x)
        if event.button() == Qt.MouseButton.RightButton:
            if grabbed is not None:
                self.remove_anchor(grabbed)
            return
        if event.button() == Qt.MouseButton.LeftButton:
            self._press = (x, grabbed)
            self._drag_x = x
            self.selected = grabbed
            self.update()

    def hover_text(self, x: float, y: float) -> str:
        """The tooltip at (x, y): a marker's window and how to edit it, a start's outcome, or ""."""
        ax = self.axis()
        if y >= ax.top + ax.height - 14:  # the row of attempt dots
            for attempt in reversed(self.attempts):
                if abs(ax.x(attempt.at.timestamp()) - x) <= 5:
                    when = attempt.at.astimezone(self.tz).strftime("%H:%M")
                    detail = f": {attempt.detail}" if attempt.detail else ""
                    return f"{when} {attempt.outcome.value.replace('_', ' ')}{detail}"
        anchor_id = self.anchor_near(x)
        if anchor_id is None:
            return ""
        start, end = self.bands()[anchor_id]
        local = [t.astimezone(self.tz).strftime("%H:%M") for t in (start, end)]
        mode = next(a.mode for a in self.plan.anchors if a.id == anchor_id)
        what = "starts a window" if mode is AnchorMode.AUTO else "reminds you"
        return (
            f"{anchor_id} {what}: window {local[0]}-{local[1]}, next free at {local[1]}\n"
            "Drag to move; right-click (or Delete) to remove"
        )

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        x = event.position().x()
        self._hover_x = x
        if self._press is not None:
            self._drag_x = x
        else:
            self.setToolTip(self.hover_text(x, event.position().y()))
        self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._press is None or event.button() != Qt.MouseButton.LeftButton:
            return
        start_x, grabbed = self._press
        self._press = self._drag_x = None
        x = event.position().x()
        moved = abs(x - start_x) >= DRAG_PX
        if grabbed is not None and moved:
            self.move_anchor(grabbed, self.time_at(x))
        elif grabbed is None and moved:
            self.add_anchor(self.time_at(x))
        self.update()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and self.selected:
            self.remove_anchor(self.selected)
            return
        super().keyPressEvent(event)

    def leaveEvent(self, event: object) -> None:
        self._hover_x = None
        self.update()

    # ----- painting
    def paintEvent(self, event: QPaintEvent) -> None:
        t = self.theme
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(t.bg))
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        small = QFont()
        small.setPixelSize(10)
        p.setFont(small)
        ax = self.axis()
        band = QRectF(ax.left, ax.top, ax.width, ax.height)
        p.setPen(QPen(QColor(t.border), 1))
        p.setBrush(QColor(t.surface))
        p.drawRoundedRect(band, 4, 4)
        self._paint_hours(p, ax)
        self._paint_window(p, ax)
        self._paint_anchors(p, ax)
        self._paint_attempts(p, ax)
        now_x = ax.x(self.now.timestamp())
        if ax.left <= now_x <= ax.left + ax.width:
            p.setPen(QPen(QColor(t.text), 1.5))
            p.drawLine(QPointF(now_x, ax.top - 3), QPointF(now_x, ax.top + ax.height + 3))
        self._paint_drag(p, ax)
        self._paint_caption(p)
        p.end()

    def _paint_hours(self, p: QPainter, ax: Axis) -> None:
        start, _ = self.span()
        for hour in range(0, 25, 3):
            at = datetime.combine(self.day, time(0), self.tz) + timedelta(hours=hour)
            x = ax.x(at.astimezone(UTC).timestamp()) if hour < 24 else ax.left + ax.width
            p.setPen(QPen(QColor(self.theme.grid), 1))
            if 0 < hour < 24:
                p.drawLine(QPointF(x, ax.top + 1), QPointF(x, ax.top + ax.height - 1))
            p.setPen(QColor(self.theme.muted))
            label = f"{hour:02d}" if hour < 24 else "24"
            p.drawText(QRectF(x - 12, ax.top + ax.height + 2, 24, 12), Qt.AlignmentFlag.AlignCenter, label)

    def _clip(self, ax: Axis, a: datetime, b: datetime) -> tuple[float, float] | None:
        x0 = max(ax.left, ax.x(a.timestamp()))
        x1 = min(ax.left + ax.width, ax.x(b.timestamp()))
        return (x0, x1) if x1 > x0 else None

    def _paint_window(self, p: QPainter, ax: Axis) -> None:
        """The 5-hour window the server reports (the lower half, green): a band to its projected
        reset, marked with a dashed line and labelled inside the band."""
        if self.resets_at is None or self.resets_at <= self.now:
            return
        span = self._clip(ax, self.resets_at - WINDOW, self.resets_at)
        if span is None:
            return
        color = QColor(self.theme.levels[Level.OK])
        fill = QColor(color)
        fill.setAlpha(60)
        top, height = ax.top + ax.height * 0.55, ax.height * 0.45 - 1
        p.fillRect(QRectF(span[0], top, span[1] - span[0], height), fill)
        reset_x = ax.x(self.resets_at.timestamp())
        if ax.left <= reset_x <= ax.left + ax.width:
            p.setPen(QPen(color, 1.5, Qt.PenStyle.DashLine))
            p.drawLine(QPointF(reset_x, ax.top), QPointF(reset_x, ax.top + ax.height))
        clock = self.resets_at.astimezone(self.tz).strftime("%H:%M")
        for label in (f"resets {clock}", clock):  # inside the band, against its end, if it fits
            width = p.fontMetrics().horizontalAdvance(label) + 8
            if span[1] - span[0] >= width:
                p.setPen(color)
                box = QRectF(span[1] - width, top, width - 4, height - 10)
                p.drawText(box, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, label)
                break

    def bands(self) -> dict[str, tuple[datetime, datetime]]:
        """Each of today's anchors' window: from its instant, or for one still ahead from where the
        server's window lets it start (:func:`core.schedule.plan_from_reset`: an anchor inside the
        open window starts at its reset)."""
        out = {a.id: (at, at + WINDOW) for a, at in self.today()}
        for anchor, start, end in plan_from_reset(self.plan, self.resets_at, self.now, self.tz):
            out[anchor.id] = (start, end)
        return out

    def _paint_anchors(self, p: QPainter, ax: Axis) -> None:
        accent = QColor(self.theme.accent)
        bands = self.bands()
        for anchor, at in self.today():
            dragging = self._press is not None and self._press[1] == anchor.id and self._drag_x is not None
            cover = self._clip(ax, *bands.get(anchor.id, (at, at + WINDOW)))
            if cover is not None:
                fill = QColor(accent)
                fill.setAlpha(28 if dragging else 55)
                p.fillRect(QRectF(cover[0], ax.top + 1, cover[1] - cover[0], ax.height * 0.55 - 1), fill)
            x = ax.x(at.timestamp())
            selected = anchor.id == self.selected
            p.setPen(QPen(accent, 2.5 if selected else 1.8))
            p.drawLine(QPointF(x, ax.top - 2), QPointF(x, ax.top + ax.height))
            p.setBrush(accent)
            p.drawPolygon(
                QPolygonF([QPointF(x - 5, ax.top - 9), QPointF(x + 5, ax.top - 9), QPointF(x, ax.top - 2)])
            )
            p.setPen(QColor(self.theme.text))
            label = anchor.id + (" auto" if anchor.mode is AnchorMode.AUTO else "")
            p.drawText(QRectF(x - 40, 1, 80, 12), Qt.AlignmentFlag.AlignCenter, label)

    def _paint_attempts(self, p: QPainter, ax: Axis) -> None:
        y = ax.top + ax.height - 7
        for attempt in self.attempts:
            x = ax.x(attempt.at.timestamp())
            if not ax.left <= x <= ax.left + ax.width:
                continue
            if attempt.outcome is Outcome.VERIFIED:
                color = QColor(self.theme.levels[Level.OK])
            elif attempt.outcome in FAILED:
                color = QColor(self.theme.levels[Level.CRITICAL])
            else:
                color = QColor(self.theme.muted)
            p.setPen(QPen(QColor(self.theme.bg), 1))
            p.setBrush(color)
            p.drawEllipse(QPointF(x, y), 4, 4)

    def _paint_drag(self, p: QPainter, ax: Axis) -> None:
        x = self._drag_x if self._press is not None else None
        if x is None or self._press is None or abs(x - self._press[0]) < DRAG_PX:
            return
        at = self.time_at(x)
        snapped = datetime.combine(self.day, at, self.tz).astimezone(UTC)
        sx = ax.x(snapped.timestamp())
        accent = QColor(self.theme.accent)
        cover = self._clip(ax, snapped, snapped + WINDOW)
        if cover is not None:
            ghost = QColor(accent)
            ghost.setAlpha(60)
            p.fillRect(QRectF(cover[0], ax.top + 1, cover[1] - cover[0], ax.height * 0.55 - 1), ghost)
        p.setPen(QPen(accent, 1.5, Qt.PenStyle.DashLine))
        p.drawLine(QPointF(sx, ax.top - 2), QPointF(sx, ax.top + ax.height))
        p.setPen(QColor(self.theme.text))
        p.drawText(QRectF(sx - 40, 1, 80, 12), Qt.AlignmentFlag.AlignCenter, at.strftime("%H:%M"))

    def _paint_caption(self, p: QPainter) -> None:
        """The refusal, inline under the axis (the reason an edit did not stick)."""
        box = QRectF(LEFT, self.height() - 17, self.width() - LEFT - RIGHT, 16)
        if self.message:
            p.setPen(QColor(self.theme.levels[Level.CRITICAL]))
            text = p.fontMetrics().elidedText(self.message, Qt.TextElideMode.ElideRight, int(box.width()))
        elif not self.plan.anchors:
            p.setPen(QColor(self.theme.muted))
            text = "Drag on the day to plan a 5-hour window"
        else:
            return
        p.drawText(box, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)
