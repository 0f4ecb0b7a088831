"""Render Claude Watch's tray, menu, popup and timeline into ./screenshots/ for a person to look at.

Run under the private desktop session (``make screenshots`` wraps it in
``tests/integration/with-services.sh``): the tray icon is embedded in trayer on Xvfb and captured
from the screen with ImageMagick's ``import``; the popup (light and dark; healthy, warning, stale,
error) and the timeline are rendered from made-up states and 8 days of synthetic history, so the
pictures never depend on a Claude login or the network. Without a display, the popups and the
timeline are still rendered offscreen and the tray pictures are skipped.

    python tests/visual/make_screenshots.py [--out screenshots]
"""

from __future__ import annotations

import argparse
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
os.environ.setdefault("CLAUDE_WATCH_HOME", tempfile.mkdtemp(prefix="cw-shots-"))
if not os.environ.get("DISPLAY"):
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
elif not os.environ.get("QT_QPA_PLATFORM") or os.environ["QT_QPA_PLATFORM"] == "offscreen":
    os.environ["QT_QPA_PLATFORM"] = "xcb"

from PySide6.QtCore import QPoint, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

app = QApplication.instance() or QApplication(["claude-watch-screenshots"])
app.setApplicationName("Claude Watch")

import trayapp.ui  # noqa: E402,F401  (None-reference guard)
from tests.helpers.states import account_state, error, window_state  # noqa: E402
from trayapp.core.clock import FakeClock  # noqa: E402
from trayapp.core.models import ErrorKind, ExtraUsage  # noqa: E402
from trayapp.ui.popup import Popup  # noqa: E402
from trayapp.ui.timeline import Timeline  # noqa: E402
from trayapp.ui.tray import Tray  # noqa: E402

NOW = datetime.now(UTC).replace(second=0, microsecond=0)


def pump(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)


def history(
    since: datetime, peak: float = 1.0, targets: tuple[float, float] | None = None
) -> list[tuple[datetime, str, float, datetime | None]]:
    """Eight days of plausible 5-minute samples: workday bursts, 5-hour resets, a weekly climb.

    ``targets`` (5-hour %, weekly %) rescales each window's current instance so the lines end
    where the popup's gauges say they are.
    """
    rng = random.Random(7)
    rows: list[tuple[datetime, str, float, datetime | None]] = []
    t = NOW - timedelta(days=8)
    five = 0.0
    five_reset: datetime | None = None
    week_reset = NOW + timedelta(days=2, hours=7)
    week = 0.0
    while t <= NOW:
        hour = t.astimezone().hour
        active = 9 <= hour <= 19 and t.astimezone().weekday() < 6
        if five_reset is not None and t >= five_reset:
            five, five_reset = 0.0, None
        if active and rng.random() < 0.55:
            if five_reset is None:
                five_reset = t + timedelta(hours=5)
            burst = rng.uniform(0.4, 2.6) * peak * (1.0 + 0.6 * math.sin(t.timestamp() / 5000))
            five = min(100.0, five + burst)
            week = min(100.0, week + burst * 0.09)
        if (
            t >= week_reset - timedelta(days=7)
            and week > 0
            and t - timedelta(minutes=5) < week_reset - timedelta(days=7)
        ):
            week = 0.0
        rows.append((t, "five_hour", five, five_reset or t + timedelta(hours=5)))
        rows.append((t, "seven_day", week, week_reset))
        t += timedelta(minutes=5)
    if targets is not None:
        for wid, target in zip(("five_hour", "seven_day"), targets, strict=True):
            mine = [r for r in rows if r[1] == wid]
            last = mine[-1]
            factor = target / last[2] if last[2] else 1.0
            rows = [
                (r[0], r[1], min(100.0, r[2] * factor), r[3]) if r[1] == wid and r[3] == last[3] else r
                for r in rows
            ]
    return [r for r in rows if r[0] >= since]


