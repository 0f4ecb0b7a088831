"""The popup's widgets and their look: :func:`build` lays out the header, banner, scrolling body
(gauges, timeline with its range switch, panels) and footer of a :class:`~trayapp.ui.popup.Popup`;
:func:`apply_look` styles them from its theme. The popup keeps the behaviour (state, placement,
focus, ticking); this module only makes and paints widgets.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLayout,
    QPushButton,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from trayapp.core import humanize
from trayapp.core.models import AccountState, Level, Source
from trayapp.ui.theme import Theme, muted_style, text_style
from trayapp.ui.timeline import Timeline

if TYPE_CHECKING:
    from trayapp.ui.popup import Popup

WIDTH = 380
THROTTLED = "refresh is allowed in"  # in the engine's notice for a Refresh too soon after the last
SOURCE_WORDS = {
    Source.API: "usage API",
    Source.STATUSLINE: "Claude Code status line",
    Source.AGENT: "agent",
    Source.DEMO: "demo data",
}


def footer_text(age_seconds: float | None, source: Source | None) -> str:
    """``updated 2 min ago · via usage API``: the reading's age and where it came from."""
    text = humanize.format_age(age_seconds)
    if source is not None:
        text += f" · via {SOURCE_WORDS.get(source, str(source))}"
    return text


def rule(theme: Theme) -> QFrame:
    """A one-pixel separator in the theme's border colour."""
    line = QFrame(objectName="rule")
    line.setFixedHeight(1)
    line.setStyleSheet(f"background: {theme.border}; border: none;")
    return line


def build(popup: Popup) -> None:
    """Create the popup's widgets (the attributes :class:`Popup` declares) and lay them out."""
    root = QVBoxLayout(popup)
    root.setContentsMargins(1, 1, 1, 1)
    root.setSpacing(0)
    # :func:`fit` sizes the popup from the rows' heights at its width; the layout's own minimum
    # (a wrapped banner's minimum is several lines at a minimum width) must not override that.
    root.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)
    header = QWidget(objectName="header")
    hl = QHBoxLayout(header)
    hl.setContentsMargins(16, 12, 10, 8)
    titles = QVBoxLayout()
    titles.setSpacing(1)
    popup.title = QLabel("Claude Watch", objectName="title")
    popup.account = QLabel("", objectName="account")
    titles.addWidget(popup.title)
    titles.addWidget(popup.account)
    hl.addLayout(titles, 1)
    popup.refresh_button = QToolButton(objectName="refresh", text="⟳")
    popup.refresh_button.setToolTip("Refresh now")
    popup.refresh_button.clicked.connect(popup.request_refresh)
    popup.settings_button = QToolButton(objectName="settings", text="⚙")
    popup.settings_button.setToolTip("Settings…")
    popup.settings_button.clicked.connect(popup.settings_requested)
    for b in (popup.refresh_button, popup.settings_button):
        b.setAutoRaise(True)
        b.setFixedSize(30, 30)
        b.setCursor(Qt.CursorShape.PointingHandCursor)
        hl.addWidget(b, 0, Qt.AlignmentFlag.AlignTop)
    root.addWidget(header)
    popup.top_box = QVBoxLayout()  # panels that sit under the header (the account strip)
    popup.top_box.setContentsMargins(0, 0, 0, 0)
    popup.top_box.setSpacing(0)
    root.addLayout(popup.top_box)
    popup.banner = QLabel("", objectName="banner")
    popup.banner.setWordWrap(True)
    popup.banner.setContentsMargins(14, 8, 14, 8)
    popup.banner.hide()
    banner_wrap = QHBoxLayout()
    banner_wrap.setContentsMargins(12, 0, 12, 8)
    banner_wrap.addWidget(popup.banner)
    root.addLayout(banner_wrap)
    # Everything between the header and the footer scrolls as one body when the popup would
    # outgrow the screen (five gauges, the timeline and the panels do not fit in 800 pixels).
    popup.body = QWidget(objectName="body")
    body = QVBoxLayout(popup.body)
    body.setContentsMargins(0, 0, 0, 0)
    body.setSpacing(0)
    popup.placeholder = QLabel("Waiting for the first reading…", objectName="placeholder")
    popup.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
    popup.placeholder.setMinimumHeight(60)
    body.addWidget(popup.placeholder)
    popup.gauge_box = QVBoxLayout()
    popup.gauge_box.setSpacing(6)
    popup.gauge_box.setContentsMargins(0, 0, 0, 6)
    body.addLayout(popup.gauge_box)
    body.addWidget(rule(popup.theme))
    hist = QHBoxLayout()
    hist.setContentsMargins(16, 8, 12, 0)
    popup.section_label = QLabel("History", objectName="section")
    hist.addWidget(popup.section_label, 1)
    popup.range_group = QButtonGroup(popup)
    popup.range_buttons = {}
    for key, text in (("24h", "24 h"), ("7d", "7 d")):
        b = QPushButton(text, objectName=f"range-{key}")
        b.setCheckable(True)
        b.setCursor(Qt.CursorShape.PointingHandCursor)
        b.setFixedHeight(22)
        popup.range_group.addButton(b)
        popup.range_buttons[key] = b
        b.clicked.connect(lambda _=False, k=key: popup.set_range(k, emit=True))
        hist.addWidget(b)
    popup.range_buttons["24h"].setChecked(True)
    body.addLayout(hist)
    popup.timeline = Timeline()
    tl = QHBoxLayout()
    tl.setContentsMargins(6, 4, 10, 4)
    tl.addWidget(popup.timeline)
    body.addLayout(tl)
    # Panels (live sessions, local usage) below the timeline.
    popup.panel_box = QVBoxLayout()
    popup.panel_box.setContentsMargins(0, 0, 0, 0)
    popup.panel_box.setSpacing(0)
    body.addLayout(popup.panel_box)
    popup.body_scroll = QScrollArea(objectName="bodyScroll")
    popup.body_scroll.setWidget(popup.body)
    popup.body_scroll.setWidgetResizable(True)
    popup.body_scroll.setFrameShape(QFrame.Shape.NoFrame)
    popup.body_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    popup.body_scroll.viewport().setObjectName("bodyViewport")
    popup.body_scroll.setStyleSheet(
        "QScrollArea, #bodyViewport, #body { background: transparent; border: none; }"
    )
    popup.body_scroll.viewport().setAutoFillBackground(False)
    root.addWidget(popup.body_scroll)
    root.addWidget(rule(popup.theme))
    popup.footer = QLabel("", objectName="footer")
    popup.footer.setContentsMargins(16, 7, 16, 9)
    root.addWidget(popup.footer)
    popup.setFixedWidth(WIDTH)


