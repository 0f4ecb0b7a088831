"""Keeps the running app's settings in step with ``settings.toml``.

``claude-watch config set`` and the user's editor write the file while the app runs. A
:class:`QFileSystemWatcher` watches the file and its folder (editors and atomic writes replace
the file, and a watcher on a replaced file goes quiet, so the folder's events re-arm it); a
cheap ``stat`` once a second catches what the watcher misses (network folders, a folder created
later). Events are coalesced for a moment, then :meth:`trayapp.settings.Settings.reload` reads the
file and tells its subscribers what changed. A file that does not parse (half-way through an
edit) is logged once and ignored: the last good settings stay in force.

Signals:
    reloaded(list): the keys whose values changed after a reload.
"""

from __future__ import annotations

import logging
import os

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal

from trayapp import paths
from trayapp.settings import Settings, SettingsFileError

log = logging.getLogger(__name__)

SETTLE_MS = 150  # events closer together than this are one change (an editor's save is several)
POLL_MS = 1000  # the stat fallback


def _signature(path: str) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns


class SettingsWatcher(QObject):
    reloaded = Signal(list)

    def __init__(
        self,
        settings: Settings,
        *,
        settle_ms: int = SETTLE_MS,
        poll_ms: int = POLL_MS,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.settings = settings
        self._file = str(settings.path)
        self._folder = str(settings.path.parent)
        self._watcher = QFileSystemWatcher(self)
        self._watcher.fileChanged.connect(self._soon)
        self._watcher.directoryChanged.connect(self._soon)
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(settle_ms)
        self._settle.timeout.connect(self.check)
        self._poll = QTimer(self)
        self._poll.setInterval(poll_ms)
        self._poll.timeout.connect(self._poll_tick)
        self._seen = _signature(self._file)
        self._last_problem: str | None = None

    def start(self) -> None:
        """Watch from now on; also picks up a change made since the settings were loaded."""
        try:
            paths.ensure(self.settings.path.parent)  # so the folder can be watched from the start
        except OSError as exc:
            log.warning("cannot create %s: %s; settings are checked once a second", self._folder, exc)
        self._arm()
        self._poll.start()
        self.check()

    def stop(self) -> None:
        self._poll.stop()
        self._settle.stop()
        watched = self._watcher.files() + self._watcher.directories()
        if watched:
            self._watcher.removePaths(watched)

    def _arm(self) -> None:
        """(Re)watch the folder and the file; a replaced or re-created file needs a new watch."""
        if self._folder not in self._watcher.directories() and os.path.isdir(self._folder):
            self._watcher.addPath(self._folder)
        if self._file not in self._watcher.files() and os.path.exists(self._file):
            self._watcher.addPath(self._file)

    def _soon(self, _path: str = "") -> None:
        self._settle.start()

    def _poll_tick(self) -> None:
        if _signature(self._file) != self._seen:
            self._settle.start()

    def check(self) -> list[str]:
        """Re-read the file now; returns the changed keys (none when it does not parse)."""
        self._arm()
        self._seen = _signature(self._file)
        before = list(self.settings.warnings)
        try:
            changed = self.settings.reload()
        except SettingsFileError as exc:
            problem = str(exc)
            if problem != self._last_problem:
                log.warning("settings: %s; keeping the last good settings", problem)
            self._last_problem = problem
            return []
        self._last_problem = None
        for warning in self.settings.warnings:
            if warning not in before:
                log.warning("settings: %s", warning)
        if changed:
            log.info("settings reloaded from %s: %s changed", self._file, ", ".join(changed))
            self.reloaded.emit(changed)
        return changed
