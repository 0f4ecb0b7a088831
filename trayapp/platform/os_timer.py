"""The optional OS timer: start planned windows even when Claude Watch is not running.

For every auto-start anchor of the plan, the system's own scheduler runs the installed launcher
(:func:`trayapp.platform.launcher.launcher_command`) with ``window start --verify --anchor HH:MM``
at that local time on the anchor's weekdays: a systemd user timer and service per anchor on Linux
(``OnCalendar``, ``Persistent=false``: a time missed while the machine was off is not caught up, it
is the "fired while I slept" surprise), a LaunchAgent per anchor on macOS
(``StartCalendarInterval``), a scheduled task per anchor on Windows (``schtasks`` XML). The start
itself stays guarded (one attempt per closed window, shared with the app, which may fire at the
same anchor: only one of them runs ``claude``), and ``--anchor`` makes it re-check the plan, so a
stale timer whose anchor was removed or paused does nothing.

The files are made by pure functions (:func:`systemd_files`, :func:`launchd_files`,
:func:`schtasks_files`), tested on every OS's format from Linux; :func:`install` and
:func:`uninstall` touch the system only on their own OS.
"""

from __future__ import annotations

import os
import plistlib
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from trayapp.core.schedule import DAY_NAMES, Anchor, AnchorMode, Plan, format_days

PREFIX = "claude-watch-window-"  # systemd unit names
LAUNCHD_LABEL = "com.claudewatch.window-"
TASK_FOLDER = "Claude Watch"
WIN_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

Runner = Callable[[list[str]], "subprocess.CompletedProcess[str]"]


@dataclass(frozen=True, slots=True)
class TimerReport:
    ok: bool
    message: str
    files: tuple[Path, ...] = ()


def timer_anchors(plan: Plan) -> list[Anchor]:
    """The anchors a timer is made for: the auto-start ones of an enabled plan."""
    if not plan.enabled:
        return []
    return sorted((a for a in plan.anchors if a.mode is AnchorMode.AUTO), key=lambda a: a.id)


def _slug(anchor: Anchor) -> str:
    return anchor.id.replace(":", "")


def start_args(anchor: Anchor) -> list[str]:
    return ["window", "start", "--verify", "--anchor", anchor.id]


# --- Linux: systemd user units ------------------------------------------------------------------


def _systemd_word(arg: str) -> str:
    """One ExecStart word: specifiers (%) and variables ($) escaped, quoted when needed."""
    text = arg.replace("%", "%%").replace("$", "$$")
    if text and not any(c in text for c in " \t\"'\\;"):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def systemd_files(plan: Plan, command: list[str], path_env: str | None = None) -> dict[str, str]:
    """``{unit file name: contents}``: a ``.service`` and a ``.timer`` per auto anchor. ``path_env``
    becomes the service's PATH (a user service gets a minimal one, without ``~/.local/bin`` where
    ``claude`` usually is)."""
    files: dict[str, str] = {}
    env = f"Environment={_systemd_word('PATH=' + path_env)}\n" if path_env else ""
    for anchor in timer_anchors(plan):
        name = PREFIX + _slug(anchor)
        days = ",".join(DAY_NAMES[d] for d in sorted(anchor.days))
        exec_start = " ".join(_systemd_word(a) for a in [*command, *start_args(anchor)])
        files[name + ".service"] = (
            "[Unit]\n"
            f"Description=Claude Watch: start the 5-hour window planned at {anchor.id} (verified)\n"
            "\n"
            "[Service]\n"
            "Type=oneshot\n"
            f"{env}"
            f"ExecStart={exec_start}\n"
            "TimeoutStartSec=300\n"
        )
        files[name + ".timer"] = (
            "[Unit]\n"
            f"Description=Claude Watch: 5-hour window anchor {anchor.id} ({format_days(anchor.days)})\n"
            "\n"
            "[Timer]\n"
            f"OnCalendar={days} *-*-* {anchor.id}:00\n"
            "Persistent=false\n"
            "AccuracySec=30s\n"
            f"Unit={name}.service\n"
            "\n"
            "[Install]\n"
            "WantedBy=timers.target\n"
        )
    return files


# --- macOS: LaunchAgents ---------------------------------------------------------------------------


def launchd_files(plan: Plan, command: list[str], path_env: str | None = None) -> dict[str, bytes]:
    """``{plist file name: contents}``: a LaunchAgent per auto anchor (launchd's Weekday: 0 = Sunday;
    ``path_env``: the job's PATH, launchd's own lacks Homebrew and ``~/.local/bin``)."""
    files: dict[str, bytes] = {}
    for anchor in timer_anchors(plan):
        label = LAUNCHD_LABEL + _slug(anchor)
        times = [
            {"Weekday": (d + 1) % 7, "Hour": anchor.at.hour, "Minute": anchor.at.minute}
            for d in sorted(anchor.days)
        ]
        data: dict[str, object] = {
            "Label": label,
            "ProgramArguments": [*command, *start_args(anchor)],
            "StartCalendarInterval": times,
            "RunAtLoad": False,
            "ProcessType": "Background",
        }
        if path_env:
            data["EnvironmentVariables"] = {"PATH": path_env}
        files[label + ".plist"] = plistlib.dumps(data)
    return files


# --- Windows: scheduled tasks ---------------------------------------------------------------------


