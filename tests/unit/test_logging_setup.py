"""Rotating logs and the crash reporter (the dialog is replaced by a recorder)."""

from __future__ import annotations

import asyncio
import logging
import sys

from trayapp import logging_setup


def test_log_file_rotates(tmp_path) -> None:
    path = logging_setup.setup_logging()
    assert path is not None
    assert path.parent.is_dir()
    handler = next(h for h in logging.getLogger().handlers if getattr(h, "baseFilename", None) == str(path))
    handler.maxBytes = 2000
    for i in range(200):
        logging.getLogger("trayapp.test").info("line %d %s", i, "x" * 40)
    assert path.with_name(path.name + ".1").exists()
    for h in list(logging.getLogger().handlers):
        if getattr(h, "_claude_watch", False):
            logging.getLogger().removeHandler(h)
            h.close()


def test_excepthook_and_loop_handler_report_with_the_log_location() -> None:
    shown = []
    old = sys.excepthook
    reporter = logging_setup.install_crash_handlers(show=lambda s, d: shown.append((s, d)))
    try:
        try:
            raise ValueError("boom")
        except ValueError:
            sys.excepthook(*sys.exc_info())
        loop = asyncio.new_event_loop()
        try:
            reporter.loop_handler(loop, {"message": "task failed", "exception": KeyError("k")})
        finally:
            loop.close()
    finally:
        sys.excepthook = old
    assert len(shown) == 2
    assert "ValueError: boom" in shown[0][0]
    assert "Traceback" in shown[0][1]
    assert "KeyError" in shown[1][0]


def test_reporter_limits_dialogs() -> None:
    shown = []
    r = logging_setup.CrashReporter(lambda s, d: shown.append(s), limit=2)
    for i in range(5):
        r.report(f"e{i}", "")
    assert shown == ["e0", "e1"]
    assert r.count == 5
