"""Fixtures for the usage engine: the demo simulator as a loopback usage server, credentials."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from trayapp.demo import DemoHandle, start_demo

NOW = datetime(2026, 8, 10, 12, 0, tzinfo=UTC)
TOKEN = "sk-ant-oat01-TEST-FAKE-TOKEN-0123456789abcdef0123456789abcdef"


def write_credentials(
    config_dir: Path,
    *,
    token: str = TOKEN,
    expires_at: datetime | None = None,
    login_expires_at: datetime | None = None,
    scopes: list[str] | None = None,
    extra: dict[str, Any] | None = None,
    oauth: bool = True,
) -> Path:
    data: dict[str, Any] = {}
    if oauth:
        data["claudeAiOauth"] = {
            "accessToken": token,
            "refreshToken": "sk-ant-ort01-TEST-FAKE-REFRESH",
            "expiresAt": int((expires_at or NOW + timedelta(hours=8)).timestamp() * 1000),
            "refreshTokenExpiresAt": int((login_expires_at or NOW + timedelta(days=28)).timestamp() * 1000),
            "scopes": scopes if scopes is not None else ["user:inference", "user:profile"],
            "subscriptionType": "max",
            "rateLimitTier": "default_claude_max_5x",
        }
    data.update(extra or {})
    path = config_dir / ".credentials.json"
    path.write_text(json.dumps(data), "utf-8")
    path.chmod(0o600)
    return path


@pytest.fixture
def oauth_dir(fixtures_dir: Path) -> Path:
    return fixtures_dir / "oauth"


@pytest.fixture
def usage_server(claude_dir: Path) -> Iterator[DemoHandle]:
    """The simulator on a random loopback port, no random 429s, credentials in CLAUDE_CONFIG_DIR."""
    handle = start_demo(rate_limit_every=0, config_dir=claude_dir)
    write_credentials(claude_dir, expires_at=datetime.now(UTC) + timedelta(hours=8))
    try:
        yield handle
    finally:
        handle.stop()
