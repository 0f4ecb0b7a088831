"""The real local API routes and server on an event loop in a thread, serving a state the caller
sets (issue 17): the web dashboard's wording test and its benchmark drive any
:class:`~trayapp.core.models.AccountState` through ``/v1/events`` without the tray app or a poll.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from trayapp.services.local_api import ApiSources, LocalApi
from trayapp.services.local_server import LocalServer
from trayapp.store import api_token


class InProcessApi:
    """The real API routes and server on an event loop in a thread, serving a state the test sets:
    to compare the page's words with the popup's (``core.humanize``) for any state.

    Args:
        state: the first AccountState served (``publish`` replaces it).
        history: ``(time, window id, utilization)`` rows for ``/v1/history`` (filtered by range).
    """

    SETTINGS = {
        "alerts.enabled": True,
        "alerts.desktop": True,
        "alerts.five_hour_thresholds": [90],
        "alerts.weekly_thresholds": [90],
    }

    def __init__(self, state: Any, history: Sequence[tuple[datetime, str, float]] = ()) -> None:
        self.state = state
        self.sessions: dict[str, Any] = {"schema_version": 1, "sessions": []}
        rows = list(history)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

        async def history_since(since: datetime) -> list[Any]:
            return [(t, wid, u, None) for t, wid, u in rows if t >= since]

        async def report(_since: date | None) -> dict[str, Any]:
            return {}

        sources = ApiSources(
            state=lambda: self.state,
            sessions=lambda: self.sessions,
            history=history_since,
            report_daily=report,
            get_setting=self.SETTINGS.__getitem__,
        )
        self.book = api_token.CodeBook()
        self.api = LocalApi(sources, token="t" * 40, book=self.book)
        self.server = LocalServer(self.api.routes())
        self.port = self._run(self.server.start())
        self.api.port = self.port
        self.publish(state)

    def _run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(15)

    def publish(self, state: Any) -> None:
        self.state = state
        self.loop.call_soon_threadsafe(self.api.publish_state, state)

    def publish_sessions(self, document: dict[str, Any]) -> None:
        self.sessions = document
        self.loop.call_soon_threadsafe(self.api.publish_sessions, document)

    def login_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/login?code={self.book.new_login_code()}"

    def stop(self) -> None:
        async def close() -> None:
            await self.api.events.close()
            await self.server.stop()

        self._run(close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()

    def shown_after_ms(
        self, browser: Any, watch: str, argument: Any, state: Any, timeout: float = 10
    ) -> float:
        """Publish ``state`` and return how long (ms) until the page saw it: ``watch`` (run with
        ``argument``) must set ``window.__seen = Date.now()`` once the page shows the reading."""
        browser.run(watch, argument)
        sent = time.time() * 1000
        self.publish(state)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            seen = browser.run("return window.__seen;")
            if seen is not None:
                return float(seen) - sent
        raise AssertionError(f"the page never showed the reading {argument!r}")
