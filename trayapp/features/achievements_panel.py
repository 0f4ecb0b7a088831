"""The popup's "Achievements" section and the badges, painted at run time.

:func:`badge_pixmap` paints one badge with QPainter in the tray icon's colours
(:data:`trayapp.core.palette.ICON`): an earned badge is a disc in its level colour with its glyph;
a locked one is the dark disc with a progress arc in that colour and a muted glyph. The panel shows
every badge (the tooltip says what it is for, when it was earned or how far along it is), the count
and the nearest one still to earn. A view: it renders standings and emits nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from trayapp.core import achievements as ach
from trayapp.core.models import Level
from trayapp.core.palette import ICON
from trayapp.ui.theme import Theme, muted_style, text_style

COLUMNS = 8
SIZE = 26


def badge_pixmap(
    rule: ach.Rule, standing: ach.Standing | None, size: int = SIZE, dpr: float = 1.0
) -> QPixmap:
    """The badge of ``rule``: coloured when earned, else its progress as an arc."""
    px = QPixmap(round(size * dpr), round(size * dpr))
    px.setDevicePixelRatio(dpr)
    px.fill(Qt.GlobalColor.transparent)
    colour = QColor(ICON.levels[Level(rule.colour)])
    earned = standing is not None and standing.earned
    p = QPainter(px)
    try:
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        box = QRectF(1.5, 1.5, size - 3, size - 3)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(colour if earned else QColor(ICON.disc))
        p.drawEllipse(box)
        if not earned:
            pen = QPen(QColor(ICON.track), 2.5)
            p.setPen(pen)
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawEllipse(box)
            progress = standing.progress if standing is not None else 0.0
            if progress > 0:
                pen.setColor(colour)
                p.setPen(pen)
                p.drawArc(box, 90 * 16, -round(360 * 16 * min(1.0, progress)))
        font = QFont()
        font.setPixelSize(round(size * 0.5))
        font.setBold(True)
        p.setFont(font)
        p.setPen(QColor(ICON.text if earned else ICON.levels[Level.STALE]))
        p.drawText(box, Qt.AlignmentFlag.AlignCenter, rule.glyph)
    finally:
        p.end()
    return px


def badge_tooltip(rule: ach.Rule, standing: ach.Standing | None, tz: tzinfo | None = None) -> str:
    lines = [rule.name, rule.description]
    if standing is not None and standing.earned_at is not None:
        lines.append(f"Earned {standing.earned_at.astimezone(tz):%d %b %Y}")
    elif standing is not None:
        lines.append(f"{standing.progress:.0%} there" + (f" ({standing.note})" if standing.note else ""))
    return "\n".join(lines)


def next_up(standings: Sequence[ach.Standing]) -> ach.Standing | None:
    """The locked achievement closest to being earned."""
    locked = [s for s in standings if not s.earned and s.progress > 0]
    return max(locked, key=lambda s: s.progress) if locked else None


class AchievementsPanel(QWidget):
    def __init__(self, tz: tzinfo | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("achievements-panel")
        self.tz = tz
        self._theme: Theme | None = None
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 2, 0, 2)
        self.title = QLabel("Achievements")
        self.title.setObjectName("achievements-title")
        box.addWidget(self.title)
        self.grid = QGridLayout()
        self.grid.setSpacing(4)
        box.addLayout(self.grid)
        self.badges: dict[str, QLabel] = {}
        for i, rule in enumerate(ach.RULES):
            label = QLabel()
            label.setObjectName(f"badge-{rule.id}")
            self.badges[rule.id] = label
            self.grid.addWidget(label, i // COLUMNS, i % COLUMNS)
        self.hint = QLabel("")
        self.hint.setObjectName("achievements-next")
        self.hint.setWordWrap(True)
        box.addWidget(self.hint)
        self.set_standings([])

    def set_standings(self, standings: Sequence[ach.Standing]) -> None:
        by_id = {s.rule_id: s for s in standings}
        dpr = self.devicePixelRatioF()
        for rule in ach.RULES:
            label = self.badges[rule.id]
            label.setPixmap(badge_pixmap(rule, by_id.get(rule.id), SIZE, dpr))
            label.setToolTip(badge_tooltip(rule, by_id.get(rule.id), self.tz))
        earned = sum(1 for s in standings if s.earned)
        self.title.setText(f"Achievements  {earned}/{len(ach.RULES)}")
        up = next_up(standings)
        self.hint.setText(
            f"Next: {ach.BY_ID[up.rule_id].name} ({up.progress:.0%}{', ' + up.note if up.note else ''})"
            if up is not None
            else ""
        )
        self.hint.setVisible(up is not None)

    def set_theme(self, theme: Theme) -> None:
        self._theme = theme
        self.title.setStyleSheet(text_style(theme, "font-weight: 600;"))
        self.hint.setStyleSheet(muted_style(theme, "font-size: 11px;"))