def add_panel(popup: Popup, widget: QWidget) -> None:
    """Add a panel: under the header when its ``popup_slot`` is "top", else below the timeline
    after a rule. Shown explicitly: a widget added to a popup that is already open would stay
    hidden."""
    if getattr(widget, "popup_slot", "") == "top":
        popup.top_box.addWidget(widget)
    else:
        line = rule(popup.theme)
        popup.panel_box.addWidget(line)
        popup.panel_box.addWidget(widget)
        line.show()
    popup._panels.append(widget)
    popup._theme_panel(widget)
    widget.show()


def body_height(popup: Popup) -> int:
    """The scrolling body's natural height at the popup's width (wrapped lines included)."""
    layout = popup.body.layout()
    if layout is None:
        return popup.body.sizeHint().height()
    layout.invalidate()  # rows added or rewrapped while showing: the cached hints are stale
    if layout.hasHeightForWidth():
        return layout.totalHeightForWidth(WIDTH - 2)  # inside the popup's 1-pixel border
    return popup.body.sizeHint().height()


def invalidate(layout: QLayout) -> None:
    """Drop ``layout``'s cached size hints and its nested layouts' (Qt does that only when it
    relays out, after the event loop turns; the popup measures at once)."""
    layout.invalidate()
    for i in range(layout.count()):
        item = layout.itemAt(i)
        child = item.layout() if item is not None else None
        if child is not None:
            invalidate(child)


def needed_height(popup: Popup) -> int:
    """The whole popup's height at its width: header, banner (wrapped), body, rule and footer."""
    layout = popup.layout()
    if layout is None:
        return QWidget.sizeHint(popup).height()
    invalidate(layout)  # a fixed height set just now, a panel shown or hidden: not in the cached hints yet
    if layout.hasHeightForWidth():
        return layout.totalHeightForWidth(WIDTH)
    return layout.totalSizeHint().height()


def fit(popup: Popup, max_height: int | None, min_body: int) -> None:
    """Size the body to its content, or less (down to ``min_body``, then it scrolls) so the popup
    stays within ``max_height``; then resize the popup to exactly what its rows need."""
    popup.ensurePolished()  # style sheets change sizes: measure as they will be shown
    natural = body_height(popup)
    popup.body_scroll.setFixedHeight(natural)
    if max_height is not None:
        overflow = needed_height(popup) - max_height
        if overflow > 0:
            popup.body_scroll.setFixedHeight(max(min_body, natural - overflow))
    height = needed_height(popup)
    popup.setMinimumHeight(height)  # a window (no tray) cannot be shrunk over its rows either
    popup.resize(WIDTH, height)


