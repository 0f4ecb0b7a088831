"""A termination signal (a desktop session logging out sends SIGTERM, Ctrl+C SIGINT, a closed
terminal SIGHUP) quits the real app along its normal shutdown path: exit code 0, services stopped,
the single-instance socket released."""

from __future__ import annotations

import os
import signal
import subprocess

import pytest

from tests.helpers.app_process import app_env, start_app, stop_app, wait_for
from tests.integration.conftest import DesktopSession
from tests.integration.test_tray_embed import tray_icon
from trayapp.logging_setup import log_file


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP], ids=lambda s: s.name)
def test_signal_quits_cleanly_and_a_new_instance_can_start(desktop_services: DesktopSession, sig) -> None:
    proc = start_app("--demo", env=app_env())
    try:
        assert wait_for(tray_icon, timeout=15), "the app did not start"
        os.kill(proc.pid, sig)
        try:
            code = proc.wait(10)
        except subprocess.TimeoutExpired:
            pytest.fail(f"signal {sig} did not stop the app")
        assert code == 0
        log = log_file().read_text(encoding="utf-8")
        assert f"signal {int(sig)}: quitting" in log
        assert "Claude Watch stopped" in log
    finally:
        stop_app(proc)
    # The single-instance socket was released: a new launch runs instead of deferring to a ghost.
    again = start_app("--demo", env=app_env())
    try:
        assert wait_for(tray_icon, timeout=15), stop_app(again)
        assert again.poll() is None
    finally:
        stop_app(again)
