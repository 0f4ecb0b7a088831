"""The command that starts this installation of Claude Watch, for files that outlive the process.

"Start at login" and ``statusline --install`` write a command into files read long after this
process is gone (an autostart entry, the HKCU Run value, Claude Code's ``settings.json``). That
command must name the installed launcher, not where the running code happens to sit:

- an AppImage runs from a temporary mount (``/tmp/.mount_*``, or ``/tmp/appimage_extracted_*``
  with ``--appimage-extract-and-run``) that vanishes when it exits: the runtime's ``$APPIMAGE``
  (the ``.AppImage`` file) is the launcher, trusted only when ``$APPDIR`` holds this executable
  (the variables leak into every child of an AppImage'd terminal);
- the .deb's bundle in ``/usr/lib/claude-watch`` is started through ``/usr/bin/claude-watch``;
- on Windows the bundle has two executables over one ``_internal``: ``claude-watch.exe``
  (console: the CLI and the status line, whose output Claude Code reads) and ``ClaudeWatch.exe``
  (windowed: the tray, so login opens no terminal window); ``gui=True`` asks for the latter;
- any other frozen build (the portable folder, the macOS ``.app``) is its own executable, except
  from a temporary place (an AppImage mount without ``$APPIMAGE``, macOS App Translocation):
  :class:`NoStableLauncher`;
- a pip, pipx or venv install runs its ``claude-watch`` console script (the one on ``PATH`` when
  it is the same file, so a pipx install keeps working after its venv is rebuilt), and a bare
  checkout ``python -m trayapp``.

Cheap to import (``os``, ``sys``, ``shutil`` only): ``statusline --install`` runs it.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

CONSOLE_EXE = "claude-watch.exe"
WINDOWED_EXE = "ClaudeWatch.exe"
DEB_LIB = Path("/usr/lib/claude-watch")
DEB_BIN = Path("/usr/bin/claude-watch")
# Places a frozen app can run from that are gone (or moved) after it exits.
_TEMPORARY_MARKERS = ("/.mount_", "/appimage_extracted_", "/AppTranslocation/")


class NoStableLauncher(OSError):
    """The app runs from a temporary place and nothing says where it is installed."""


def launcher_command(*, gui: bool = False) -> list[str]:
    """The argv prefix that starts this installation (``gui``: the tray's launcher, which differs
    only on Windows). Raises :class:`NoStableLauncher` from a temporary mount."""
    if getattr(sys, "frozen", False):
        return [_frozen_launcher(gui)]
    script = _console_script()
    if script is not None:
        return [script]
    return [os.path.abspath(sys.executable), "-m", "trayapp"]


def _frozen_launcher(gui: bool) -> str:
    exe = os.path.abspath(sys.executable)
    appimage, appdir = os.environ.get("APPIMAGE"), os.environ.get("APPDIR")
    if appimage and appdir and _inside(exe, appdir) and os.path.isfile(appimage):
        return os.path.abspath(appimage)
    if sys.platform == "win32":
        folder = Path(exe).parent
        for name in (WINDOWED_EXE, CONSOLE_EXE) if gui else (CONSOLE_EXE,):
            if (folder / name).is_file():
                return str(folder / name)
        return exe
    if Path(exe).parent == DEB_LIB and _same_file(str(DEB_BIN), exe):
        return str(DEB_BIN)
    if _temporary(exe):
        raise NoStableLauncher(
            f"Claude Watch runs from a temporary place ({Path(exe).parent}); "
            "install it (or start the AppImage itself) and try again"
        )
    return exe


def _console_script() -> str | None:
    """The ``claude-watch`` script of this install: the one that started us, or the one next to
    this interpreter; the ``PATH`` entry instead when it is the same file (pipx's link)."""
    names = ("claude-watch.exe", "claude-watch") if sys.platform == "win32" else ("claude-watch",)
    candidates: list[str] = []
    argv0 = sys.argv[0] if sys.argv else ""
    if os.path.basename(argv0).lower().startswith("claude-watch") and os.path.isfile(argv0):
        candidates.append(os.path.abspath(argv0))
    folder = os.path.dirname(os.path.abspath(sys.executable))
    candidates += [os.path.join(folder, name) for name in names if os.path.isfile(os.path.join(folder, name))]
    if not candidates:
        return None
    on_path = shutil.which("claude-watch")
    if on_path and _same_file(on_path, candidates[0]):
        return os.path.abspath(on_path)
    return candidates[0]


def _inside(path: str, folder: str) -> bool:
    try:
        return os.path.commonpath([os.path.realpath(path), os.path.realpath(folder)]) == os.path.realpath(
            folder
        )
    except ValueError:  # different drives on Windows
        return False


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _temporary(path: str) -> bool:
    real = os.path.realpath(path)
    return any(marker in p for p in (path, real) for marker in _TEMPORARY_MARKERS)
