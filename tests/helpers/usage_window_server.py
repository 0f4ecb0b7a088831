"""A loopback usage endpoint whose 5-hour window the test sets, for the window scheduler's tests.

``GET /api/oauth/usage`` answers the real response shape with ``five_hour.resets_at`` =
:attr:`UsageWindowServer.five_reset` (None: no window open, as the server reports a closed one);
with :attr:`~UsageWindowServer.opens_on_ping` a window opens at the fake ``claude``'s first
recorded call, as a ping that counts against the subscription does.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.helpers.fake_claude import calls as read_calls
from tests.helpers.loopback_servers import LoopbackServer
from trayapp.sources.usage_api import USAGE_PATH


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when is not None else None


class UsageWindowServer(LoopbackServer):
    def __init__(self, calls_path: Path) -> None:
        super().__init__()
        self.five_reset: datetime | None = None
        self.opens_on_ping = False
        self.calls_path = calls_path

    def handle(
        self, method: str, path: str, query: Any, body: Any, headers: Any
    ) -> tuple[int, Any, dict[str, str]]:
        if path != USAGE_PATH:
            return 404, {"error": "not found"}, {}
        reset = self.five_reset
        if self.opens_on_ping and read_calls(self.calls_path):
            reset = datetime.now(UTC) + timedelta(hours=5)
        week = datetime.now(UTC) + timedelta(days=3)
        return (
            200,
            {
                "five_hour": {"utilization": 0.0 if reset is None else 4.0, "resets_at": _iso(reset)},
                "seven_day": {"utilization": 20.0, "resets_at": _iso(week)},
            },
            {},
        )
