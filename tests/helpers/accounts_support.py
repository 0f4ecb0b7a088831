"""Several Claude Code logins for tests: a loopback usage endpoint that answers each token with its
own figures (and 429 for the tokens in ``limited``), and temp config folders signed in with them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.helpers.fixtures_usage import write_credentials
from tests.helpers.loopback_servers import LoopbackServer, Scripted
from trayapp.core.accounts import Account


class PerTokenUsage(LoopbackServer):
    """The usage endpoint with one reading per token; tokens in ``limited`` get a 429."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: dict[str, float] = {}
        self.limited: set[str] = set()
        self.calls: list[str] = []

    def handle(
        self, method: str, path: str, query: dict[str, str], body: Any, headers: dict[str, str]
    ) -> Scripted:
        token = (headers.get("Authorization") or "").removeprefix("Bearer ")
        self.calls.append(token)
        if token in self.limited:
            return 429, {"type": "error", "error": {"type": "rate_limit_error"}}, {"Retry-After": "900"}
        if token not in self.figures:
            return 401, {"type": "error", "error": {"type": "authentication_error"}}, {}
        reset = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
        weekly = (datetime.now(UTC) + timedelta(days=3)).isoformat()
        five = self.figures[token]
        return (
            200,
            {
                "five_hour": {"utilization": five, "resets_at": reset},
                "seven_day": {"utilization": five / 2, "resets_at": weekly},
            },
            {},
        )


def running() -> Iterator[PerTokenUsage]:
    """A started :class:`PerTokenUsage` (a fixture body: ``yield from running()``)."""
    srv = PerTokenUsage()
    srv.start()
    yield srv
    srv.stop()


def token(name: str) -> str:
    return f"sk-ant-oat01-TEST-{name}-0123456789abcdef0123456789abcdef"


def folders(tmp_path: Path, names: list[str], server: PerTokenUsage, figures: list[float]) -> list[Account]:
    out = []
    for i, (name, figure) in enumerate(zip(names, figures, strict=True)):
        d = tmp_path / f"claude-{name}"
        d.mkdir()
        write_credentials(d, token=token(name), expires_at=datetime.now(UTC) + timedelta(hours=8))
        server.figures[token(name)] = figure
        out.append(Account(name, d.absolute(), "default" if i == 0 else name))
    return out