def states() -> dict[str, object]:
    extra = ExtraUsage(True, 5000, 1234, 24.68, "USD")
    healthy = account_state(
        window_state("five_hour", 34.0, timedelta(hours=2, minutes=48), NOW, rate=6.5),
        window_state("seven_day", 41.0, timedelta(days=2, hours=7), NOW, rate=0.35),
        window_state(
            "seven_day_opus", 12.0, timedelta(days=2, hours=7), NOW, rate=0.1, label="Weekly · Fable 5"
        ),
        now=NOW,
        extra=extra,
        age=95,
    )
    warning = account_state(
        window_state("five_hour", 81.0, timedelta(hours=1, minutes=35), NOW, rate=19.0),
        window_state("seven_day", 77.0, timedelta(days=1, hours=2), NOW, rate=0.9),
        now=NOW,
        extra=extra,
        age=40,
    )
    stale = account_state(
        window_state("five_hour", 58.0, timedelta(hours=1, minutes=10), NOW, rate=9.0),
        window_state("seven_day", 44.0, timedelta(days=2, hours=7), NOW, rate=0.3),
        now=NOW,
        stale=True,
        age=3 * 3600 + 600,
    )
    failed = account_state(
        window_state("five_hour", 58.0, timedelta(hours=1, minutes=10), NOW),
        window_state("seven_day", 44.0, timedelta(days=2, hours=7), NOW),
        now=NOW,
        error=error(ErrorKind.AUTH, "401"),
        age=5400,
    )
    return {"healthy": healthy, "warning": warning, "stale": stale, "error": failed}


def settings_getter(theme: str, range_key: str = "24h"):
    values = {
        "ui.theme": theme,
        "ui.timeline_range": range_key,
        "alerts.five_hour_thresholds": [50, 75, 90, 100],
        "alerts.weekly_thresholds": [50, 75, 90, 100],
    }
    return values.__getitem__


def shoot_popups(out: Path) -> list[Path]:
    saved = []
    for theme in ("light", "dark"):
        for name, state in states().items():
            popup = Popup(FakeClock(NOW))
            popup.apply_settings(settings_getter(theme))
            peak = 1.6 if name == "warning" else 1.0
            ws = state.windows
            targets = (ws[0].window.utilization, ws[1].window.utilization)
            popup.set_history_loader(lambda since, p=peak, t=targets: history(since, p, t))
            popup.set_state(state)
            popup.show_at(None)
            pump(0.3)
            path = out / f"popup-{theme}-{name}.png"
            popup.grab().save(str(path))
            saved.append(path)
            popup.hide()
            popup.deleteLater()
    return saved


def shoot_timeline(out: Path) -> list[Path]:
    saved = []
    state = states()["healthy"]
    for theme in ("light", "dark"):
        for range_key in ("24h", "7d"):
            tl = Timeline()
            from trayapp.ui.theme import DARK, LIGHT

            tl.set_theme(DARK if theme == "dark" else LIGHT)
            tl.resize(640, 240)
            rows = history(NOW - timedelta(days=8), 1.0, (34.0, 41.0))
            tl.set_data(rows, state, NOW, range_key)
            if range_key == "24h":
                tl._hover_x = tl._axis().x((NOW - timedelta(hours=5)).timestamp())
            path = out / f"timeline-{theme}-{range_key}.png"
            tl.grab().save(str(path))
            saved.append(path)
    return saved


def shoot_settings(out: Path) -> list[Path]:
    from trayapp import settings as st
    from trayapp.ui.settings_dialog import SettingsDialog

    dialog = SettingsDialog(st.load(), set_autostart=None)  # every page: settings_screenshots.py
    dialog.show_page("Tracking")
    dialog.set_editor_text("tracking.timezone", "Mars/Olympus")  # the red hint under the field
    dialog.show()
    pump(0.3)
    path = out / "settings-validation.png"
    dialog.grab().save(str(path))
    dialog.close()
    return [path]


