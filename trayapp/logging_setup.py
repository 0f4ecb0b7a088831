"""Logging to rotating files, and crash safety for the tray app.

:func:`setup_logging` writes ``claude-watch.log`` in ``paths.log_dir()`` (1 MB, 3 backups) and
keeps warnings on stderr. :func:`install_crash_handlers` replaces ``sys.excepthook`` and sets
the asyncio loop's exception handler, so an unexpected exception is logged with its traceback
and shown in a dialog that says where the log is, instead of a silent death. Secrets never reach
the log: the modules that handle tokens log only what happened, not the values.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import logging.handlers
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from trayapp import paths

LOG_NAME = "claude-watch.log"
MAX_BYTES = 1_000_000
BACKUPS = 3
log = logging.getLogger("trayapp")


def log_file() -> Path:
    return paths.log_dir() / LOG_NAME


def setup_logging(level: int = logging.INFO, stderr_level: int = logging.WARNING) -> Path | None:
    """Attach a rotating file handler (and a stderr one) to the ``trayapp`` logger tree.

    Returns the log file, or None when the log directory cannot be written (logging then goes
    to stderr only; the app keeps running).
    """
    root = logging.getLogger()
    root.setLevel(min(level, stderr_level))
    fmt = logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    for h in list(root.handlers):
        if getattr(h, "_claude_watch", False):
            root.removeHandler(h)
            h.close()
    err = logging.StreamHandler(sys.stderr)
    err.setLevel(stderr_level)
    err.setFormatter(fmt)
    err._claude_watch = True  # type: ignore[attr-defined]
    root.addHandler(err)
    path = log_file()
    try:
        paths.ensure(path.parent)
        fh = _FullDiskTolerantHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8")
    except OSError as exc:
        log.warning("cannot write logs to %s: %s", path, exc)
        return None
    fh.setLevel(level)
    fh.setFormatter(fmt)
    fh._claude_watch = True  # type: ignore[attr-defined]
    root.addHandler(fh)
    return path


class _FullDiskTolerantHandler(logging.handlers.RotatingFileHandler):
    """The log file, quiet on a full disk: the stock handler prints a "--- Logging error ---"
    traceback to stderr for every record it cannot write. Records are dropped while the disk is
    full, with one line on stderr per episode; other failures are reported as usual."""

    disk_full = False
    _failed = False

    def emit(self, record: logging.LogRecord) -> None:
        self._failed = False
        super().emit(record)  # calls handleError on failure
        if not self._failed:
            self.disk_full = False  # written again: the next full disk is a new episode

    def handleError(self, record: logging.LogRecord) -> None:
        self._failed = True
        exc = sys.exc_info()[1]
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
            if not self.disk_full:
                self.disk_full = True
                sys.stderr.write(
                    f"claude-watch: disk full: log records are dropped until {self.baseFilename} has room\n"
                )
            return
        super().handleError(record)


ShowDialog = Callable[[str, str], None]


def _qt_dialog(summary: str, details: str) -> None:
    """A non-modal error dialog (no nested event loop inside an exception handler)."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication, QMessageBox

    if QApplication.instance() is None:
        return
    box = QMessageBox()
    box.setIcon(QMessageBox.Icon.Critical)
    box.setWindowTitle("Claude Watch: unexpected error")
    box.setText(summary)
    box.setInformativeText(f"Claude Watch keeps running. Details are in the log:\n{log_file()}")
    box.setDetailedText(details)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.finished.connect(lambda _=0, b=box: _open_dialogs.remove(b) if b in _open_dialogs else None)
    _open_dialogs.append(box)
    box.show()


_open_dialogs: list[Any] = []


class CrashReporter:
    """Logs unexpected exceptions and tells the user, at most a few times per session."""

    def __init__(self, show: ShowDialog | None = _qt_dialog, limit: int = 3) -> None:
        self.show = show
        self.limit = limit
        self.count = 0
        self.reports: list[str] = []

    def report(self, summary: str, details: str) -> None:
        log.error("%s\n%s", summary, details)
        self.reports.append(summary)
        self.count += 1
        if self.show is not None and self.count <= self.limit:
            try:
                self.show(summary, details)
            except Exception:
                log.exception("could not show the error dialog")

    def excepthook(self, etype: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        if issubclass(etype, KeyboardInterrupt):
            sys.__excepthook__(etype, value, tb)
            return
        details = "".join(traceback.format_exception(etype, value, tb))
        self.report(f"Claude Watch hit an unexpected error: {etype.__name__}: {value}", details)

    def loop_handler(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        message = context.get("message", "asyncio error")
        if exc is None:
            log.warning("asyncio: %s", message)
            return
        details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        self.report(f"Claude Watch hit an unexpected error in a background task: {exc!r}", details)


def install_crash_handlers(
    loop: asyncio.AbstractEventLoop | None = None, show: ShowDialog | None = _qt_dialog
) -> CrashReporter:
    """Route uncaught exceptions (Qt slots, asyncio tasks) to the log and a dialog."""
    reporter = CrashReporter(show)
    sys.excepthook = reporter.excepthook
    if loop is not None:
        loop.set_exception_handler(reporter.loop_handler)
    return reporter
