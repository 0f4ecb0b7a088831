"""What the user reads when the keyring is locked or refused, against a REAL gnome-keyring.

Self-contained like ``test_keyring_secrets``: a private ``dbus-run-session``, HOME in a temp dir,
``gnome-keyring-daemon --unlock``, no DISPLAY (so the unlock prompt cannot show and fails, as over
SSH). A bot token is stored, then the login collection is locked over D-Bus (``secretstorage``):
``notify test --channel telegram`` must say the keyring is locked and how to unlock it (it said
"no bot token" although the token is stored) and ``doctor`` must show the keyring as locked (it
said ok). Unlocking the way the hint says (``gnome-keyring-daemon --replace --unlock``, the
password on stdin) makes both work again. A plaintext backend that cannot be loaded gives the
install hint, not "ModuleNotFoundError".
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
SECRET = "55555:LOCKED-keyring-secret_Qw7"

SCRIPT = r"""
set -u
echo -n cw-test-password | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1
printf '%s\n' "$SECRET" | "$PY" -m trayapp secrets set telegram-bot-token >/dev/null || exit 9
"$PY" -c "
import secretstorage
conn = secretstorage.dbus_init()
collection = secretstorage.get_default_collection(conn)
collection.lock()
print('LOCKED', collection.is_locked())
"
echo '== notify locked'
"$PY" -m trayapp notify test --channel telegram; echo "rc=$?"
echo '== doctor locked'
"$PY" -m trayapp doctor --json
echo '== unlock'
echo -n cw-test-password | gnome-keyring-daemon --replace --unlock --components=secrets >/dev/null 2>&1
sleep 1
echo '== notify unlocked'
"$PY" -m trayapp notify test --channel telegram; echo "rc=$?"
echo '== doctor unlocked'
"$PY" -m trayapp doctor --json
"$PY" -m trayapp secrets delete telegram-bot-token >/dev/null
"""


def _require(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        why = f"missing {', '.join(missing)} (apt install gnome-keyring libsecret-tools dbus)"
        if os.environ.get("CI") == "true":
            pytest.fail(why)
        pytest.skip(why)


def _keyring_check(doctor_json: str) -> dict[str, str]:
    import json

    start = doctor_json.index("[")
    checks = json.loads(doctor_json[start : doctor_json.rindex("]") + 1])
    (check,) = [c for c in checks if c["name"] == "Keyring"]
    return check  # type: ignore[no-any-return]


def test_a_locked_keyring_says_so(tmp_path: Path) -> None:
    _require("dbus-run-session", "gnome-keyring-daemon")
    home, app_home, runtime = tmp_path / "home", tmp_path / "cw-home", tmp_path / "run"
    for d in (home, app_home, runtime):
        d.mkdir(mode=0o700)
    server = TelegramServer(token=SECRET).start()
    try:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS", "PYTHON_KEYRING_BACKEND")
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
            capture_output=True, text=True, env=env, cwd=ROOT, timeout=180,
        )  # fmt: skip
    finally:
        server.stop()
    out = r.stdout
    assert "LOCKED True" in out, out + r.stderr
    sections = dict(part.split("\n", 1) for part in out.split("== ")[1:])
    notify_locked = sections["notify locked"]
    assert "telegram: FAILED - the keyring is locked" in notify_locked, notify_locked
    assert "gnome-keyring-daemon --replace --unlock" in notify_locked  # how to unlock it
    assert "no bot token" not in notify_locked
    assert "rc=1" in notify_locked
    locked = _keyring_check(sections["doctor locked"])
    assert locked["status"] == "warn"
    assert "locked" in locked["detail"]
    assert "unlock" in locked["fix"]
    # The hint works: unlocked, the same token delivers and doctor is content.
    assert "telegram: delivered" in sections["notify unlocked"], sections["notify unlocked"]
    assert _keyring_check(sections["doctor unlocked"])["status"] == "ok"
    assert len(server.messages) == 1
    assert SECRET not in out + r.stderr


def test_a_plaintext_backend_that_cannot_load_gives_the_install_hint(tmp_path: Path) -> None:
    """``PYTHON_KEYRING_BACKEND`` naming keyrings.alt's plaintext file backend where it is not
    installed (the usual case: it is a dev dependency only) said "ModuleNotFoundError"."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAUDE_WATCH_TELEGRAM")}
    env.update(
        CLAUDE_WATCH_HOME=str(tmp_path / "cw-home"),
        CLAUDE_WATCH_TELEGRAM_CHAT_ID="4242",
        PYTHON_KEYRING_BACKEND="keyrings.alt.not_installed.PlaintextKeyring",
        PYTHONPATH=str(ROOT),
    )

    def cli(*args: str, stdin: str | None = None) -> str:
        r = subprocess.run(
            [sys.executable, "-m", "trayapp", *args],
            input=stdin, capture_output=True, text=True, env=env, cwd=ROOT, timeout=60,
        )  # fmt: skip
        assert "Traceback" not in r.stderr, r.stderr
        return r.stdout + r.stderr

    for out in (
        cli("secrets", "set", "telegram-bot-token", stdin=SECRET),
        cli("notify", "test", "--channel", "telegram"),
        cli("doctor"),
    ):
        assert "ModuleNotFoundError" not in out, out
        assert "gnome-keyring" in out, out  # the install hint
        assert "cannot be loaded" in out, out