def sample_sessions(count: int) -> list[object]:
    """``count`` made-up sessions in the service's order: needs-you first, then the rest."""
    from trayapp.core.sessions import Session, SessionState

    first = [
        Session(
            "s-needs",
            SessionState.NEEDS_YOU,
            "webapp",
            "/home/ada/src/webapp",
            4242,
            None,
            "Opus 4.8",
            NOW - timedelta(hours=1, minutes=5),
            NOW - timedelta(minutes=3),
            NOW - timedelta(minutes=3),
            71.5,
            3.42,
            needs_you_reason="Allow Bash: rm -rf build/ dist/ && npm run build -- --production --verbose",
        ),
        Session(
            "s-work",
            SessionState.WORKING,
            "claude-watch-with-a-very-long-project-folder-name",
            "/home/ada/src/claude-watch",
            4243,
            None,
            "Sonnet 4.6",
            NOW - timedelta(minutes=40),
            NOW,
            NOW - timedelta(minutes=12),
            38.0,
            0.87,
        ),
        Session(
            "s-idle",
            SessionState.IDLE,
            "api",
            "/home/ada/src/api",
            4244,
            None,
            "Haiku 4.5",
            NOW - timedelta(hours=3),
            NOW - timedelta(minutes=25),
            NOW - timedelta(minutes=25),
            None,
            0.05,
        ),
    ]
    states = [SessionState.WORKING, SessionState.IDLE, SessionState.DONE, SessionState.FAILED]
    more = [
        Session(
            f"s-{i}",
            states[i % 4],
            f"project-{i}",
            f"/w/project-{i}",
            5000 + i,
            None,
            "Sonnet 4.6",
            NOW - timedelta(hours=2),
            NOW - timedelta(minutes=i),
            NOW - timedelta(minutes=i),
            float(5 * i % 100),
            0.1 * i,
        )
        for i in range(max(0, count - len(first)))
    ]
    return (first + more)[:count]


def shoot_sessions(out: Path) -> list[Path]:
    """The Sessions panel with 0, 1, 3 and 20 sessions (light and dark) on a popup-wide
    background of the theme's colour, and a popup with three sessions."""
    from PySide6.QtWidgets import QVBoxLayout, QWidget

    from trayapp.ui.panels.sessions import SessionsPanel
    from trayapp.ui.popup_layout import WIDTH
    from trayapp.ui.theme import DARK, LIGHT

    saved = []
    for theme_name in ("light", "dark"):
        theme = DARK if theme_name == "dark" else LIGHT
        for count in (0, 1, 3, 20):
            holder = QWidget()
            holder.setObjectName("holder")
            holder.setStyleSheet(f"#holder {{ background: {theme.bg}; }}")
            holder.setFixedWidth(WIDTH)
            box = QVBoxLayout(holder)
            box.setContentsMargins(0, 0, 0, 0)
            panel = SessionsPanel(FakeClock(NOW))
            box.addWidget(panel)
            panel.set_theme(theme)
            panel.set_sessions(sample_sessions(count))
            holder.show()
            pump(0.2)
            if count == 20:
                panel.highlight("s-12")  # scrolled into view and marked, as "Open" does
                pump(0.1)
            path = out / f"sessions-{theme_name}-{count}.png"
            holder.grab().save(str(path))
            saved.append(path)
            holder.hide()
            holder.deleteLater()
        popup = Popup(FakeClock(NOW))
        popup.apply_settings(settings_getter(theme_name))
        panel = SessionsPanel(FakeClock(NOW))
        popup.add_panel(panel)
        panel.set_sessions(sample_sessions(3))
        popup.set_state(states()["healthy"])
        popup.show_at(None)
        pump(0.3)
        popup.body_scroll.verticalScrollBar().setValue(10_000)  # the panel, at the bottom
        pump(0.1)
        path = out / f"popup-{theme_name}-sessions.png"
        popup.grab().save(str(path))
        saved.append(path)
        popup.hide()
        popup.deleteLater()
    return saved


