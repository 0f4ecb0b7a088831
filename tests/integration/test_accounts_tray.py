"""One tray icon per account, for real: the app under Xvfb + trayer with a Work account next to the
default login (a loopback endpoint answering each token with its own figures). ``tray.accounts``
set to ``each`` while it runs adds a second icon in trayer's panel, a click on it opens the
dashboard on Work, a click on the app's own icon switches it to the default account (a second one
closes it), and ``binding`` leaves the app's own icon alone again."""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.helpers.accounts_support import PerTokenUsage, folders, running, token
from tests.helpers.app_process import (
    app_env,
    config_set,
    start_app,
    stop_app,
    visible_windows,
    wait_for,
    x_tree,
)
from tests.helpers.fixtures_usage import write_credentials
from tests.integration.conftest import DesktopSession
from tests.integration.test_notify_dunst import away_from_the_tray, log_text
from trayapp.store.accounts_repo import AccountsRepo

ICON_RE = re.compile(
    r'(0x[0-9a-f]+) "Claude Watch": \([^)]*\)\s+(\d+)x(\d+)\+-?\d+\+-?\d+\s+\+(-?\d+)\+(-?\d+)'
)
DASHBOARD = "Claude Watch dashboard"


def icons() -> list[tuple[str, int, int]]:
    """Our icons embedded in trayer's panel: (window id, x, y) of each, left to right."""
    tree = x_tree()
    if '"panel"' not in tree:
        return []
    found = []
    for m in ICON_RE.finditer(tree.split('"panel"', 1)[1]):
        wid, w, h, x, y = m.group(1), *map(int, m.groups()[1:])
        if w >= 16 and h >= 16:
            found.append((wid, x + w // 2, y + h // 2))
    return sorted(found, key=lambda icon: icon[1])


def click(x: int, y: int) -> None:
    subprocess.run(["xdotool", "mousemove", str(x), str(y), "click", "1"], check=True)


@pytest.fixture
def server() -> Iterator[PerTokenUsage]:
    yield from running()


def test_each_account_gets_its_own_tray_icon_live(
    desktop_services: DesktopSession,
    server: PerTokenUsage,
    claude_dir: Path,
    hermetic_env: Path,
    tmp_path: Path,
) -> None:
    write_credentials(claude_dir, token=token("Home"), expires_at=datetime.now(UTC) + timedelta(hours=8))
    server.figures[token("Home")] = 12.0
    [work] = folders(tmp_path, ["Work"], server, [91.0])
    AccountsRepo().add("Work", work.config_dir)
    env = app_env(CLAUDE_WATCH_API_BASE=server.base_url, CLAUDE_CONFIG_DIR=str(claude_dir), TZ="UTC")
    away_from_the_tray()
    app = start_app(env=env)
    out = ""
    try:
        assert wait_for(lambda: len(icons()) == 1, timeout=15), x_tree()
        [(own, _, _)] = icons()
        assert wait_for(lambda: "polling account Work" in log_text(hermetic_env), timeout=30), log_text(
            hermetic_env
        )
        config_set("tray.accounts", "each")
        assert wait_for(lambda: len(icons()) == 2, timeout=10), x_tree() + log_text(hermetic_env)
        [(work_icon, x, y)] = [icon for icon in icons() if icon[0] != own]
        click(x, y)
        assert wait_for(lambda: visible_windows(DASHBOARD), timeout=5), log_text(hermetic_env)
        assert wait_for(lambda: "dashboard shows account Work" in log_text(hermetic_env), timeout=5)
        [(_, own_x, own_y)] = [icon for icon in icons() if icon[0] == own]
        time.sleep(0.6)  # past the double-click interval
        click(own_x, own_y)  # the app's own icon is the default account's: switched, not closed
        assert wait_for(lambda: "dashboard shows account default" in log_text(hermetic_env), timeout=5)
        time.sleep(1.0)
        assert visible_windows(DASHBOARD), log_text(hermetic_env)
        time.sleep(0.6)
        click(own_x, own_y)  # the icon of the account shown closes it
        assert wait_for(lambda: not visible_windows(DASHBOARD), timeout=5)
        away_from_the_tray()
        config_set("tray.accounts", "binding")
        assert wait_for(lambda: len(icons()) == 1, timeout=10), x_tree()
        assert [icon[0] for icon in icons()] == [own]  # the app's own icon stays, Work's goes
        assert work_icon not in x_tree()
    finally:
        out = stop_app(app)
    assert "Traceback" not in out, out
