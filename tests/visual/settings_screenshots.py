"""Render every page of the Settings dialog, light and dark, into ./screenshots/ for a person to
look at (``settings-<page>-<theme>.png``), plus the tray menu and a message box in each theme.

The dialog is built as the app builds it (the channels page merged into Notifications, a feature
page added with ``add_page``) on hermetic folders, with the app-wide theme of ``ui.theme``. Run
under the private desktop session for real fonts and window decorations
(``tests/integration/with-services.sh .venv/bin/python tests/visual/settings_screenshots.py``);
without a display it renders offscreen.

    python tests/visual/settings_screenshots.py [--out screenshots]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
os.environ.setdefault("CLAUDE_WATCH_HOME", tempfile.mkdtemp(prefix="cw-settings-shots-"))
if not os.environ.get("DISPLAY"):
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
elif os.environ.get("QT_QPA_PLATFORM", "offscreen") == "offscreen":
    os.environ["QT_QPA_PLATFORM"] = "xcb"

from PySide6.QtWidgets import QApplication, QLabel, QMessageBox, QVBoxLayout, QWidget  # noqa: E402

app = QApplication.instance() or QApplication(["claude-watch-screenshots"])
app.setApplicationName("Claude Watch")

import trayapp.ui  # noqa: E402,F401  (None-reference guard)


def pump(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)


def slug(title: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in title.lower()).replace("--", "-").strip("-")


def feature_page() -> QWidget:
    """A stand-in for a page a feature adds (the window scheduler's)."""
    page = QWidget()
    layout = QVBoxLayout(page)
    layout.addWidget(QLabel("A feature's own page, added with SettingsDialog.add_page."))
    layout.addStretch(1)
    return page


def shoot(out: Path, theme_name: str) -> list[Path]:
    from trayapp import settings as st
    from trayapp.services.channels_service import ChannelsService
    from trayapp.ui import theme
    from trayapp.ui.channels_page import make_page
    from trayapp.ui.settings_dialog import SettingsDialog
    from trayapp.ui.tray import Tray

    cfg = st.load()
    cfg.update(
        {
            "ui.theme": theme_name,
            "alerts.quiet_hours": "22:00-07:00",
            "tracking.price_overrides": ["claude-sonnet-4-5=3/15/3.75/6/0.3"],
            "telegram.enabled": True,
            "telegram.chat_id": "4242",
        }
    )
    theme.follow(cfg)
    dialog = SettingsDialog(cfg, set_autostart=None)
    dialog.add_page(make_page(ChannelsService(cfg), alone=False), "Alert channels")
    dialog.add_page(feature_page(), "Window schedule")
    dialog.show()
    saved = []
    for title in dialog.page_titles():
        dialog.show_page(title)
        pump(0.3)
        path = out / f"settings-{slug(title)}-{theme_name}.png"
        dialog.grab().save(str(path))
        saved.append(path)
    dialog.show_page("Tracking")
    dialog.set_editor_text("tracking.timezone", "Mars/Olympus")
    pump(0.2)
    path = out / f"settings-invalid-{theme_name}.png"
    dialog.grab().save(str(path))
    saved.append(path)
    dialog.close()
    tray = Tray()
    tray.menu.popup(tray.menu.pos())
    pump(0.3)
    path = out / f"tray-menu-{theme_name}.png"
    tray.menu.grab().save(str(path))
    saved.append(path)
    tray.menu.hide()
    box = QMessageBox(QMessageBox.Icon.Question, "Close Claude Watch?", "Keep Claude Watch running?")
    box.setInformativeText("It goes on watching your limits and sends alerts.")
    box.show()
    pump(0.3)
    path = out / f"message-box-{theme_name}.png"
    box.grab().save(str(path))
    saved.append(path)
    box.close()
    theme.reset_app()
    return saved


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(REPO / "screenshots"))
    parser.add_argument("--theme", choices=("light", "dark"), action="append")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    saved = [p for name in args.theme or ("light", "dark") for p in shoot(out, name)]
    for p in saved:
        print(p)
    print(f"{len(saved)} screenshots in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
