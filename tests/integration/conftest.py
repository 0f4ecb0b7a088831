"""Fixtures for tests that drive real desktop services.

``tests/integration/with-services.sh`` (which ``make test`` uses) starts a private D-Bus session,
Xvfb, an unlocked gnome-keyring, trayer and dunst, and exports ``CLAUDE_WATCH_SERVICES=1``.
Without them these tests skip with the reason; under ``CI=true`` they fail instead, because CI
must exercise the real services.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest


@dataclass(frozen=True)
class DesktopSession:
    display: str
    bus_address: str


def _require_services() -> DesktopSession:
    if os.environ.get("CLAUDE_WATCH_SERVICES") == "1":
        return DesktopSession(
            display=os.environ["DISPLAY"],
            bus_address=os.environ["DBUS_SESSION_BUS_ADDRESS"],
        )
    why = os.environ.get("CLAUDE_WATCH_SERVICES_MISSING", "not started")
    reason = f"desktop services unavailable ({why}); run under tests/integration/with-services.sh (make test)"
    if os.environ.get("CI") == "true":
        pytest.fail("CI=true: " + reason)
    pytest.skip(reason)


@pytest.fixture
def desktop_services() -> DesktopSession:
    """The running private desktop session (DISPLAY, D-Bus); skips or fails when absent."""
    return _require_services()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Everything under tests/integration is an integration test.
    for item in items:
        if "tests/integration/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.integration)
