"""The secrets service and `claude-watch secrets`: keyring only, timeouts, refusals, no leaks."""

from __future__ import annotations

import asyncio
import io
import logging
import time
from pathlib import Path

import keyring
import pytest

from tests.helpers.fake_keyring import MemoryKeyring, plaintext_keyring
from trayapp import settings as st
from trayapp.__main__ import main
from trayapp.platform import secrets as sec

TOKEN = "987654:SECRET-never-shown_xyz"


def test_round_trip_and_env_override(store: sec.SecretStore, monkeypatch: pytest.MonkeyPatch) -> None:
    assert store.get("telegram-bot-token") is None
    store.set("telegram-bot-token", TOKEN)
    assert store.get("telegram-bot-token") == TOKEN
    assert store.status("telegram-bot-token").origin == "keyring"
    monkeypatch.setenv("CLAUDE_WATCH_TELEGRAM_BOT_TOKEN", "111:from-env")
    assert store.get("telegram-bot-token") == "111:from-env"
    assert store.status("telegram-bot-token").origin == "environment (CLAUDE_WATCH_TELEGRAM_BOT_TOKEN)"
    assert store.delete("telegram-bot-token")
    assert not store.delete("telegram-bot-token")
    assert store.get_stored("telegram-bot-token") is None
    with pytest.raises(sec.UnknownSecret):
        store.get("github-token")
    with pytest.raises(sec.SecretsError, match="empty"):
        store.set("slack-webhook-url", "  ")


async def test_async_api_runs_off_the_calling_thread(store: sec.SecretStore, keyring_backend) -> None:
    import threading

    seen: list[str] = []
    original = keyring_backend.get_password

    def spy(service: str, name: str) -> str | None:
        seen.append(threading.current_thread().name)
        return original(service, name)

    keyring_backend.get_password = spy
    await store.aset("anthropic-api-key", "sk-ant-api03-x")
    assert await store.aget("anthropic-api-key") == "sk-ant-api03-x"
    # The keyring lane's own thread: a keyring stuck on a prompt never holds up file or ledger work.
    assert seen
    assert all(name.startswith("claude-watch-keyring") for name in seen)


def test_no_backend_names_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    from keyring.backends import fail

    monkeypatch.setattr(keyring, "get_keyring", lambda: fail.Keyring())
    store = sec.SecretStore()
    with pytest.raises(sec.NoKeyringBackend, match="gnome-keyring") as info:
        store.get("telegram-bot-token")
    assert "KWallet" in str(info.value)
    assert store.get_quietly("telegram-bot-token") is None
    assert "keyring unavailable" in store.status("slack-webhook-url").origin


def test_plaintext_backends_are_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    plain = plaintext_keyring(tmp_path)
    monkeypatch.setattr(keyring, "get_keyring", lambda: plain)
    store = sec.SecretStore()
    with pytest.raises(sec.NoKeyringBackend, match=r"keyrings\.alt\.file\.PlaintextKeyring .* refused"):
        store.set("telegram-bot-token", TOKEN)
    assert not Path(plain.file_path).exists()  # nothing silently written to the file backend
    # The backend is a working one: used directly, it keeps the token in that file (base64, no more).
    plain.set_password("control", "user", TOKEN)
    assert Path(plain.file_path).exists()
    assert plaintext_keyring(tmp_path).get_password("control", "user") == TOKEN


