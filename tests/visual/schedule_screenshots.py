"""Render the window scheduler's views into ./screenshots/ for a person to look at: the popup with its
"Window schedule" panel (light and dark; a Work-day plan, the open window and its reset, a verified
and a failed start, the weekly pace advice), the schedule view while a drag is refused, and the
Settings page. Made-up values only (no login, no network).

    tests/integration/with-services.sh .venv/bin/python tests/visual/schedule_screenshots.py [--out DIR]
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.helpers.states import account_state, window_state  # noqa: E402
from tests.visual.make_screenshots import pump, settings_getter  # noqa: E402  (its folders, display, app)
from trayapp.core.clock import FakeClock  # noqa: E402
from trayapp.core.schedule import PRESETS, Attempt, Outcome, Plan  # noqa: E402
from trayapp.services.scheduler_memory import local_zone  # noqa: E402
from trayapp.ui.popup import Popup  # noqa: E402
from trayapp.ui.schedule_page import SchedulePage  # noqa: E402
from trayapp.ui.schedule_panel import SchedulePanel  # noqa: E402

TZ = local_zone()
# 09:40 local on a Wednesday: the 07:00 anchor's window is open, 12:00 comes next.
LOCAL_NOW = datetime.now(TZ).replace(hour=9, minute=40, second=0, microsecond=0)
LOCAL_NOW += timedelta(days=(2 - LOCAL_NOW.weekday()) % 7)
NOW = LOCAL_NOW.astimezone(UTC)
PLAN = Plan(PRESETS["work_day"][1], preset="work_day")


def state() -> object:
    opened = NOW - timedelta(hours=2, minutes=38)  # the 07:02 start, verified
    return account_state(
        window_state("five_hour", 27.0, opened + timedelta(hours=5) - NOW, NOW, rate=9.0),
        window_state("seven_day", 58.0, timedelta(days=2, hours=5), NOW, rate=1.1),
        now=NOW,
        age=60,
    )


def attempts() -> list[Attempt]:
    at = NOW - timedelta(hours=2, minutes=38)
    return [
        Attempt(NOW - timedelta(hours=8), None, Outcome.NOT_OPENED, "did not open the window"),
        Attempt(at, "07:00", Outcome.VERIFIED, f"resets at {(at + timedelta(hours=5)).astimezone(TZ):%H:%M}"),
    ]


def shoot_popup(out: Path) -> list[Path]:
    saved = []
    for theme in ("light", "dark"):
        popup = Popup(FakeClock(NOW))
        popup.apply_settings(settings_getter(theme))
        panel = SchedulePanel(FakeClock(NOW), TZ)
        panel.set_plan(PLAN)
        panel.set_attempts(attempts())
        panel.set_state(state())
        popup.add_panel(panel)
        popup.set_history_loader(lambda since: [])
        popup.set_state(state())
        popup.show_at(None)
        pump(0.3)
        popup.body_scroll.verticalScrollBar().setValue(10_000)  # the schedule, at the bottom
        pump(0.2)
        path = out / f"schedule-popup-{theme}.png"
        popup.grab().save(str(path))
        saved.append(path)
        # A drag refused (anchors 3 h apart): the reason under the view, the marker back.
        panel.view.move_anchor("12:00", PLAN.anchors[0].at.replace(hour=10))
        pump(0.1)
        path = out / f"schedule-popup-refused-{theme}.png"
        popup.grab().save(str(path))
        saved.append(path)
        popup.hide()
        popup.deleteLater()
    return saved


def shoot_page(out: Path) -> list[Path]:
    page = SchedulePage(TZ, lambda: NOW)
    page.set_plan(PLAN)
    page.resize(640, 560)
    page.show()
    pump(0.3)
    path = out / "schedule-settings-page.png"
    page.grab().save(str(path))
    page.close()
    return [path]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(REPO / "screenshots"))
    out = Path(parser.parse_args().out)
    out.mkdir(parents=True, exist_ok=True)
    saved = shoot_popup(out) + shoot_page(out)
    for p in saved:
        print(p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
