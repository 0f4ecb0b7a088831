"""The popup sections of the login and achievements features: the login line and its "Open sign-in"
button, the badges painted in the palette's colours with their tooltips, the count and the next one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from PySide6.QtGui import QColor

from trayapp.core import achievements as ach
from trayapp.core import login_freshness as lf
from trayapp.core.models import Level
from trayapp.core.palette import ICON
from trayapp.features.achievements_panel import AchievementsPanel, badge_pixmap, next_up
from trayapp.features.login_panel import LoginPanel
from trayapp.ui.theme import resolve

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def test_login_line_and_the_sign_in_button(qtbot) -> None:
    panel = LoginPanel()
    qtbot.addWidget(panel)
    panel.set_theme(resolve("dark"))
    pressed: list[bool] = []
    panel.sign_in_requested.connect(lambda: pressed.append(True))
    panel.set_status(lf.LoginStatus("default", True, NOW + timedelta(days=12, hours=2), NOW))
    assert panel.label.text().startswith("Login renews in 12 days (run “claude auth login” before ")
    assert panel.button.isHidden()
    panel.set_status(lf.LoginStatus("default", True, NOW + timedelta(days=6), NOW))
    assert not panel.button.isHidden()
    panel.set_status(lf.LoginStatus("default", False, None, NOW))
    assert panel.label.text() == "Signed out: run “claude auth login”"
    panel.button.click()
    assert pressed == [True]


def centre(px) -> QColor:
    img = px.toImage()
    return img.pixelColor(img.width() // 2, 3)  # on the disc, above the glyph


def test_badges_are_painted_in_the_palette_colours(qtbot) -> None:
    rule = ach.BY_ID["surfer"]
    earned = badge_pixmap(rule, ach.Standing("surfer", NOW, 1.0), 26, 1.0)
    locked = badge_pixmap(rule, ach.Standing("surfer", None, 0.0), 26, 1.0)
    assert centre(earned).name() == QColor(ICON.levels[Level.WARNING]).name()
    assert centre(locked).name() != QColor(ICON.levels[Level.WARNING]).name()


def test_the_panel_counts_badges_and_names_the_next(qtbot) -> None:
    panel = AchievementsPanel(UTC)
    qtbot.addWidget(panel)
    panel.set_theme(resolve("light"))
    standings = [ach.Standing(r.id, None, 0.0) for r in ach.RULES]
    standings[0] = ach.Standing("watcher", NOW - timedelta(days=3), 1.0)
    standings[1] = ach.Standing("surfer", None, 0.93, "best week: 84%")
    panel.set_standings(standings)
    assert panel.title.text() == f"Achievements  1/{len(ach.RULES)}"
    assert panel.hint.text() == "Next: Surfer (93%, best week: 84%)"
    assert "Earned 30 Nov 2026" in panel.badges["watcher"].toolTip()
    assert "93% there (best week: 84%)" in panel.badges["surfer"].toolTip()
    assert next_up([]) is None
