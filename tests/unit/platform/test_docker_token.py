"""The container token: ``claude-watch secrets set claude-oauth-token`` stores it in our keyring
(never shown), an API key is refused for it, ``CLAUDE_CODE_OAUTH_TOKEN`` overrides it, and the
executor reads it from there (a missing one is the clear error, before any engine is asked)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.helpers.fake_keyring import MemoryKeyring
from tests.unit.platform.test_secrets import _cli
from trayapp.core.agents import Task, TaskSpec
from trayapp.core.container_slots import ContainerSlot
from trayapp.platform import secrets as sec
from trayapp.services.agent_containers import ContainerExecutor
from trayapp.services.agent_runner import RunError

TOKEN = "sk-ant-oat01-FAKE-TEST-TOKEN-not-a-real-login"


def test_the_token_is_stored_listed_and_never_shown(
    store: sec.SecretStore,
    keyring_backend: MemoryKeyring,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    code, out, _ = _cli(["secrets", "set", "claude-oauth-token"], capsys, TOKEN + "\n")
    assert code == 0
    assert "claude-oauth-token stored in the keyring" in out
    assert keyring_backend.values[("claude-watch", "claude-oauth-token")] == TOKEN
    code, listing, _ = _cli(["secrets", "list"], capsys)
    assert "claude-oauth-token  set (keyring)" in listing
    code, _, refused = _cli(["secrets", "set", "claude-oauth-token"], capsys, "sk-ant-api03-xyz\n")
    assert code == 2
    assert "that is an API key" in refused
    assert TOKEN not in out + listing + refused + caplog.text


def test_the_environment_overrides_the_keyring(
    store: sec.SecretStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.set("claude-oauth-token", TOKEN)
    monkeypatch.setenv("CLAUDE_CODE_OAUTH_TOKEN", "sk-ant-oat01-from-env")
    assert store.get("claude-oauth-token") == "sk-ant-oat01-from-env"
    assert store.status("claude-oauth-token").origin == "environment (CLAUDE_CODE_OAUTH_TOKEN)"


async def test_the_executor_needs_the_token_before_anything_else(
    store: sec.SecretStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path / 'no-engine.sock'}")
    executor = ContainerExecutor([ContainerSlot("box", "img:1", 1)], secrets=store)
    task = Task(id="t-1", spec=TaskSpec(prompt="hi", folder=str(tmp_path)), slot="docker:box")
    with pytest.raises(RunError) as caught:
        await executor.run(task, lambda _line: None, lambda _code, _err: None)
    assert str(caught.value) == (
        "no Claude Code token for containers: run `claude setup-token` and store it with "
        "`claude-watch secrets set claude-oauth-token`"
    )
    store.set("claude-oauth-token", TOKEN)
    with pytest.raises(RunError, match="Docker is not running"):  # now the engine is asked
        await executor.run(task, lambda _line: None, lambda _code, _err: None)
    await executor.aclose()


async def test_a_missing_folder_fails_before_any_engine_is_asked(
    store: sec.SecretStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", "tcp://would-fail-differently:2375")
    store.set("claude-oauth-token", TOKEN)
    executor = ContainerExecutor([ContainerSlot("box", "img:1", 1)], secrets=store)
    gone = tmp_path / "gone"
    task = Task(id="t-2", spec=TaskSpec(prompt="hi", folder=str(gone)), slot="docker:box")
    with pytest.raises(RunError, match=f"the folder {gone} does not exist"):
        await executor.run(task, lambda _line: None, lambda _code, _err: None)
    await executor.aclose()
