"""The OS timer's files for every OS (made on Linux): systemd units that pass ``systemd-analyze
verify``, LaunchAgent plists, Task Scheduler XML; install and uninstall on Linux against a
recording ``systemctl`` on PATH (a real child process)."""

from __future__ import annotations

import json
import os
import plistlib
import shutil
import stat
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import time
from pathlib import Path

import pytest

from trayapp.core.schedule import WEEKDAYS, Anchor, AnchorMode, Plan
from trayapp.platform import os_timer

PLAN = Plan(
    (
        Anchor(time(7, 0), WEEKDAYS, AnchorMode.AUTO),
        Anchor(time(12, 30), frozenset({5, 6}), AnchorMode.AUTO),
        Anchor(time(18, 0)),  # remind only: no timer
    )
)
CMD = ["/opt/Claude Watch/claude-watch"]


def test_only_auto_anchors_of_an_enabled_plan() -> None:
    assert [a.id for a in os_timer.timer_anchors(PLAN)] == ["07:00", "12:30"]
    assert os_timer.timer_anchors(Plan(PLAN.anchors, enabled=False)) == []


def test_systemd_units() -> None:
    files = os_timer.systemd_files(PLAN, ["/opt/Claude Watch/claude-watch", "100%"])
    assert sorted(files) == [
        "claude-watch-window-0700.service",
        "claude-watch-window-0700.timer",
        "claude-watch-window-1230.service",
        "claude-watch-window-1230.timer",
    ]
    timer = files["claude-watch-window-0700.timer"]
    assert "OnCalendar=Mon,Tue,Wed,Thu,Fri *-*-* 07:00:00\n" in timer
    assert "Persistent=false\n" in timer
    assert "Unit=claude-watch-window-0700.service\n" in timer
    assert "OnCalendar=Sat,Sun *-*-* 12:30:00\n" in files["claude-watch-window-1230.timer"]
    service = files["claude-watch-window-0700.service"]
    assert (
        'ExecStart="/opt/Claude Watch/claude-watch" 100%% window start --verify --anchor 07:00\n' in service
    )
    assert "Type=oneshot\n" in service
    assert "Environment" not in service
    with_path = os_timer.systemd_files(PLAN, CMD, "/home/a b/.local/bin:/usr/bin")
    assert (
        'Environment="PATH=/home/a b/.local/bin:/usr/bin"\n' in with_path["claude-watch-window-0700.service"]
    )


def test_systemd_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("systemd units are verified on Linux")
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        if os.environ.get("CI"):
            pytest.fail("systemd-analyze is missing on this CI runner")
        pytest.skip("systemd-analyze is not installed here (package systemd)")
    unit_dir = tmp_path / "units"
    unit_dir.mkdir()
    for name, text in os_timer.systemd_files(
        PLAN, [sys.executable, "-m", "trayapp"], "/usr/bin:/bin"
    ).items():
        (unit_dir / name).write_text(text)
    units = sorted(str(p) for p in unit_dir.iterdir())
    done = subprocess.run(
        [analyze, "verify", *units], capture_output=True, text=True, timeout=120, cwd=unit_dir
    )
    assert done.returncode == 0, done.stderr
    assert "claude-watch-window" not in done.stderr, done.stderr
    # and it does catch a bad unit: a calendar it cannot parse
    broken = unit_dir / "claude-watch-window-0700.timer"
    broken.write_text(broken.read_text().replace("*-*-* 07:00:00", "at seven"))
    done = subprocess.run(
        [analyze, "verify", *units], capture_output=True, text=True, timeout=120, cwd=unit_dir
    )
    assert done.returncode != 0


def test_launch_agents() -> None:
    files = os_timer.launchd_files(PLAN, CMD)
    assert sorted(files) == ["com.claudewatch.window-0700.plist", "com.claudewatch.window-1230.plist"]
    data = plistlib.loads(files["com.claudewatch.window-0700.plist"])
    assert data["Label"] == "com.claudewatch.window-0700"
    assert data["ProgramArguments"] == [*CMD, "window", "start", "--verify", "--anchor", "07:00"]
    assert [t["Weekday"] for t in data["StartCalendarInterval"]] == [1, 2, 3, 4, 5]  # Monday = 1
    weekend = plistlib.loads(files["com.claudewatch.window-1230.plist"])["StartCalendarInterval"]
    assert weekend == [{"Weekday": 6, "Hour": 12, "Minute": 30}, {"Weekday": 0, "Hour": 12, "Minute": 30}]
    assert data["RunAtLoad"] is False
    assert "EnvironmentVariables" not in data
    with_path = os_timer.launchd_files(PLAN, CMD, "/opt/homebrew/bin:/usr/bin")[
        "com.claudewatch.window-0700.plist"
    ]
    assert plistlib.loads(with_path)["EnvironmentVariables"] == {"PATH": "/opt/homebrew/bin:/usr/bin"}


