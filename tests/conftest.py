"""Hermetic test defaults: every app directory and Claude Code directory in a temp dir,
Qt offscreen, no real network, a qasync loop for async tests.

Integration tests (``-m integration``) that need real desktop services take the fixtures in
``tests/integration/conftest.py``; the app processes they start get their own environment.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("LANG", "C.UTF-8")
os.environ["NO_COLOR"] = "1"
# Quieten Qt's harmless multimedia and offscreen chatter in test logs.
os.environ.setdefault("QT_LOGGING_RULES", "qt.multimedia.*=false;qt.qpa.*=false")

# Fixtures shared across the test folders (which mirror the package): the loopback usage server and
# credentials, the ledger's transcript cases, alert channels' servers and keyring, status line dirs.
pytest_plugins = [
    "tests.helpers.fixtures_usage",
    "tests.helpers.fixtures_ledger",
    "tests.helpers.fixtures_channels",
    "tests.helpers.fixtures_statusline",
    "tests.helpers.fixtures_sessions",
]

FIXTURES = Path(__file__).parent / "fixtures"


def pytest_configure(config: pytest.Config) -> None:
    # The test process runs Qt event loops for services as well as widgets: make None immortal
    # where PySide6 leaks references to it, as the app does at start (a services-only run
    # otherwise crashed in "none_dealloc" after enough QTimer and file-watcher callbacks).
    from trayapp.platform import none_guard

    none_guard.install()


def _qasync_loop():
    import qasync
    from PySide6.QtWidgets import QApplication

    return qasync.QEventLoop(QApplication.instance() or QApplication([]))


def pytest_asyncio_loop_factories(config, item):
    """Async tests run on a plain asyncio loop unless marked ``qt_loop``.

    Many short-lived qasync loops in one process leave Qt socket notifiers and timers behind
    that crash the interpreter in a later ``processEvents`` (seen with PySide6 6.11 and 6.12).
    The app runs one qasync loop for its whole life, so the code is loop-agnostic; the tests
    that need Qt and asyncio together (services emitting signals from tasks, the app) are
    marked ``qt_loop``, and the app itself is exercised as a real child process.
    """
    import asyncio

    if item.get_closest_marker("qt_loop"):
        return {"qasync": _qasync_loop}
    return {"asyncio": asyncio.new_event_loop}


@pytest.fixture(autouse=True)
def _collect_on_the_main_thread(request: pytest.FixtureRequest) -> Iterator[None]:
    """Collect each test's garbage here, on the GUI thread. Left to Python, the cyclic collector
    runs on whichever thread allocates next, often a runtime lane's worker: a Qt object with
    timers (a finished test's watcher or service) is then destroyed off its thread ("Timers
    cannot be stopped from another thread"), which fails a later test or crashes the run."""
    yield
    if (
        "qtbot" in request.fixturenames
        or "qapp" in request.fixturenames
        or request.node.get_closest_marker("qt_loop")
    ):
        gc.collect()


@pytest.fixture(autouse=True)
def _keep_the_umask() -> Iterator[None]:
    """``trayapp.__main__.main`` makes its process's files private (umask 077); tests that call it
    in this process must not change the modes every later test creates files with."""
    mask = os.umask(0o022)
    os.umask(mask)
    yield
    os.umask(mask)


@pytest.fixture(autouse=True)
def hermetic_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point every app and Claude Code directory into ``tmp_path``; returns the app home."""
    home = tmp_path / "cw-home"
    claude = tmp_path / "claude-config"
    claude.mkdir()
    monkeypatch.setenv("CLAUDE_WATCH_HOME", str(home))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(claude))
    monkeypatch.setenv("CLAUDE_WATCH_API_BASE", "http://127.0.0.1:9")  # never the real endpoint
    # The autostart entry lives outside the app's folders ($XDG_CONFIG_HOME/autostart): never the
    # developer's real one.
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    for var in (
        "ANTHROPIC_API_KEY",
        "CLAUDE_CODE_OAUTH_TOKEN",
        "CLAUDE_WATCH_TELEGRAM_BOT_TOKEN",
        "CLAUDE_WATCH_TELEGRAM_CHAT_ID",
        "CLAUDE_WATCH_TELEGRAM_API_BASE",
        "ANTHROPIC_AUTH_TOKEN",
        "CLAUDE_WATCH_SLACK_WEBHOOK_URL",
        "ANTHROPIC_BASE_URL",
    ):
        monkeypatch.delenv(var, raising=False)
    return home


@pytest.fixture
def claude_dir() -> Path:
    """The temp ``CLAUDE_CONFIG_DIR`` set up by ``hermetic_env``."""
    return Path(os.environ["CLAUDE_CONFIG_DIR"])


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES
