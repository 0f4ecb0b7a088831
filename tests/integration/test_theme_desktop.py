"""``ui.theme`` on the real desktop (Xvfb + trayer): the tray menu the app draws is dark when the
setting says dark, and light again after `claude-watch config set ui.theme light` while the app
runs, read back from the screen's pixels."""

from __future__ import annotations

import subprocess
import time
from collections import Counter
from pathlib import Path

from tests.helpers.app_process import app_env, config_set, start_app, stop_app, wait_for
from tests.integration.conftest import DesktopSession
from tests.integration.test_tray_embed import tray_icon
from trayapp.ui.theme import DARK, LIGHT


def log_text(home: Path) -> str:
    path = home / "logs" / "claude-watch.log"
    return path.read_text() if path.exists() else ""


def menu_colour(tmp_path: Path, x: int, y: int) -> str:
    """Open the tray menu with a right click at (x, y) and return the commonest colour of the
    area below and right of the cursor, where the menu opens (its background)."""
    from PySide6.QtGui import QImage

    subprocess.run(["xdotool", "mousemove", str(x), str(y), "click", "3"], check=True)
    time.sleep(0.8)
    subprocess.run(["xdotool", "mousemove", str(x - 20), str(y - 20)], check=True)  # no hovered item
    time.sleep(0.3)
    shot = tmp_path / "menu.png"
    subprocess.run(["import", "-window", "root", "-crop", f"120x80+{x + 10}+{y + 10}", str(shot)], check=True)
    image = QImage(str(shot))
    counts = Counter(
        image.pixelColor(i, j).name() for i in range(image.width()) for j in range(image.height())
    )
    subprocess.run(["xdotool", "key", "Escape"], check=True)  # close the menu
    time.sleep(0.3)
    return counts.most_common(1)[0][0]


def test_the_tray_menu_follows_ui_theme_live(
    desktop_services: DesktopSession, hermetic_env: Path, tmp_path: Path, qapp
) -> None:
    config_set("ui.theme", "dark")
    app = start_app(env=app_env())
    try:
        icon = wait_for(tray_icon, timeout=20)
        assert icon, log_text(hermetic_env)
        _wid, w, h, x, y = icon
        cx, cy = x + w // 2, y + h // 2
        assert menu_colour(tmp_path, cx, cy) == DARK.bg
        config_set("ui.theme", "light")
        assert wait_for(lambda: "theme: light" in log_text(hermetic_env), timeout=5), log_text(hermetic_env)
        assert menu_colour(tmp_path, cx, cy) == LIGHT.bg
    finally:
        stop_app(app)
