"""``claude-watch login status [--json]`` as a process over real credential files: signed in with
days left (exit 0), emptied credentials (signed out, exit 1), a lapsed login (exit 1); and ``login
open`` with a stand-in terminal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.helpers.fixtures_usage import write_credentials
from tests.helpers.login_support import ran, ran_env, stand_in_terminal


def login(home: Path, *args: str, path: str | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["HOME"] = str(home.parent / "fake-home")
    env.pop("TERMINAL", None)
    if path is not None:
        env["PATH"] = path
    return subprocess.run(
        [sys.executable, "-m", "trayapp", "login", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_signed_in_with_twelve_days_left(hermetic_env: Path, claude_dir: Path) -> None:
    now = datetime.now(UTC)
    write_credentials(
        claude_dir, expires_at=now + timedelta(hours=3), login_expires_at=now + timedelta(days=12, hours=6)
    )
    text = login(hermetic_env, "status")
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith("Login renews in 12 days (run `claude auth login` before ")
    assert "access token" in text.stdout
    out = login(hermetic_env, "status", "--json")
    data = json.loads(out.stdout)
    assert out.returncode == 0
    assert data["signed_in"] is True
    assert data["ok"] is True
    assert data["days_left"] == 12
    assert data["schema_version"] == 1
    assert data["account"] == "default"
    assert datetime.fromisoformat(data["deadline"]) > now


def test_emptied_credentials_are_signed_out(hermetic_env: Path, claude_dir: Path) -> None:
    (claude_dir / ".credentials.json").write_text(
        '{"claudeAiOauth": {"accessToken": "", "refreshToken": "", "expiresAt": 0}}'
    )
    out = login(hermetic_env, "status", "--json")
    data = json.loads(out.stdout)
    assert out.returncode == 1
    assert data["signed_in"] is False
    assert data["text"] == "Signed out: run `claude auth login`"
    assert "rejected" in data["reason"]


def test_a_lapsed_login_exits_1(hermetic_env: Path, claude_dir: Path) -> None:
    now = datetime.now(UTC)
    write_credentials(
        claude_dir, expires_at=now + timedelta(hours=3), login_expires_at=now - timedelta(hours=2)
    )
    out = login(hermetic_env, "status")
    assert out.returncode == 1
    assert out.stdout.startswith("Login lapsed on ")


def test_login_open_runs_claude_auth_login_in_a_terminal(hermetic_env: Path, tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    record = stand_in_terminal(bin_dir, "konsole")
    out = login(hermetic_env, "open", path=str(bin_dir))
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("Opened konsole")
    assert ran(record) == "auth login"
    none = login(hermetic_env, "open", path=str(tmp_path / "nothing"))
    assert none.returncode == 1
    assert "Run `claude auth login` yourself" in none.stderr


def test_every_account_is_listed_and_one_can_be_picked(
    hermetic_env: Path, claude_dir: Path, tmp_path: Path
) -> None:
    from trayapp.store.accounts_repo import AccountsRepo

    now = datetime.now(UTC)
    write_credentials(claude_dir, login_expires_at=now + timedelta(days=12, hours=6))
    work = tmp_path / "claude-work"
    work.mkdir()
    write_credentials(work, login_expires_at=now + timedelta(days=3, hours=6))
    lab = tmp_path / "claude-lab"
    lab.mkdir()  # no login yet
    repo = AccountsRepo()
    repo.add("Work", work)
    repo.add("Lab", lab)
    text = login(hermetic_env, "status")
    assert text.returncode == 1  # Lab is signed out
    assert text.stdout.startswith("default: Login renews in 12 days")
    assert (
        f"Work: Login renews in 3 days (run `CLAUDE_CONFIG_DIR={work} claude auth login` before "
        in text.stdout
    )
    assert "Lab: Signed out: run `CLAUDE_CONFIG_DIR=" in text.stdout
    data = json.loads(login(hermetic_env, "status", "--json").stdout)
    assert data["account"] == "default"
    assert [(a["account"], a["days_left"], a["ok"]) for a in data["accounts"]] == [
        ("default", 12, True),
        ("Work", 3, True),
        ("Lab", None, False),
    ]
    assert data["accounts"][1]["config_dir"] == str(work)
    picked = login(hermetic_env, "status", "--json", "--account", "work")
    assert picked.returncode == 0
    one = json.loads(picked.stdout)
    assert (one["account"], one["days_left"], len(one["accounts"])) == ("Work", 3, 1)
    assert one["text"].startswith("Login renews in 3 days")  # one account shown: no label
    missing = login(hermetic_env, "status", "--account", "Nope")
    assert missing.returncode == 2
    assert "No account named 'Nope'" in missing.stderr
    # open --account: the stand-in claude runs with Work's folder, not the inherited default's.
    bin_dir = tmp_path / "bin"
    record = stand_in_terminal(bin_dir, "xterm")
    opened = login(hermetic_env, "open", "--account", "Work", path=str(bin_dir))
    assert opened.returncode == 0, opened.stderr
    assert ran_env(record) == str(work)
