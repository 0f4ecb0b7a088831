"""Focusing a session's terminal (issue 13): the parent walk over real processes and real stat
files, the tools' output parsing, the choice of the nearest windowed ancestor through stand-in
``wmctrl``/``xdotool`` executables (real child processes that log their arguments), and False
whenever the desktop cannot do it. The real X server case is tests/integration/test_focus_x11.py."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from trayapp.platform import focus


@pytest.fixture
def grandchild() -> Iterator[tuple[int, int]]:
    """A real ``sh`` child of this process with a ``sleep`` child of its own: (sh pid, sleep pid)."""
    sh = subprocess.Popen(
        ["sh", "-c", "sleep 30 & echo $!; wait"], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    assert sh.stdout is not None
    sleeper = int(sh.stdout.readline())
    yield sh.pid, sleeper
    os.killpg(sh.pid, 15)
    sh.wait(5)
    sh.stdout.close()


def write_stat(proc: Path, pid: int, comm: str, ppid: int | str) -> None:
    (proc / str(pid)).mkdir(parents=True, exist_ok=True)
    (proc / str(pid) / "stat").write_text(f"{pid} ({comm}) S {ppid} {pid} {pid} 0 -1 4194560 0\n")


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_ancestors_of_a_real_grandchild(grandchild) -> None:
    sh, sleeper = grandchild
    chain = focus.ancestors(sleeper)
    assert chain[:3] == [sleeper, sh, os.getpid()]
    assert 1 not in chain
    assert focus.parent_pid(sleeper) == sh


def test_ancestors_of_a_process_that_is_gone() -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    assert focus.ancestors(dead.pid) == []
    assert focus.ancestors(1) == []
    assert focus.ancestors(0) == []


def test_stat_parsing_survives_odd_names_loops_and_garbage(tmp_path: Path) -> None:
    write_stat(tmp_path, 40, "claude", 30)
    write_stat(tmp_path, 30, "my (odd) shell ) 7 9", 20)  # parentheses and numbers in the name
    write_stat(tmp_path, 20, "gnome-terminal-", 1)
    assert focus.ancestors(40, tmp_path) == [40, 30, 20]
    write_stat(tmp_path, 50, "a", 51)  # a loop: 50 -> 51 -> 50
    write_stat(tmp_path, 51, "b", 50)
    assert focus.ancestors(50, tmp_path) == [50, 51]
    write_stat(tmp_path, 60, "x", "garbage")
    assert focus.parent_pid(60, tmp_path) is None
    (tmp_path / "61").mkdir()
    (tmp_path / "61" / "stat").write_bytes(b"61 no parenthesis S 1")
    assert focus.parent_pid(61, tmp_path) is None
    write_stat(tmp_path, 70, "deep", 71)
    for pid in range(71, 200):
        write_stat(tmp_path, pid, "deep", pid + 1)
    assert len(focus.ancestors(70, tmp_path)) == focus.MAX_DEPTH


def test_parse_wmctrl_and_xdotool_output() -> None:
    listing = (
        "0x01e00003  0 4242   host Terminal - claude\n"
        "0x02000007 -1 0      host Desktop\n"
        "0xzz        0 12     host broken id\n"
        "not a window line\n"
        "0x02400001  1 777    host  \n"
    )
    assert focus.parse_wmctrl(listing) == [("0x01e00003", 4242), ("0x02400001", 777)]
    assert focus.parse_window_ids("123\n\n456\nDefaulting to search window name\n") == ["123", "456"]


def stand_in(folder: Path, name: str, script: str) -> str:
    """An executable ``name`` that logs its arguments to ``calls.log`` and runs ``script``."""
    path = folder / name
    log = folder / "calls.log"
    path.write_text(f'#!/bin/sh\necho "{name} $*" >> {shlex.quote(str(log))}\n{script}\n')
    path.chmod(0o755)
    return str(path)


def calls(folder: Path) -> list[str]:
    log = folder / "calls.log"
    return log.read_text().splitlines() if log.exists() else []


@pytest.fixture
def x11(monkeypatch) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("DISPLAY", ":99")


def test_wmctrl_activates_the_nearest_windowed_ancestor(tmp_path, grandchild, x11) -> None:
    sh, sleeper = grandchild
    me = os.getpid()
    wmctrl = stand_in(
        tmp_path,
        "wmctrl",
        f'[ "$1" = "-lp" ] && printf "0x0a000001  0 {me} host outer\\n'
        f'0x0b000002  0 {sh} host term\\n"\nexit 0',
    )
    tools = {"wmctrl": wmctrl}
    assert focus.focus_terminal(sleeper, which=tools.get)
    # The shell's window (nearest ancestor with one), not this process's.
    assert calls(tmp_path) == ["wmctrl -lp", "wmctrl -ia 0x0b000002"]


def test_xdotool_when_there_is_no_wmctrl_and_raise_focus_without_ewmh(tmp_path, grandchild, x11) -> None:
    sh, sleeper = grandchild
    xdotool = stand_in(
        tmp_path,
        "xdotool",
        f'case "$1" in\n search) [ "$4" = "{sh}" ] && echo 31457282 && exit 0; exit 1;;\n'
        ' windowactivate) echo "no _NET_ACTIVE_WINDOW" >&2; exit 1;;\n esac\nexit 0',
    )
    assert focus.focus_terminal(sleeper, which={"xdotool": xdotool}.get)
    assert calls(tmp_path) == [
        f"xdotool search --onlyvisible --pid {sleeper}",
        f"xdotool search --onlyvisible --pid {sh}",
        "xdotool windowactivate 31457282",
        "xdotool windowraise 31457282",
        "xdotool windowfocus 31457282",
    ]


def test_no_window_no_tool_no_display_or_another_os_is_false(tmp_path, grandchild, monkeypatch, x11) -> None:
    _sh, sleeper = grandchild
    empty = stand_in(tmp_path, "wmctrl", "exit 0")  # lists no window
    assert not focus.focus_terminal(sleeper, which={"wmctrl": empty}.get)
    failing = stand_in(tmp_path, "xdotool", "exit 1")
    assert not focus.focus_terminal(sleeper, which={"xdotool": failing}.get)
    assert not focus.focus_terminal(sleeper, which=lambda _name: None)
    assert not focus.focus_terminal(sleeper, which={"wmctrl": str(tmp_path / "missing")}.get)
    everything = {"wmctrl": stand_in(tmp_path, "wmctrl", f'echo "0x1 0 {sleeper} h t"')}.get
    assert focus.focus_terminal(sleeper, which=everything)  # what the cases below take away
    monkeypatch.delenv("DISPLAY")
    assert not focus.focus_terminal(sleeper, which=everything)
    monkeypatch.setenv("DISPLAY", ":99")
    for other in ("darwin", "win32"):
        monkeypatch.setattr(sys, "platform", other)
        assert not focus.focus_terminal(sleeper, which=everything)


def test_a_hanging_tool_is_cut_off(tmp_path, grandchild, monkeypatch, x11) -> None:
    _sh, sleeper = grandchild
    monkeypatch.setattr(focus, "TIMEOUT", 0.3)
    # Lists the window only after 5 s, through a child of its own that holds the pipe meanwhile.
    hang = stand_in(tmp_path, "wmctrl", f'sleep 5; echo "0x1 0 {sleeper} h t"')
    assert not focus.focus_terminal(sleeper, which={"wmctrl": hang}.get)
    assert calls(tmp_path) == ["wmctrl -lp"]  # cut off: no activation followed


def alive(pid: int) -> bool:
    """Running and not a zombie (a killed process waits for its new parent to reap it)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_a_cut_off_tool_is_killed_with_its_children(tmp_path, grandchild, monkeypatch, x11) -> None:
    _sh, sleeper = grandchild
    monkeypatch.setattr(focus, "TIMEOUT", 0.3)
    pidfile = tmp_path / "left.pid"
    hang = stand_in(tmp_path, "wmctrl", f"sleep 30 >/dev/null 2>&1 & echo $! > {pidfile}; wait")
    assert not focus.focus_terminal(sleeper, which={"wmctrl": hang}.get)
    left = int(pidfile.read_text())
    for _ in range(200):  # killed at once; reaping by its new parent may take a moment
        if not alive(left):
            break
        time.sleep(0.01)
    assert not alive(left)
