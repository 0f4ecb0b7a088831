"""Open a terminal window running a command (the "Open sign-in" button: ``claude auth login``).

:func:`terminal_command` is pure: for a platform, the environment and a ``which`` it returns the
command line that opens a terminal running the command, or None when no terminal is found. Order:

- Windows: Windows Terminal (``wt``), else ``cmd /c start`` (a new console window); ``cmd /k``
  keeps the window open afterwards so the outcome can be read.
- Linux and other Unixes: ``$TERMINAL -e``, ``x-terminal-emulator -e``, ``gnome-terminal --``,
  ``konsole -e``, ``xterm -e``; the command runs under ``sh -c`` and waits for Enter at the end.
- macOS: Terminal through ``open -a Terminal`` on a ``.command`` script (written by
  :func:`open_terminal` into the cache folder), or ``osascript`` when no script path is given.

:func:`open_terminal` starts it detached (its own session, no pipes) and never waits for it: the
terminal belongs to the user. It is blocking only for the fork and exec: call it on a worker lane.

``command_env`` (an added account's ``CLAUDE_CONFIG_DIR``) is written into the command line itself
(``VAR=value command`` under ``sh``, ``set "VAR=value"&& command`` under ``cmd``), not only into the
terminal's environment: Terminal on macOS, a running Windows Terminal and gnome-terminal's server
start the command from a process of their own that never saw ours.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

Which = Callable[[str], str | None]

LINUX_TERMINALS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("x-terminal-emulator", ("-e",)),
    ("gnome-terminal", ("--",)),
    ("konsole", ("-e",)),
    ("xterm", ("-e",)),
)
PAUSE = 'printf "\\nPress Enter to close this window. "; read _'


_children: list[subprocess.Popen[bytes]] = []


class NoTerminalError(OSError):
    """No terminal program was found to run the command in."""


@dataclass(frozen=True, slots=True)
class TerminalLaunch:
    """What to run: ``argv``; on macOS also a ``.command`` script to write first (``script``)."""

    argv: tuple[str, ...]
    script: str | None = None
    script_path: Path | None = None


def _posix_line(command: Sequence[str], command_env: Mapping[str, str] | None = None) -> str:
    assigns = [f"{k}={shlex.quote(v)}" for k, v in (command_env or {}).items()]
    return " ".join([*assigns, shlex.join(command)])


def _cmd_escape(value: str) -> str:
    """A value for ``cmd``'s ``set``: its metacharacters escaped with ``^`` (``%`` doubled)."""
    return "".join("^" + c if c in '^&|<>()"' else "%%" if c == "%" else c for c in value)


def _windows_line(command: Sequence[str], command_env: Mapping[str, str] | None = None) -> str:
    sets = [f"set {k}={_cmd_escape(v)}&& " for k, v in (command_env or {}).items()]
    return "".join(sets) + subprocess.list2cmdline(list(command))


def _check_env(command_env: Mapping[str, str] | None) -> None:
    for k, v in (command_env or {}).items():
        if not k.replace("_", "").isalnum() or k[:1].isdigit() or "\x00" in v or "\n" in v or "\r" in v:
            raise NoTerminalError(f"cannot pass {k!r} to a terminal's command")


def terminal_command(
    command: Sequence[str],
    *,
    platform: str = sys.platform,
    env: Mapping[str, str] | None = None,
    which: Which = shutil.which,
    script_path: Path | None = None,
    command_env: Mapping[str, str] | None = None,
) -> TerminalLaunch | None:
    """How to open a terminal running ``command`` on ``platform`` (None: no terminal found), with
    ``command_env`` set for the command alone (NoTerminalError for a name or value that cannot be)."""
    _check_env(command_env)
    env = os.environ if env is None else env
    if platform.startswith("win"):
        line = _windows_line(command, command_env)
        if which("wt"):
            return TerminalLaunch(("wt", "cmd", "/k", line))
        return TerminalLaunch(("cmd", "/c", "start", "", "cmd", "/k", line))
    if platform == "darwin":
        line = _posix_line(command, command_env)
        if script_path is not None:
            script = f"#!/bin/sh\n{line}\n{PAUSE}\n"
            return TerminalLaunch(("open", "-a", "Terminal", str(script_path)), script, script_path)
        quoted = line.replace("\\", "\\\\").replace('"', '\\"')
        return TerminalLaunch(("osascript", "-e", f'tell application "Terminal" to do script "{quoted}"'))
    shell = ("sh", "-c", f"{_posix_line(command, command_env)}; {PAUSE}")
    chosen = env.get("TERMINAL", "").strip()
    if chosen:
        parts = shlex.split(chosen)
        if parts and which(parts[0]):
            return TerminalLaunch((*parts, "-e", *shell))
    for name, separator in LINUX_TERMINALS:
        if which(name):
            return TerminalLaunch((name, *separator, *shell))
    return None


def open_terminal(
    command: Sequence[str],
    *,
    platform: str = sys.platform,
    env: Mapping[str, str] | None = None,
    which: Which = shutil.which,
    script_dir: Path | None = None,
    command_env: Mapping[str, str] | None = None,
) -> TerminalLaunch:
    """Open a terminal running ``command`` (with ``command_env`` set for it), detached. Raises
    :class:`NoTerminalError` when no terminal is found, OSError when it cannot be started."""
    script_path = None
    if platform == "darwin":
        from trayapp import paths

        script_path = (script_dir or paths.cache_dir()) / "claude-watch-sign-in.command"
    launch = terminal_command(
        command, platform=platform, env=env, which=which, script_path=script_path, command_env=command_env
    )
    if launch is None:
        raise NoTerminalError("no terminal program found (set $TERMINAL to one)")
    if launch.script is not None and launch.script_path is not None:
        from trayapp.store.files import atomic_write

        atomic_write(launch.script_path, launch.script, mode=0o700)
    kwargs: dict[str, object] = {}
    if platform.startswith("win"):
        kwargs["creationflags"] = getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)
    else:
        kwargs["start_new_session"] = True
    # Kept until it ends (pruned on the next call): a dropped Popen of a live child warns.
    _children[:] = [c for c in _children if c.poll() is None]
    child = subprocess.Popen(
        list(launch.argv),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=dict(env) if env is not None else None,
        **kwargs,  # type: ignore[call-overload]
    )
    _children.append(child)
    return launch
