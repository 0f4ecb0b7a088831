"""The seeded demo as the app runs it (issue 20: "its charts stay nearly empty and its sessions and
local-usage panels are empty"): the real composition root with ``--demo`` fills the 7-day chart,
the sessions panel and the local-usage panel; and ``claude-watch --demo`` as a real process writes
nothing in the user's folders."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers.async_wait import until
from trayapp.demo import DEMO_ROOT_ENV, enter_demo_home

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.qt_loop
async def test_the_demo_app_shows_a_week_sessions_and_local_usage(qapp, monkeypatch) -> None:
    from trayapp.app import ClaudeWatch
    from trayapp.ui.panels.local_usage import LocalUsagePanel

    monkeypatch.setenv(DEMO_ROOT_ENV, "")  # the folder variables enter_demo_home sets are restored
    enter_demo_home()
    cw = ClaudeWatch(qapp, demo=True, self_test=True)
    cw.build()
    try:
        await cw.start_usage()
        cw.start_tracking()
        cw.on_stop("sessions", await cw.sessions.start(cw.usage))
        assert await until(lambda: cw.state is not None and cw.state.snapshot is not None)
        popup = cw.popup
        popup.set_range("7d")
        popup.show_at(None)

        def points() -> dict[str, int]:
            return {s.window_id: sum(len(seg) for seg in s.segments) for s in popup.timeline.series}

        assert await until(lambda: min(points().values(), default=0) >= 100)
        plotted = points()
        assert {"five_hour", "seven_day"} <= set(plotted)
        span = [
            p[0]
            for s in popup.timeline.series
            if s.window_id == "seven_day"
            for seg in s.segments
            for p in seg
        ]
        assert max(span) - min(span) >= 6.5 * 86400  # the whole week, not a sliver at "now"
        panel = cw.sessions_panel
        assert panel is not None
        assert await until(lambda: len(panel.rows) >= 3)
        assert panel.empty.isHidden()
        local = next(p for p in popup._panels if isinstance(p, LocalUsagePanel))
        assert await until(lambda: "tokens" in local.today.text())
        assert "$" in local.today.text()
        assert "Top projects" in local.projects.text()
        # No GUI text shows Markdown backticks ("run `claude` and sign in"): every label, button
        # and tooltip of the dashboard as the app builds it (feature panels have tests of their own).
        others = [p for p in popup._panels if p is not panel and p is not local]
        assert [t for t in gui_texts(popup, skip=others) if "`" in t] == []
    finally:
        await cw.shutdown()


def gui_texts(root, skip=()) -> list[str]:
    from PySide6.QtWidgets import QAbstractButton, QLabel, QWidget

    texts = []
    for widget in [root, *root.findChildren(QWidget)]:
        if any(w is widget or w.isAncestorOf(widget) for w in skip):
            continue
        if isinstance(widget, QLabel | QAbstractButton):
            texts.append(widget.text())
        texts.append(widget.toolTip())
    return [t for t in texts if t]


def snapshot(*folders: Path) -> dict[str, int]:
    return {
        str(p): p.stat().st_size for folder in folders if folder.exists() for p in sorted(folder.rglob("*"))
    }


def test_the_demo_process_writes_nothing_in_the_users_folders(tmp_path) -> None:
    """``claude-watch --demo`` for a few seconds, then SIGTERM: the app's folders and Claude Code's
    folder (with a settings file and a transcript in them) are as they were, but for the log (kept
    for after the demo) and the single-instance lock's folder (its lock file goes with the process)."""
    home, claude, tmp = tmp_path / "home", tmp_path / "claude", tmp_path / "tmp"
    for folder in (home / "config", claude / "projects" / "p", tmp):
        folder.mkdir(parents=True)
    (home / "config" / "settings.toml").write_text('[ui]\ntheme = "dark"\n')
    (claude / "projects" / "p" / "s.jsonl").write_text("{}\n")
    env = dict(os.environ, CLAUDE_WATCH_HOME=str(home), CLAUDE_CONFIG_DIR=str(claude), TMPDIR=str(tmp))
    env.update(QT_QPA_PLATFORM="offscreen", CLAUDE_WATCH_SHOW_DASHBOARD="1", HOME=str(tmp_path))
    env.pop(DEMO_ROOT_ENV, None)
    before = snapshot(home, claude)
    proc = subprocess.Popen(
        [sys.executable, "-m", "trayapp", "--demo"], cwd=REPO, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        seeded = False
        while time.monotonic() < deadline and proc.poll() is None and not seeded:
            time.sleep(0.2)
            seeded = any(tmp.rglob("claude-watch-demo.sqlite3"))
        time.sleep(3)  # the first poll, the transcript scan, the sessions reader
        assert proc.poll() is None, proc.communicate()[0]
        assert seeded
        demo_folders = list(tmp.glob("claude-watch-demo-*"))
        assert len(demo_folders) == 1
        assert any(demo_folders[0].rglob("ledger.sqlite3"))  # the scan ran, in the demo folder
    finally:
        proc.send_signal(signal.SIGTERM)
        out = proc.communicate(timeout=30)[0]
    assert proc.returncode == 0, out
    after = snapshot(home, claude)
    log = home / "logs" / "claude-watch.log"
    assert "Claude Watch running" in log.read_text(encoding="utf-8")
    assert list((home / "state").iterdir()) == []  # the lock is released, nothing else written
    kept = {str(home / "logs"), str(log), str(home / "state")}
    assert {k: v for k, v in after.items() if k not in kept} == before
    assert not (tmp_path / ".claude").exists()
    assert list(tmp.glob("claude-watch-demo-*")) == []  # the demo folder goes with the process