def apply_look(popup: Popup) -> None:
    """Style every widget from ``popup.theme``. Each widget gets its own style sheet: a theme switch
    through one parent sheet does not reliably restyle children that another popup's identical
    sheet already polished."""
    t = popup.theme
    popup.title.setStyleSheet(text_style(t, "font-size: 15px; font-weight: 600;"))
    for label in (popup.account, popup.footer, popup.placeholder):
        label.setStyleSheet(muted_style(t, "font-size: 12px;"))
    popup.section_label.setStyleSheet(muted_style(t, "font-size: 11px; font-weight: 600;"))
    for line in popup.findChildren(QFrame, "rule"):
        line.setStyleSheet(f"background: {t.border}; border: none;")
    # The ☰ menu button exists only as a window without a tray (ui/window_mode.py).
    for button in (
        popup.refresh_button,
        popup.settings_button,
        *popup.findChildren(QToolButton, "windowMenu"),
    ):
        button.setStyleSheet(
            f"QToolButton {{ color: {t.muted}; font-size: 17px; border: none; border-radius: 6px; }}"
            f"QToolButton:hover {{ background: {t.surface}; color: {t.text}; }}"
            "QToolButton::menu-indicator { image: none; }"
        )
    for key, range_button in popup.range_buttons.items():
        corners = (
            "border-top-left-radius: 5px; border-bottom-left-radius: 5px;"
            if key == "24h"
            else "border-top-right-radius: 5px; border-bottom-right-radius: 5px; border-left: none;"
        )
        range_button.setStyleSheet(
            f"QPushButton {{ color: {t.muted}; background: transparent; border: 1px solid {t.border};"
            f" padding: 0 10px; font-size: 11px; {corners} }}"
            f"QPushButton:checked {{ background: {t.surface}; color: {t.text}; font-weight: 600; }}"
        )
    # A slim scroll bar in the theme's colours for the body (shown only on small screens).
    popup.body_scroll.verticalScrollBar().setStyleSheet(
        f"QScrollBar:vertical {{ background: transparent; width: 8px; margin: 2px 2px 2px 0; }}"
        f"QScrollBar::handle:vertical {{ background: {t.border}; border-radius: 3px; min-height: 30px; }}"
        f"QScrollBar::handle:vertical:hover {{ background: {t.muted}; }}"
        "QScrollBar::add-line:vertical, QScrollBar::sub-line:vertical { height: 0; }"
        "QScrollBar::add-page:vertical, QScrollBar::sub-page:vertical { background: none; }"
    )
    style_banner(popup)
    for panel in popup._panels:
        popup._theme_panel(panel)
    for row in popup._gauges.values():
        row.set_theme(t)
    if popup._extra is not None:
        popup._extra.set_theme(t)
    popup.timeline.set_theme(t)


def update_texts(popup: Popup, state: AccountState, now: datetime) -> None:
    """The account line, the banner (an error or staleness first, else the first notice) and the
    footer for ``state``."""
    acct = state.account
    bits = [b for b in ((acct.plan if acct else None), (acct.email if acct else None)) if b]
    popup.account.setText(" · ".join(bits) if bits else "Claude account")
    banner = humanize.banner_text(state, now)
    # A throttled Refresh says when the next one is allowed: that answers the click, so it comes first.
    notices = sorted((n for n in state.notices if n), key=lambda n: THROTTLED not in n)
    if not banner and notices:
        banner = notices[0]
    popup.banner.setText(humanize.display_text(banner))
    popup.banner.setVisible(bool(banner))
    popup._banner_error = state.level is Level.ERROR or state.error is not None
    style_banner(popup)
    source = state.snapshot.source if state.snapshot is not None else None
    if not popup.refreshing:
        popup.footer.setText(footer_text(state.age_seconds, source))


def style_banner(popup: Popup) -> None:
    """The banner in the error colours when the latest attempt failed, else the notice colours."""
    t = popup.theme
    bg, fg = (t.error_bg, t.error_text) if popup._banner_error else (t.banner_bg, t.banner_text)
    popup.banner.setStyleSheet(f"background: {bg}; color: {fg}; border-radius: 6px; font-size: 12px;")
