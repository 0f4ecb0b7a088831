"""A hand-written stand-in for desktop_notifier.DesktopNotifier (records sends, scripted failures)."""

from __future__ import annotations

from typing import Any


class FakeNotifier:
    def __init__(
        self, capabilities: frozenset[Any] | None = None, send_error: Exception | None = None
    ) -> None:
        self.capabilities = capabilities
        self.send_error = send_error
        self.sent: list[dict[str, Any]] = []

    async def get_capabilities(self) -> frozenset[Any]:
        if self.capabilities is None:
            raise ConnectionError("org.freedesktop.Notifications was not provided by any .service files")
        return self.capabilities

    async def send(self, **kwargs: Any) -> str:
        if self.send_error is not None:
            raise self.send_error
        self.sent.append(kwargs)
        return f"id-{len(self.sent)}"
