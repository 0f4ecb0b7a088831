"""`claude-watch notify test` and `claude-watch telegram link`, end to end against loopback servers.

``notify test`` runs in a child process (its own event loop and, for sound, its own Qt app);
secrets come from the documented environment overrides there, and the keyring is pinned to the
refused ``null`` backend so the child never touches a real one.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.loopback_servers import AnthropicServer, SlackServer, TelegramServer
from trayapp import settings as st
from trayapp.__main__ import main
from trayapp.platform import secrets as sec

ROOT = Path(__file__).resolve().parents[3]


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full = dict(os.environ)
    full.pop("DBUS_SESSION_BUS_ADDRESS", None)  # no notification server: desktop must say so
    full.pop("DISPLAY", None)
    full.update({"PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring", **env})
    return subprocess.run(
        [sys.executable, "-m", "trayapp", *args],
        capture_output=True,
        text=True,
        env=full,
        cwd=ROOT,
        timeout=60,
    )


@pytest.fixture
def servers(
    telegram: TelegramServer, slack: SlackServer, anthropic_server: AnthropicServer
) -> dict[str, str]:
    anthropic_server.reply = "Ninety percent. Claude is pacing nervously."
    return {
        "CLAUDE_WATCH_TELEGRAM_API_BASE": telegram.base_url,
        "CLAUDE_WATCH_TELEGRAM_BOT_TOKEN": telegram.token,
        "CLAUDE_WATCH_TELEGRAM_CHAT_ID": "4242",
        "ANTHROPIC_BASE_URL": anthropic_server.base_url,
        "ANTHROPIC_API_KEY": anthropic_server.api_key,
    }


def test_notify_test_telegram_delivers_with_claude_quip(
    servers: dict[str, str], telegram: TelegramServer, anthropic_server: AnthropicServer
) -> None:
    r = run_cli("notify", "test", "--channel", "telegram", env=servers)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "telegram: delivered" in r.stdout
    assert "quip: Ninety percent. Claude is pacing nervously.  (written by Claude)" in r.stdout
    assert len(telegram.messages) == 1
    assert len(anthropic_server.calls) == 1
    text = telegram.messages[0]["text"]
    assert text.startswith("Ninety percent. Claude is pacing nervously.")
    assert "5-hour window at 90%" in text
    assert servers["CLAUDE_WATCH_TELEGRAM_BOT_TOKEN"] not in r.stdout + r.stderr


def test_notify_test_slack_with_llm_down_uses_canned(
    servers: dict[str, str], slack: SlackServer, anthropic_server: AnthropicServer
) -> None:
    anthropic_server.stop()
    env = {**servers, "CLAUDE_WATCH_SLACK_WEBHOOK_URL": slack.webhook_url}
    r = run_cli("notify", "test", "--channel", "slack", env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "slack: delivered" in r.stdout
    assert "(canned: Claude unavailable" in r.stdout
    assert len(slack.messages) == 1
    assert "5-hour window at 90%" in slack.messages[0]["text"]
    assert slack.webhook_url not in r.stdout + r.stderr


def test_notify_test_all_reports_every_channel(servers: dict[str, str], telegram: TelegramServer) -> None:
    r = run_cli("notify", "test", "--channel", "all", env=servers)
    lines = r.stdout.splitlines()
    assert "telegram: delivered (sent)" in lines
    assert any(line.startswith("slack: skipped - not configured") for line in lines)
    assert any(line.startswith("sound: skipped - off") for line in lines)
    # No D-Bus session here, so the desktop channel fails and says why; exit status follows.
    assert any(line.startswith("desktop: FAILED - no notification server") for line in lines), r.stdout
    assert r.returncode == 1
    assert len(telegram.messages) == 1


def test_notify_test_failure_reports_reason_and_leaves_no_queue(
    servers: dict[str, str], telegram: TelegramServer, hermetic_env: Path
) -> None:
    telegram.stop()
    r = run_cli("notify", "test", "--channel", "telegram", env=servers)
    assert r.returncode == 1
    assert "telegram: FAILED - queued: cannot reach Telegram" in r.stdout
    from trayapp.store.outbox_repo import Outbox

    box = Outbox(hermetic_env / "state" / "outbox.sqlite3")
    assert box.pending() == []  # a failed test message never pops up later
    box.close()


def test_notify_test_unconfigured_channel_fails_with_hint() -> None:
    r = run_cli("notify", "test", "--channel", "slack", env={})
    assert r.returncode == 1
    assert "secrets set slack-webhook-url" in r.stdout


@pytest.fixture
def token_env(telegram: TelegramServer, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("CLAUDE_WATCH_TELEGRAM_BOT_TOKEN", telegram.token)
    return telegram.token


def test_telegram_link_finds_the_chat(
    telegram: TelegramServer, token_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    telegram.chat_ids.add(777)
    telegram.add_private_message(4242, first_name="Old")
    telegram.add_private_message(777, first_name="Ada")
    code = main(["telegram", "link", "--wait", "0"])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "found chat Ada (private), id 777" in out.out
    assert "also seen: Old" in out.out
    cfg = st.load()
    assert cfg.get("telegram.chat_id") == "777"
    assert cfg.get("telegram.enabled") is True
    assert telegram.messages[-1]["chat_id"] == 777
    assert "linked" in telegram.messages[-1]["text"]
    assert token_env not in out.out + out.err


def test_telegram_link_without_messages(
    telegram: TelegramServer, token_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["telegram", "link", "--wait", "0"]) == 1
    assert "send any message to your bot" in capsys.readouterr().err
    assert st.load().get("telegram.chat_id") == ""


def test_telegram_link_bad_token(telegram: TelegramServer, monkeypatch, capsys) -> None:
    monkeypatch.setenv("CLAUDE_WATCH_TELEGRAM_BOT_TOKEN", "1:wrong-token")
    assert main(["telegram", "link", "--wait", "0"]) == 1
    err = capsys.readouterr().err
    assert "token was rejected" in err
    assert "wrong-token" not in err


def test_telegram_link_without_token(monkeypatch, capsys, store: sec.SecretStore) -> None:
    assert main(["telegram", "link", "--wait", "0"]) == 1
    assert "secrets set telegram-bot-token" in capsys.readouterr().err