def test_chainer_skips_refused_backends(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from keyring.backends.chainer import ChainerBackend

    real, plain = MemoryKeyring(), plaintext_keyring(tmp_path)
    real.priority = 0.1  # ranked below the file backend (0.5): only the refusal makes the store skip it
    chainer = ChainerBackend.__new__(ChainerBackend)
    monkeypatch.setattr(ChainerBackend, "backends", property(lambda self: [plain, real]))
    monkeypatch.setattr(keyring, "get_keyring", lambda: chainer)
    sec.SecretStore().set("slack-webhook-url", "https://hooks.slack.com/services/T/B/X")
    assert not Path(plain.file_path).exists()
    assert len(real.values) == 1


def test_doctor_calls_a_file_backend_no_keyring(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from trayapp.cli.doctor import WARN, check_keyring

    monkeypatch.setattr(keyring, "get_keyring", lambda: plaintext_keyring(tmp_path))
    check = check_keyring(datetime.now(UTC))
    assert check.status == WARN  # it said "ok: keyrings.alt.file.PlaintextKeyring" while the store refused it
    assert "keyrings.alt.file.PlaintextKeyring stores secrets in a file" in check.detail


def test_a_hung_keyring_times_out(keyring_backend: MemoryKeyring) -> None:
    keyring_backend.block.set()
    store = sec.SecretStore(backend=keyring_backend, timeout=0.2)
    start = time.monotonic()
    with pytest.raises(sec.KeyringTimeout, match="locked"):
        store.get("telegram-bot-token")
    assert time.monotonic() - start < 5
    keyring_backend.release.set()


async def test_a_hung_keyring_times_out_for_the_gui_too(keyring_backend: MemoryKeyring) -> None:
    keyring_backend.block.set()
    store = sec.SecretStore(backend=keyring_backend, timeout=0.2)
    loop = asyncio.get_running_loop()
    try:
        start = loop.time()
        with pytest.raises(sec.KeyringTimeout, match=r"within 0\.2 s while trying to store slack"):
            await store.aset("slack-webhook-url", "https://hooks.slack.com/services/T/B/X")
        assert loop.time() - start < 2  # the loop was free all along: the wait is an asyncio one
        assert await store.aget_quietly("telegram-bot-token") is None
        status = await store.astatus("anthropic-api-key")
        assert not status.is_set
        assert status.origin.startswith("keyring unavailable: the keyring did not answer")
    finally:
        keyring_backend.release.set()
    keyring_backend.block.clear()
    # Answered again once unlocked. The store the caller gave up on was not interrupted (a thread
    # cannot be): it went through late, as it did with a thread per call.
    assert await store.aget("slack-webhook-url") == "https://hooks.slack.com/services/T/B/X"


def _cli(argv: list[str], capsys: pytest.CaptureFixture[str], stdin: str = "") -> tuple[int, str, str]:
    import sys

    sys.stdin = io.StringIO(stdin)
    try:
        code = main(argv)
    finally:
        sys.stdin = sys.__stdin__
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_set_list_delete_never_shows_values(
    store: sec.SecretStore,
    keyring_backend: MemoryKeyring,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    hermetic_env: Path,
) -> None:
    caplog.set_level(logging.DEBUG)
    cfg = st.load()
    cfg.set("telegram.chat_id", "4242")
    cfg.save()
    code, out, err = _cli(["secrets", "set", "telegram-bot-token"], capsys, TOKEN + "\n")
    assert code == 0
    assert "stored in the keyring" in out
    assert keyring_backend.values[("claude-watch", "telegram-bot-token")] == TOKEN
    code, listing, err2 = _cli(["secrets", "list"], capsys)
    assert code == 0
    assert "telegram-bot-token  set (keyring)" in listing
    assert "slack-webhook-url   not set" in listing
    code, out3, err3 = _cli(["secrets", "delete", "telegram-bot-token"], capsys)
    assert code == 0
    assert "removed" in out3
    everything = out + err + listing + err2 + out3 + err3 + caplog.text
    assert TOKEN not in everything
    files = [p for p in hermetic_env.rglob("*") if p.is_file()]
    assert files  # the settings file exists...
    for p in files:
        assert TOKEN.encode() not in p.read_bytes(), p  # ...and holds no secret


def test_cli_rejects_bad_values(store: sec.SecretStore, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _cli(["secrets", "set", "slack-webhook-url"], capsys, "not-a-url")
    assert code == 2
    assert "hooks.slack.com" in err
    assert "not-a-url" not in err
    code, _, err = _cli(["secrets", "set", "anthropic-api-key"], capsys, "sk-ant-oat01-abcdef")
    assert code == 2
    assert "subscription" in err
    assert "abcdef" not in err
    code, _, err = _cli(["secrets", "set", "telegram-bot-token"], capsys, "")
    assert code == 2
    assert "nothing stored" in err


def test_cli_without_keyring_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from keyring.backends import fail

    monkeypatch.setattr(keyring, "get_keyring", lambda: fail.Keyring())
    monkeypatch.setattr(sec, "_default", None)
    code, out, err = _cli(["secrets", "set", "telegram-bot-token"], capsys, TOKEN)
    assert code == 1
    assert "gnome-keyring" in err
    assert TOKEN not in out + err


def test_redacting_filter() -> None:
    sec.register_sensitive("abc-secret-123")
    record = logging.LogRecord(
        "httpx", logging.INFO, "", 0, "HTTP Request: POST %s", ("https://x/abc-secret-123/y",), None
    )
    for f in logging.getLogger("httpx").filters:
        f.filter(record)
    assert record.getMessage() == "HTTP Request: POST https://x/***/y"