def schtasks_files(plan: Plan, command: list[str]) -> dict[str, str]:
    """``{task name: Task Scheduler XML}`` per auto anchor (written as UTF-16 for ``schtasks /XML``)."""
    files: dict[str, str] = {}
    for anchor in timer_anchors(plan):
        days = "".join(f"<{WIN_DAYS[d]} />" for d in sorted(anchor.days))
        args = subprocess.list2cmdline([*command[1:], *start_args(anchor)])
        files[f"Window {_slug(anchor)}"] = (
            '<?xml version="1.0" encoding="UTF-16"?>\n'
            '<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">\n'
            "  <RegistrationInfo>\n"
            f"    <Description>Claude Watch: start the 5-hour window planned at {anchor.id} "
            "(verified)</Description>\n"
            "  </RegistrationInfo>\n"
            "  <Triggers>\n"
            "    <CalendarTrigger>\n"
            f"      <StartBoundary>2026-01-01T{anchor.id}:00</StartBoundary>\n"
            "      <Enabled>true</Enabled>\n"
            f"      <ScheduleByWeek><DaysOfWeek>{days}</DaysOfWeek>"
            "<WeeksInterval>1</WeeksInterval></ScheduleByWeek>\n"
            "    </CalendarTrigger>\n"
            "  </Triggers>\n"
            "  <Principals><Principal><LogonType>InteractiveToken</LogonType>"
            "<RunLevel>LeastPrivilege</RunLevel></Principal></Principals>\n"
            "  <Settings>\n"
            "    <StartWhenAvailable>false</StartWhenAvailable>\n"
            "    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>\n"
            "    <ExecutionTimeLimit>PT5M</ExecutionTimeLimit>\n"
            "    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>\n"
            "  </Settings>\n"
            '  <Actions Context="Author">\n'
            f"    <Exec><Command>{escape(command[0])}</Command><Arguments>{escape(args)}</Arguments></Exec>\n"
            "  </Actions>\n"
            "</Task>\n"
        )
    return files


# --- install / uninstall (each on its own OS) --------------------------------------------------


def timer_dir(platform: str = sys.platform) -> Path:
    if platform == "darwin":
        return Path.home() / "Library" / "LaunchAgents"
    if platform == "win32":
        from trayapp import paths

        return paths.cache_dir() / "os-timer"  # the XML handed to schtasks; the task lives in Windows
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "systemd" / "user"


def installed(platform: str = sys.platform) -> list[Path]:
    """Our timer files present now (on Windows: the XML copies of the registered tasks)."""
    folder = timer_dir(platform)
    pattern = {"darwin": LAUNCHD_LABEL + "*.plist", "win32": "Window *.xml"}.get(platform, PREFIX + "*")
    return sorted(folder.glob(pattern)) if folder.is_dir() else []


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)


def install(plan: Plan, command: list[str] | None = None, *, run: Runner = _run) -> TimerReport:
    """Replace our timers with the plan's (the old ones go first); nothing to do: all removed."""
    from trayapp.platform.launcher import launcher_command
    from trayapp.store.files import atomic_write

    gone = uninstall(run=run)
    if not gone.ok:
        return gone
    cmd = command or launcher_command(gui=sys.platform == "win32")
    path_env = os.environ.get("PATH")  # the PATH `claude` is found on now, for the timer's runs
    folder = timer_dir()
    written: list[Path] = []
    if sys.platform == "darwin":
        for name, data in launchd_files(plan, cmd, path_env).items():
            atomic_write(folder / name, data, mode=0o644)
            written.append(folder / name)
            run(["launchctl", "bootstrap", f"gui/{os.getuid()}", str(folder / name)])
    elif sys.platform == "win32":
        for name, xml in schtasks_files(plan, cmd).items():
            path = folder / f"{name}.xml"
            atomic_write(path, xml.encode("utf-16"))
            written.append(path)
            done = run(["schtasks", "/Create", "/TN", f"{TASK_FOLDER}\\{name}", "/XML", str(path), "/F"])
            if done.returncode != 0:
                return TimerReport(
                    False, f"schtasks refused the task: {done.stderr.strip()[:200]}", tuple(written)
                )
    else:
        files = systemd_files(plan, cmd, path_env)
        for name, text in files.items():
            atomic_write(folder / name, text, mode=0o644)
            written.append(folder / name)
        run(["systemctl", "--user", "daemon-reload"])
        timers = [n for n in files if n.endswith(".timer")]
        if timers:
            done = run(["systemctl", "--user", "enable", "--now", *timers])
            if done.returncode != 0:
                why = done.stderr.strip()[:200]
                return TimerReport(
                    False, f"systemctl --user could not enable the timers: {why}", tuple(written)
                )
    if not written:
        return TimerReport(True, "No auto-start anchors: no OS timer is needed (none installed).")
    return TimerReport(
        True, f"OS timer installed for {len(timer_anchors(plan))} auto-start anchor(s).", tuple(written)
    )


def uninstall(*, run: Runner = _run) -> TimerReport:
    """Remove every timer of ours (stopped and unregistered first)."""
    files = installed()
    if sys.platform == "darwin":
        for path in files:
            run(["launchctl", "bootout", f"gui/{os.getuid()}", str(path)])
    elif sys.platform == "win32":
        for path in files:
            run(["schtasks", "/Delete", "/TN", f"{TASK_FOLDER}\\{path.stem}", "/F"])
    else:
        timers = [p.name for p in files if p.suffix == ".timer"]
        if timers:
            run(["systemctl", "--user", "disable", "--now", *timers])
    for path in files:
        try:
            path.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            return TimerReport(False, f"cannot remove {path}: {exc}")
    if files and sys.platform not in ("darwin", "win32"):
        run(["systemctl", "--user", "daemon-reload"])
    return TimerReport(
        True, f"OS timer removed ({len(files)} file(s))." if files else "No OS timer was installed."
    )