def root_capture(path: Path, crop: str | None = None, zoom: int = 1) -> bool:
    if not shutil.which("import"):
        print("skip: ImageMagick `import` not found")
        return False
    raw = path.with_suffix(".raw.png")
    subprocess.run(["import", "-window", "root", str(raw)], check=True)
    args = ["convert", str(raw)]
    if crop:
        args += ["-crop", crop, "+repage"]
    if zoom != 1:
        args += ["-filter", "point", "-resize", f"{zoom * 100}%"]
    subprocess.run([*args, str(path)], check=True)
    raw.unlink()
    return True


def tray_shown() -> bool:
    from PySide6.QtWidgets import QSystemTrayIcon

    return os.environ.get("QT_QPA_PLATFORM") != "offscreen" and QSystemTrayIcon.isSystemTrayAvailable()


def shoot_tray(out: Path) -> list[Path]:
    from PySide6.QtWidgets import QSystemTrayIcon

    if os.environ.get("QT_QPA_PLATFORM") == "offscreen" or not QSystemTrayIcon.isSystemTrayAvailable():
        print("skip: no system tray on this display (run under tests/integration/with-services.sh)")
        return []
    saved = []
    tray = Tray(FakeClock(NOW))
    tray.show()
    for name, state in states().items():
        tray.set_state(state)
        deadline = time.monotonic() + 5
        while tray.icon.geometry().isEmpty() and time.monotonic() < deadline:
            pump(0.1)
        pump(0.4)
        g = tray.icon.geometry()
        if g.isEmpty():
            print("skip: the tray icon did not embed")
            return saved
        path = out / f"tray-{name}.png"
        # The whole trayer panel strip around the icon, zoomed 3x so the pixels can be judged.
        crop = f"{120}x{g.height() + 2}+{max(0, g.right() - 110)}+{max(0, g.y() - 1)}"
        if root_capture(path, crop, zoom=3):
            saved.append(path)
        if name == "healthy":  # the same reading while two Claude Code sessions wait for the user
            tray.set_needs_you(2)
            pump(0.4)
            if root_capture(out / "tray-needs-you.png", crop, zoom=3):
                saved.append(out / "tray-needs-you.png")
            tray.set_needs_you(0)
    tray.set_state(states()["warning"])
    g = tray.icon.geometry()
    tray.menu.aboutToShow.emit()
    QTimer.singleShot(0, lambda: None)
    tray.menu.popup(QPoint(g.right() - 200, g.bottom() + 2))
    pump(0.6)
    mg = tray.menu.geometry()
    path = out / "tray-menu.png"
    crop = f"{mg.width() + 40}x{mg.height() + g.height() + 10}+{mg.x() - 20}+0"
    if root_capture(path, crop, zoom=1):
        saved.append(path)
    tray.menu.hide()
    # Popup below the icon on the real screen, the icon showing the same reading.
    tray.set_state(states()["healthy"])
    popup = Popup(FakeClock(NOW))
    popup.setWindowTitle("Claude Watch dashboard")
    popup.apply_settings(settings_getter("light"))
    popup.set_history_loader(lambda since: history(since, 1.0, (34.0, 41.0)))
    popup.set_state(states()["healthy"])
    popup.show_at(tray.anchor())
    pump(0.6)
    path = out / "screen-popup.png"
    if root_capture(path, None):
        saved.append(path)
    popup.hide()
    tray.hide()
    return saved


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(REPO / "screenshots"))
    parser.add_argument("--demo-only", action="store_true", help="only the seeded demo's pictures")
    parser.add_argument("--suffix", default="", help="added to each demo file name (@2x)")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    saved = (
        []
        if args.demo_only
        else (
            shoot_popups(out)
            + shoot_sessions(out)
            + shoot_timeline(out)
            + shoot_settings(out)
            + shoot_tray(out)
        )
    )
    # Last: the README's pictures from the seeded demo (it moves the process into demo folders).
    from tests.visual.demo_screenshots import shoot_demo

    saved += shoot_demo(app, out, args.suffix, root_capture if tray_shown() else None)
    for p in saved:
        print(p)
    print(f"{len(saved)} screenshots in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
