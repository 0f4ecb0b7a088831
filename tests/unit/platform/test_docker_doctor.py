"""``doctor``'s containers section without an engine: nothing asked with no slots; with slots, a
missing token and a dead engine are failures that say what to do (the real engine's answers are in
tests/integration/test_agent_containers.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from trayapp import settings as settings_mod
from trayapp.cli.doctor import FAIL, INFO, Check
from trayapp.cli.doctor_containers import checks
from trayapp.platform import secrets as sec

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def test_no_slots_is_one_line_and_no_engine_is_asked(
    hermetic_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", "tcp://would-fail-if-asked:2375")
    assert checks(NOW) == [Check("Containers", INFO, "no container slots (agents.container_slots)")]


def test_no_token_and_no_engine_say_what_to_do(
    hermetic_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store: sec.SecretStore
) -> None:
    settings_mod.load().update({"agents.container_slots": ["box=claude-box:latest:2"]})
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path / 'none.sock'}")
    token, engine = checks(NOW)
    assert token == Check(
        "Container token",
        FAIL,
        "no Claude Code token for containers",
        "run `claude setup-token` and store it with `claude-watch secrets set claude-oauth-token`",
    )
    assert engine == Check(
        "Docker engine",
        FAIL,
        f"Docker is not running (no socket at {tmp_path / 'none.sock'})",
        "start it (sudo systemctl start docker) or set DOCKER_HOST",
    )
