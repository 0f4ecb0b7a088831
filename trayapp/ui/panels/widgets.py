"""Small widgets the popup's panels share: a label that elides instead of widening the popup,
and the thin context-window fill bar of a session row."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QLabel, QWidget

from trayapp.core.models import level_for
from trayapp.ui.theme import LIGHT, Theme


class ElidedLabel(QLabel):
    """A one-line label that elides its text to its width instead of widening the popup."""

    def minimumSizeHint(self) -> QSize:
        return QSize(24, super().minimumSizeHint().height())

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        return QSize(min(hint.width(), 160), hint.height())

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        rect = self.contentsRect()
        text = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, rect.width())
        self.style().drawItemText(
            p, rect, int(self.alignment()), self.palette(), self.isEnabled(), text, self.foregroundRole()
        )
        p.end()


class ContextBar(QWidget):
    """A thin bar showing the context-window fill, coloured by level."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.percent: float | None = None
        self.theme = LIGHT  # until the popup hands over its own (set_theme)
        self.setFixedHeight(4)

    def set_percent(self, percent: float | None) -> None:
        self.percent = percent
        self.update()

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.update()

    def colour(self) -> QColor:
        return QColor(self.theme.levels[level_for(self.percent or 0)])

    def sizeHint(self) -> QSize:
        return QSize(120, 4)

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(self.theme.track))
        p.drawRoundedRect(self.rect(), 2, 2)
        if self.percent:
            filled = self.rect()
            filled.setWidth(max(2, int(self.width() * min(self.percent, 100) / 100)))
            p.setBrush(self.colour())
            p.drawRoundedRect(filled, 2, 2)
        p.end()
