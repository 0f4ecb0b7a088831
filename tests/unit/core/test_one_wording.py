"""One wording and one palette: every duration, age, amount of money and token count is written by
``core.humanize`` (the CLI, the popup, the quips, the report and the statusline agree), and every
colour the app paints comes from ``ui.theme``."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.helpers.states import NOW, account_state, window_state
from trayapp.core import humanize
from trayapp.core.models import ErrorKind, FetchError, Level
from trayapp.ui import theme

ROOT = Path(__file__).parents[3]
PACKAGE = ROOT / "trayapp"

# ----- each formatter, pinned


@pytest.mark.parametrize(
    ("value", "text", "compact"),
    [
        (None, "—", "—"),
        (-90, "0 s", "<1m"),
        (0, "0 s", "<1m"),
        (30, "30 s", "<1m"),
        (59.9, "59 s", "<1m"),
        (60, "1 min", "1m"),
        (45 * 60 + 59, "45 min", "45m"),
        (3600, "1 h", "1h"),  # the CLI said "1 h 0 min"
        (3600 + 5 * 60 + 59, "1 h 5 min", "1h05m"),
        (2 * 86400, "2 d", "2d"),  # the CLI said "2 d 0 h"
        (2 * 86400 + 4 * 3600 + 3 * 60, "2 d 4 h", "2d4h"),
        (timedelta(days=9, hours=23, minutes=59), "9 d 23 h", "9d23h"),
    ],
)
def test_duration(value: float | timedelta | None, text: str, compact: str) -> None:
    assert humanize.format_duration(value) == text
    assert humanize.format_duration(value, compact=True) == compact
    if isinstance(value, int | float):  # seconds and timedeltas are the same thing
        assert humanize.format_duration(timedelta(seconds=value)) == text


@pytest.mark.parametrize(
    ("value", "text", "compact"),
    [(None, "—", "—"), (-5, "now", "now"), (0.9, "now", "now"), (30, "30 s", "<1m"), (7200, "2 h", "2h")],
)
def test_countdown_is_a_duration_that_can_be_due(value: float | None, text: str, compact: str) -> None:
    assert humanize.format_countdown(value) == text
    assert humanize.format_countdown(value, compact=True) == compact


@pytest.mark.parametrize(
    ("seconds", "ago"),
    [
        (None, "never"),
        (-30, "just now"),  # a clock a little ahead
        (44, "just now"),
        (45, "1 min ago"),
        (180, "3 min ago"),
        (3569, "59 min ago"),
        (3599, "1 h ago"),  # not "60 min ago"
        (5400, "2 h ago"),  # the CLI said "1.5 h ago"
        (86399, "1 d ago"),  # not "24 h ago"
        (3 * 86400, "3 d ago"),
    ],
)
def test_ago_and_age(seconds: float | None, ago: str) -> None:
    assert humanize.format_ago(seconds) == ago
    assert humanize.format_age(seconds) == ("not updated yet" if seconds is None else f"updated {ago}")


def test_money() -> None:
    assert humanize.format_money(1234.5) == "$1,234.50"
    assert humanize.format_money(0.421) == "$0.42"
    assert humanize.format_money(3.0, unpriced=True) == "$3.00*"
    assert humanize.format_money(99.994, compact=True) == "$99.99"
    assert humanize.format_money(123.45, compact=True) == "$123"
    assert humanize.format_money(1234.5, compact=True) == "$1,234"
    assert humanize.format_money(5, "CHF") == "5.00 CHF"
    assert humanize.format_money(None) == "—"


@pytest.mark.parametrize(
    ("count", "text", "compact"),
    [
        (0, "0", "0"),
        (999, "999", "999"),
        (1_234, "1,234", "1.2k"),
        (999_999, "999,999", "1.0M"),  # not "1000.0k"
        (1_250_000, "1,250,000", "1.2M"),
        (5_600_000_000, "5,600,000,000", "5.6B"),
    ],
)
def test_tokens(count: int, text: str, compact: str) -> None:
    assert humanize.format_tokens(count) == text
    assert humanize.format_tokens(count, compact=True) == compact


def test_every_error_kind_has_its_fix() -> None:
    for kind in ErrorKind:
        assert humanize.error_fix(FetchError(kind, "")) != "Could not read your usage", kind


def test_humanize_imports_nothing() -> None:
    """The statusline command and the report's warm path import it: no models, no dataclasses,
    no typing, no datetime (a fresh interpreter without site, so nothing is preloaded)."""
    code = (
        f"import os, sys; sys.path.insert(0, {str(ROOT)!r}); before = set(sys.modules)\n"
        "import trayapp.core.humanize\n"
        "print(' '.join(sorted(set(sys.modules) - before)))"
    )
    done = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, check=True)
    assert set(done.stdout.split()) <= {"__future__", "trayapp", "trayapp.core", "trayapp.core.humanize"}


# ----- the surfaces agree


def test_cli_status_and_popup_say_the_same(qtbot) -> None:
    from trayapp.cli.status import render
    from trayapp.core.clock import FakeClock
    from trayapp.ui.gauges import GaugeRow
    from trayapp.ui.popup import Popup

    five = window_state("five_hour", 37.0, timedelta(hours=1))
    week = window_state("seven_day", 22.0, timedelta(days=2))
    state = account_state(five, week, age=5400)
    cli = render(state, NOW).splitlines()
    for ws, words in ((five, "1 h"), (week, "2 d")):
        row = GaugeRow(ws, NOW)
        qtbot.addWidget(row)
        assert row.reset_text().startswith(f"resets in {words} · ")
        (line,) = [x for x in cli if x.startswith(ws.window.label)]
        assert re.search(rf"░ +{words} +—", line), line  # the CLI's "Resets in" column
    popup = Popup(FakeClock(NOW))
    qtbot.addWidget(popup)
    popup.set_state(state)
    assert popup.footer.text().startswith("updated 2 h ago")
    assert "Source: api, updated 2 h ago" in cli


def test_popup_panels_quips_and_doctor_use_the_same_words(hermetic_env: Path) -> None:
    from trayapp.channels import quips
    from trayapp.cli.doctor import check_background_loops
    from trayapp.core.models import Alert, AlertKind
    from trayapp.core.sessions import Session, SessionState
    from trayapp.runtime import HEALTH_FILE
    from trayapp.ui.panels.sessions import detail_text

    session = Session("id", SessionState.IDLE, "p", state_since=NOW - timedelta(hours=1), cost_usd=1234.5)
    assert detail_text(session, NOW) == "for 1 h · $1,234.50"
    alert = Alert(
        key="k", kind=AlertKind.THRESHOLD, level=Level.WARNING, window_id="five_hour", window_label="5-hour",
        threshold=75, utilization=80.0, title="t", body="b", created_at=NOW,
        resets_at=NOW + timedelta(days=2),
    )  # fmt: skip
    assert quips.context(alert, NOW, UTC)["reset"] == "2 d"  # the quips said "2d 0h"
    (hermetic_env / "state").mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    loop = {"failures": 1, "streak": 0, "last_failed_at": now.timestamp() - 5400, "last_error": "E"}
    (hermetic_env / "state" / HEALTH_FILE).write_text(json.dumps({"loops": {"scanner": loop}}))
    (check,) = check_background_loops(now)
    assert ", last 2 h ago:" in check.detail  # doctor said "last 2 h ago" by its own rounding


def test_no_hand_written_money_or_ages_outside_humanize() -> None:
    """No f-string puts a ``$`` before a number, or writes "… ago", except core/humanize.py."""
    found = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "humanize.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.JoinedStr):
                continue
            parts = node.values
            for i, part in enumerate(parts[:-1]):
                if isinstance(part, ast.Constant) and str(part.value).endswith("$"):
                    if isinstance(parts[i + 1], ast.FormattedValue):
                        found.append(f"{path.relative_to(ROOT)}:{node.lineno} money")
            for a, b in zip(parts, parts[1:], strict=False):
                if isinstance(a, ast.FormattedValue) and isinstance(b, ast.Constant):
                    if re.match(r" ?(min|h|d) ago\b", str(b.value)):
                        found.append(f"{path.relative_to(ROOT)}:{node.lineno} age")
    assert found == []


# ----- one palette

COLOUR = re.compile(r"#(?:[0-9a-fA-F]{8}|[0-9a-fA-F]{6}|[0-9a-fA-F]{3})\b")
# Files allowed a colour literal for now (none: error labels take the theme's colour through
# ``label.setProperty("cwRole", "error")``, coloured by ui/theme.py's application style sheet).
PENDING: set[str] = set()


def _colour_literals(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and COLOUR.search(node.value):
            found.append(f"{node.lineno}: {COLOUR.search(node.value).group()}")
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", getattr(node.func, "attr", "")) == "QColor"
        ):
            if node.args and all(isinstance(a, ast.Constant) and isinstance(a.value, int) for a in node.args):
                found.append(f"{node.lineno}: QColor{tuple(a.value for a in node.args)}")
    return found


def test_colours_live_only_in_the_theme() -> None:
    offenders = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(ROOT).as_posix()
        if rel != "trayapp/core/palette.py" and (found := _colour_literals(path)):
            offenders[rel] = found
    assert set(offenders) <= PENDING, {k: v for k, v in offenders.items() if k not in PENDING}


def test_theme_has_every_level_in_every_palette() -> None:
    for levels in (theme.LIGHT.levels, theme.DARK.levels, theme.ICON.levels):
        assert set(levels) == set(Level)


def test_notification_icon_files_use_the_icon_palette(qapp) -> None:
    from PySide6.QtGui import QImage

    svg = (ROOT / "resources" / "icons" / "claude-watch.svg").read_text()
    used = {c.lower() for c in re.findall(r'(?:fill|stroke)="(#[0-9a-fA-F]{6})"', svg)}
    icon = theme.ICON
    assert used == {icon.disc, icon.track, icon.levels[Level.OK], icon.text}
    png = QImage(str(ROOT / "resources" / "icons" / "claude-watch-128.png"))  # what notifications show
    assert png.pixelColor(64, 64).name() == icon.disc
    assert png.pixelColor(64, 10).name() == icon.levels[Level.OK]  # the ring's top, at 62 %
    assert png.pixelColor(10, 64).name() == icon.track  # its left, past 62 %
