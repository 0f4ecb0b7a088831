"""Focusing a session's terminal on a real X server (Xvfb, no window manager, xdotool): a "terminal"
process with a real Qt window runs a child; focus_terminal(child pid) finds the window through
_NET_WM_PID and focuses it, taking focus from another window."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.integration.conftest import DesktopSession
from trayapp.platform import focus

TERMINAL = """
import subprocess, sys
from PySide6.QtWidgets import QApplication, QWidget
app = QApplication([])
w = QWidget()
w.setWindowTitle(sys.argv[1])
w.resize(240, 120)
w.show()
child = subprocess.Popen(["sleep", "120"])
app.processEvents()
print(child.pid, int(w.winId()), flush=True)
app.exec()
child.kill()
"""


@dataclass(frozen=True)
class Terminal:
    process: subprocess.Popen[str]
    child: int  # stands in for claude
    window: int


def start_terminal(title: str) -> Terminal:
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb"}
    proc = subprocess.Popen(
        [sys.executable, "-c", TERMINAL, title],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )
    assert proc.stdout is not None
    child, window = map(int, proc.stdout.readline().split())
    return Terminal(proc, child, window)


@pytest.fixture
def terminals(desktop_services: DesktopSession) -> Iterator[tuple[Terminal, Terminal]]:
    if not shutil.which("xdotool"):
        pytest.skip("xdotool not installed")
    made = [start_terminal("terminal-a"), start_terminal("terminal-b")]
    yield made[0], made[1]
    for t in made:
        os.killpg(t.process.pid, 15)
        t.process.wait(10)
        assert t.process.stdout is not None
        t.process.stdout.close()


def focused() -> int:
    out = subprocess.run(["xdotool", "getwindowfocus"], capture_output=True, text=True, check=True, timeout=5)
    return int(out.stdout.strip())


def wait_visible(window: int) -> None:
    for _ in range(200):
        state = subprocess.run(["xwininfo", "-id", str(window)], capture_output=True, text=True, timeout=5)
        if "IsViewable" in state.stdout:
            return
        subprocess.run(["sleep", "0.05"], check=True)
    pytest.fail(f"window {window} never mapped")


def test_focus_terminal_focuses_the_window_of_the_childs_terminal(terminals) -> None:
    a, b = terminals
    wait_visible(a.window)
    wait_visible(b.window)
    subprocess.run(["xdotool", "windowfocus", "--sync", str(b.window)], check=True, timeout=5)
    assert focused() == b.window
    assert focus.focus_terminal(a.child)
    for _ in range(100):
        if focused() == a.window:
            break
        subprocess.run(["sleep", "0.02"], check=True)
    assert focused() == a.window
    assert focus.focus_terminal(b.child)
    for _ in range(100):
        if focused() == b.window:
            break
        subprocess.run(["sleep", "0.02"], check=True)
    assert focused() == b.window


def test_a_process_without_a_windowed_ancestor_is_false(desktop_services: DesktopSession) -> None:
    if not shutil.which("xdotool"):
        pytest.skip("xdotool not installed")
    lone = subprocess.Popen(["sleep", "60"], start_new_session=True)
    try:
        # Its ancestors are this test process and its parents, none with a window of their own.
        assert not focus.focus_terminal(lone.pid)
    finally:
        lone.kill()
        lone.wait(5)
