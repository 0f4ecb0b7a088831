"""Secrets round-trip in a REAL unlocked gnome-keyring (Secret Service over a private D-Bus).

Self-contained, as test-environment.md §5 shows: a private ``dbus-run-session``, HOME in a temp
dir, ``gnome-keyring-daemon --unlock --components=secrets``, no DISPLAY (so an unexpected prompt
cannot hang). The CLI stores a bot token from stdin, ``secret-tool`` reads it back from outside,
the secrets service reads it, ``notify test`` uses it against a loopback Telegram server, and it is
deleted. Then a grep over the app home and HOME proves the value is in no file and no log.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.loopback_servers import TelegramServer

ROOT = Path(__file__).resolve().parents[2]
SECRET = "55555:KEYRING-integration-secret_Zq9"

SCRIPT = r"""
set -eu
echo -n cw-test-password | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1
printf '%s\n' "$SECRET" | "$PY" -m trayapp secrets set telegram-bot-token
"$PY" -m trayapp secrets list
[ "$(secret-tool lookup service claude-watch username telegram-bot-token)" = "$SECRET" ] && echo LOOKUP_OK
"$PY" -c "
import os
from trayapp.platform.secrets import default_store
s = default_store()
print('BACKEND', s.backend_name())
print('GET_OK', s.get('telegram-bot-token') == os.environ['SECRET'])
"
"$PY" -m trayapp notify test --channel telegram
"$PY" -m trayapp secrets delete telegram-bot-token
secret-tool lookup service claude-watch username telegram-bot-token || echo GONE
"""


def _require(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        why = f"missing {', '.join(missing)} (apt install gnome-keyring libsecret-tools dbus)"
        if os.environ.get("CI") == "true":
            pytest.fail(why)
        pytest.skip(why)


def test_secrets_round_trip_in_gnome_keyring(tmp_path: Path) -> None:
    _require("dbus-run-session", "gnome-keyring-daemon", "secret-tool")
    home, app_home, runtime = tmp_path / "home", tmp_path / "cw-home", tmp_path / "run"
    for d in (home, app_home, runtime):
        d.mkdir(mode=0o700)
    server = TelegramServer(token=SECRET).start()
    try:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("DISPLAY", "DBUS_SESSION_BUS_ADDRESS", "PYTHON_KEYRING_BACKEND")
            and not k.startswith("CLAUDE_WATCH_TELEGRAM")
        }
        env.update(
            HOME=str(home),
            XDG_RUNTIME_DIR=str(runtime),
            XDG_DATA_HOME=str(home / ".local" / "share"),
            CLAUDE_WATCH_HOME=str(app_home),
            CLAUDE_WATCH_TELEGRAM_API_BASE=server.base_url,
            CLAUDE_WATCH_TELEGRAM_CHAT_ID="4242",
            SECRET=SECRET,
            PY=sys.executable,
            PYTHONPATH=str(ROOT),
        )
        r = subprocess.run(
            ["dbus-run-session", "--", "sh", "-c", SCRIPT],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=90,
        )
    finally:
        server.stop()
    out = r.stdout
    assert r.returncode == 0, out + r.stderr
    assert "telegram-bot-token stored in the keyring" in out
    assert "telegram-bot-token  set (keyring)" in out
    assert "LOOKUP_OK" in out
    assert "BACKEND keyring.backends.SecretService.Keyring" in out
    assert "GET_OK True" in out
    assert "telegram: delivered" in out
    assert "removed from the keyring" in out
    assert "GONE" in out
    assert len(server.messages) == 1  # the token from the keyring really worked
    # The value never went to the terminal, a file or a log.
    printed = out + r.stderr
    assert SECRET not in printed
    keyring_files = list((home / ".local" / "share" / "keyrings").glob("*"))
    assert keyring_files, "gnome-keyring should have created its collection under HOME"
    for root in (home, app_home):
        for path in root.rglob("*"):
            if path.is_file():
                assert SECRET.encode() not in path.read_bytes(), path


def test_notify_all_with_token_in_the_session_keyring(desktop_services, tmp_path: Path) -> None:
    """The issue's "done when": a bot token (in the real keyring) and a chat id set, `notify test
    --channel all` delivers everywhere configured (dunst + Telegram) with a Claude-written quip."""
    import json

    from tests.helpers.loopback_servers import AnthropicServer

    telegram = TelegramServer(token=SECRET).start()
    claude = AnthropicServer(reply="Ninety percent, and it isn't even lunch.").start()
    app_home = tmp_path / "cw-home"
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHON_KEYRING_BACKEND",) and not k.startswith("CLAUDE_WATCH_TELEGRAM")
    }
    env.update(
        CLAUDE_WATCH_HOME=str(app_home),
        CLAUDE_WATCH_TELEGRAM_API_BASE=telegram.base_url,
        ANTHROPIC_BASE_URL=claude.base_url,
        ANTHROPIC_API_KEY=claude.api_key,
        PYTHONPATH=str(ROOT),
    )

    def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "trayapp", *args],
            input=stdin, capture_output=True, text=True, env=env, cwd=ROOT, timeout=60,
        )  # fmt: skip

    try:
        assert cli("secrets", "set", "telegram-bot-token", stdin=SECRET).returncode == 0
        assert cli("config", "set", "telegram.chat_id", "4242").returncode == 0
        r = cli("notify", "test", "--channel", "all")
        cli("secrets", "delete", "telegram-bot-token")
    finally:
        telegram.stop()
        claude.stop()
    assert r.returncode == 0, r.stdout + r.stderr
    assert "desktop: delivered (notification server)" in r.stdout
    assert "telegram: delivered" in r.stdout
    assert "(written by Claude)" in r.stdout
    assert telegram.messages[0]["text"].startswith("Ninety percent, and it isn't even lunch.")
    subprocess.run(["dunstctl", "close-all"], check=True)  # displayed notifications move to history
    history = json.loads(subprocess.run(["dunstctl", "history"], capture_output=True, text=True).stdout)
    summaries = [n["summary"]["data"] for n in history["data"][0]]
    assert "5-hour window at 90%" in summaries
    assert SECRET not in r.stdout + r.stderr
    for path in app_home.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


async def test_channels_service_with_the_session_keyring(
    desktop_services, qapp, hermetic_env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The settings page's service in this process against the session's real gnome-keyring: the
    secret is stored on the keyring lane (``secret-tool`` reads it from outside), linking and
    "Send test" use it against a loopback Telegram server, and removing it empties the keyring."""
    from trayapp import settings as st
    from trayapp.channels.dispatcher import Dispatcher
    from trayapp.channels.quips import QuipWriter
    from trayapp.channels.telegram import TelegramChannel
    from trayapp.platform.secrets import SecretStore
    from trayapp.services.channels_service import ChannelsService, LinkOutcome
    from trayapp.store.outbox_repo import Outbox

    _require("secret-tool")
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)

    def lookup() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["secret-tool", "lookup", "service", "claude-watch", "username", "telegram-bot-token"],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip

    telegram = TelegramServer(token=SECRET).start()
    monkeypatch.setenv("CLAUDE_WATCH_TELEGRAM_API_BASE", telegram.base_url)
    telegram.add_private_message(4242, first_name="Ada")
    store = SecretStore()
    assert store.backend_name() == "keyring.backends.SecretService.Keyring"
    settings = st.load()
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    writer = QuipWriter(settings.get, store)
    dispatcher = Dispatcher(
        [TelegramChannel(outbox, settings.get, store, quips=writer)], writer, settings.get
    )
    service = ChannelsService(settings, store, lambda: dispatcher)
    try:
        assert await service.store_secret("telegram-bot-token", SECRET)
        assert lookup().stdout == SECRET  # really in gnome-keyring
        assert (await service.check("telegram-bot-token")).origin == "keyring"
        assert await service.link_chat() == LinkOutcome("Linked to Ada (chat 4242).", "4242")
        outcome = await service.send_test("telegram")
        assert outcome.result is not None
        assert outcome.result.by_channel()["telegram"].ok
        assert len(telegram.messages) == 1  # the token from the keyring worked
        assert await service.remove_secret("telegram-bot-token")
        assert lookup().returncode != 0  # gone
    finally:
        store.delete("telegram-bot-token")
        outbox.close()
        telegram.stop()
    for path in hermetic_env.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