def test_scheduled_task_xml() -> None:
    files = os_timer.schtasks_files(PLAN, [r"C:\Program Files\A&B\ClaudeWatch.exe", "--x"])
    assert sorted(files) == ["Window 0700", "Window 1230"]
    raw = files["Window 0700"].encode("utf-16")  # as install() writes it for schtasks
    root = ET.fromstring(raw)
    ns = {"t": "http://schemas.microsoft.com/windows/2004/02/mit/task"}
    days = root.find("t:Triggers/t:CalendarTrigger/t:ScheduleByWeek/t:DaysOfWeek", ns)
    assert days is not None
    assert [d.tag.split("}")[1] for d in days] == ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
    boundary = root.findtext("t:Triggers/t:CalendarTrigger/t:StartBoundary", namespaces=ns)
    assert boundary == "2026-01-01T07:00:00"
    assert (
        root.findtext("t:Actions/t:Exec/t:Command", namespaces=ns) == r"C:\Program Files\A&B\ClaudeWatch.exe"
    )
    assert (
        root.findtext("t:Actions/t:Exec/t:Arguments", namespaces=ns)
        == "--x window start --verify --anchor 07:00"
    )
    assert root.findtext("t:Settings/t:StartWhenAvailable", namespaces=ns) == "false"


RECORDER = """#!{python}
import json, os, sys
with open(os.environ["FAKE_SYSTEMCTL_CALLS"], "a") as fh:
    fh.write(json.dumps(sys.argv[1:]) + "\\n")
sys.exit(int(os.environ.get("FAKE_SYSTEMCTL_EXIT", "0")))
"""


@pytest.fixture
def systemctl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    if not sys.platform.startswith("linux"):
        pytest.skip("installs systemd units: Linux only")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    exe = bin_dir / "systemctl"
    exe.write_text(RECORDER.format(python=sys.executable))
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    calls = tmp_path / "systemctl-calls.jsonl"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_SYSTEMCTL_CALLS", str(calls))
    return calls


def recorded(calls: Path) -> list[list[str]]:
    return [json.loads(line) for line in calls.read_text().splitlines()] if calls.exists() else []


def test_install_replace_and_uninstall_on_linux(systemctl: Path, tmp_path: Path) -> None:
    unit_dir = tmp_path / "xdg-config" / "systemd" / "user"  # XDG_CONFIG_HOME from hermetic_env
    report = os_timer.install(PLAN, CMD)
    assert report.ok, report.message
    assert sorted(p.name for p in unit_dir.iterdir()) == sorted(os_timer.systemd_files(PLAN, CMD))
    assert all(p.stat().st_mode & 0o777 == 0o644 for p in unit_dir.iterdir())
    service = (unit_dir / "claude-watch-window-0700.service").read_text()
    assert f"PATH={os.environ['PATH']}" in service  # the PATH claude was found on at install time
    assert [
        "--user",
        "enable",
        "--now",
        "claude-watch-window-0700.timer",
        "claude-watch-window-1230.timer",
    ] in (recorded(systemctl))
    # a new plan replaces the timers: the 12:30 one is disabled and its files go
    smaller = Plan((PLAN.anchors[0],))
    assert os_timer.install(smaller, CMD).ok
    assert sorted(p.name for p in unit_dir.iterdir()) == [
        "claude-watch-window-0700.service",
        "claude-watch-window-0700.timer",
    ]
    assert [
        "--user",
        "disable",
        "--now",
        "claude-watch-window-0700.timer",
        "claude-watch-window-1230.timer",
    ] in (recorded(systemctl))
    gone = os_timer.uninstall()
    assert gone.ok
    assert list(unit_dir.iterdir()) == []
    assert recorded(systemctl)[-1] == ["--user", "daemon-reload"]
    assert os_timer.uninstall().message == "No OS timer was installed."


def test_install_reports_a_failing_systemctl(
    systemctl: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("FAKE_SYSTEMCTL_EXIT", "1")
    report = os_timer.install(PLAN, CMD)
    assert not report.ok
    assert "could not enable the timers" in report.message


def test_no_auto_anchor_installs_nothing(systemctl: Path) -> None:
    report = os_timer.install(Plan((Anchor(time(7)),)), CMD)
    assert report.ok
    assert "No auto-start anchors" in report.message
    assert os_timer.installed() == []
