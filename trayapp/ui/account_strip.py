"""The popup's account strip: with several Claude Code logins, one compact card per account at the
top of the dashboard (label, 5-hour and weekly percentages in their level colours, when the 5-hour
window resets, "signed out" in red), the account shown highlighted, and below them the
headroom hint ("Personal has 62% weekly left"). A click on a card asks to show that account.

A view: it paints the :class:`~trayapp.core.account_views.Card` values it is given and emits the
choice; the accounts feature decides which account is shown. With one account it takes no room at
all (its content is hidden; the strip itself stays, so it comes back when an account is added).

Signals:
    account_selected(str): a card was clicked (or activated with Enter or Space); its label.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QFontMetrics, QKeyEvent, QMouseEvent, QResizeEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from trayapp.core import humanize
from trayapp.core.account_views import Card
from trayapp.core.models import Level
from trayapp.ui.theme import LIGHT, Theme, muted_style, text_style


def _width(text: str, px: int) -> int:
    """The width of ``text`` at ``px`` pixels (the cards' columns line up at these widths)."""
    font = QFont()
    font.setPixelSize(px)
    return QFontMetrics(font).horizontalAdvance(text) + 2


class _Elided(QLabel):
    """A label that ends a text too long for its width with "…" (a long account name)."""

    def __init__(self, text: str, object_name: str) -> None:
        super().__init__(text, objectName=object_name)
        self.full = text
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(40)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        elided = self.fontMetrics().elidedText(self.full, Qt.TextElideMode.ElideRight, self.width())
        if elided != self.text():
            self.setText(elided)


class AccountCard(QFrame):
    """One account's row; clickable."""

    clicked = Signal(str)

    def __init__(self, label: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("accountCard")
        self.label = label
        self.card: Card | None = None
        self.selected = False
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 5, 10, 5)
        row.setSpacing(8)
        self.name = _Elided(label, "accountName")
        self.five = QLabel("", objectName="accountFive")
        self.week = QLabel("", objectName="accountWeek")
        self.note = QLabel("", objectName="accountNote")
        # Fixed columns, so the percentages of every card line up under each other.
        self.five.setFixedWidth(_width("5h 100%", 12))
        self.week.setFixedWidth(_width("week 100%", 12))
        self.note.setFixedWidth(
            max(_width(t, 11) for t in ("resets in 4h59m", "no reading yet", "signed out"))
        )
        self.note.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        row.addWidget(self.name, 1)
        row.addWidget(self.five)
        row.addWidget(self.week)
        row.addWidget(self.note)

    def set_card(self, card: Card, selected: bool, theme: Theme) -> None:
        self.card, self.selected = card, selected
        self.five.setText(f"5h {humanize.format_percent(card.five_hour)}")
        self.week.setText(f"week {humanize.format_percent(card.weekly)}")
        self.note.setText(card.note if card.signed_out or card.note else card.reset)
        tip = [card.label, self.five.text(), self.week.text(), card.reset, card.note]
        self.setToolTip(
            " · ".join(t for t in tip if t) + ("" if selected else "\nClick to show this account")
        )
        self.set_theme(theme)

    def set_theme(self, t: Theme) -> None:
        card = self.card
        weight = "font-weight: 600;" if self.selected else ""
        self.name.setStyleSheet(text_style(t, f"font-size: 12px; {weight}"))
        if card is not None:
            for label, level in ((self.five, card.five_level), (self.week, card.weekly_level)):
                label.setStyleSheet(f"background: transparent; color: {t.levels[level]}; font-size: 12px;")
            if card.signed_out:  # red, as the icon's ring at the limit
                red = t.levels[Level.AT_LIMIT]
                self.note.setStyleSheet(
                    f"background: transparent; color: {red}; font-size: 11px; font-weight: 600;"
                )
            else:
                self.note.setStyleSheet(muted_style(t, "font-size: 11px;"))
        edge = t.accent if self.selected else "transparent"
        fill = t.surface if self.selected else "transparent"
        self.setStyleSheet(
            f"#accountCard {{ background: {fill}; border: 1px solid {edge}; border-radius: 6px; }}"
            f"#accountCard:hover {{ background: {t.surface}; }}"
            f"#accountCard:focus {{ border: 1px solid {t.muted}; }}"
        )

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.rect().contains(event.position().toPoint()):
            self.clicked.emit(self.label)
            return
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self.clicked.emit(self.label)
            return
        super().keyPressEvent(event)


class AccountStrip(QWidget):
    """The cards and the hint; placed at the top of the popup (``popup_slot``)."""

    account_selected = Signal(str)
    popup_slot = "top"  # Popup.add_panel puts it under the header, not below the timeline

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("accountStrip")
        self.theme: Theme = LIGHT
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        # Everything lives in ``content``: hidden with one account, the strip is 0 pixels high.
        self.content = QWidget(objectName="accountStripContent")
        box = QVBoxLayout(self.content)
        box.setContentsMargins(12, 0, 12, 8)
        box.setSpacing(3)
        self.card_box = QVBoxLayout()
        self.card_box.setSpacing(3)
        box.addLayout(self.card_box)
        self.hint = QLabel("", objectName="accountHint")
        self.hint.setWordWrap(True)
        self.hint.setContentsMargins(4, 2, 4, 0)
        self.hint.hide()
        box.addWidget(self.hint)
        outer.addWidget(self.content)
        self.content.hide()
        self.cards: dict[str, AccountCard] = {}
        self.selected: str | None = None

    def set_cards(self, cards: list[Card], selected: str, hint: str | None = None) -> bool:
        """Show ``cards`` in order with ``selected`` highlighted, and ``hint`` under them; with
        fewer than two cards, nothing. True when the strip's height may have changed (cards or
        the hint came or went: the popup fits itself again)."""
        before = self._shape()
        self.selected = selected
        if [c.label for c in cards] != list(self.cards):
            for old in self.cards.values():
                self.card_box.removeWidget(old)
                old.deleteLater()
            self.cards = {}
            for c in cards:
                widget = AccountCard(c.label)
                widget.clicked.connect(self.account_selected)
                self.card_box.addWidget(widget)
                self.cards[c.label] = widget
        for c in cards:
            self.cards[c.label].set_card(c, c.label == selected, self.theme)
        self.hint.setText(humanize.display_text(hint or ""))
        self.hint.setVisible(bool(hint))
        self.content.setVisible(len(cards) > 1)
        if before == self._shape():
            return False
        # The popup measures at once (not after Qt's queued relayout): let it see the new height.
        self.content.updateGeometry()
        self.updateGeometry()
        return True

    def _shape(self) -> tuple[int, str]:
        """What the strip's height depends on: the cards shown and the hint."""
        return (len(self.cards) if self.showing else 0), (self.hint.text() if self.showing else "")

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.hint.setStyleSheet(muted_style(theme, "font-size: 12px;"))
        for widget in self.cards.values():
            widget.set_theme(theme)

    @property
    def showing(self) -> bool:
        """Whether the strip takes room (several accounts)."""
        return not self.content.isHidden()
