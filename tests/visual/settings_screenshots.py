"""Render every page of the Settings dialog, light and dark, into ./screenshots/ for a person to
look at (``settings-<page>-<theme>.png``), plus the tray menu and a message box in each theme.

The dialog is the app's own (a built, not started, app on hermetic folders: the channels page
merged into Notifications, the pages features add), in the app-wide theme of ``ui.theme``. Run
under the private desktop session for real fonts and window decorations
(``tests/integration/with-services.sh .venv/bin/python tests/visual/settings_screenshots.py``);
without a display it renders offscreen.

    python tests/visual/settings_screenshots.py [--out screenshots]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from PySide6.QtWidgets import QMessageBox

# The same hermetic folders, display choice, QApplication and event pump as the other pictures.
from tests.visual.make_screenshots import REPO, app, pump


def slug(title: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in title.lower()).replace("--", "-").strip("-")


def shoot(out: Path, theme_name: str) -> list[Path]:
    from trayapp.app import ClaudeWatch
    from trayapp.ui import theme

    cw = ClaudeWatch(app, demo=False, self_test=True)  # built, not started: nothing polls
    cw.settings.update(
        {
            "ui.theme": theme_name,
            "alerts.quiet_hours": "22:00-07:00",
            "tracking.price_overrides": ["claude-sonnet-4-5=3/15/3.75/6/0.3"],
            "telegram.enabled": True,
            "telegram.chat_id": "4242",
        }
    )
    cw.build()  # the theme follows ui.theme from here (a feature), and features add their pages
    cw.open_settings()  # the dialog as the app builds it: channels merged, feature pages added
    dialog = cw.settings_dialog
    assert dialog is not None
    saved = []
    for title in dialog.page_titles():
        dialog.show_page(title)
        pump(0.3)
        path = out / f"settings-{slug(title)}-{theme_name}.png"
        dialog.grab().save(str(path))
        saved.append(path)
        scroll = dialog.stack.currentWidget()
        content = scroll.widget()
        if content.height() > scroll.viewport().height():  # the whole page, as it scrolls
            path = out / f"settings-{slug(title)}-{theme_name}-full.png"
            content.grab().save(str(path))
            saved.append(path)
    dialog.show_page("Tracking")
    dialog.set_editor_text("tracking.timezone", "Mars/Olympus")
    pump(0.2)
    path = out / f"settings-invalid-{theme_name}.png"
    dialog.grab().save(str(path))
    saved.append(path)
    dialog.close()
    tray = cw.tray
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
    tray.hide()
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
