"""``claude-watch accounts`` and ``status --account/--all`` end to end, as child processes, with
temp config folders signed in with different tokens against a loopback usage server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.helpers.accounts_support import PerTokenUsage, folders, running, token
from tests.helpers.fixtures_usage import write_credentials


@pytest.fixture
def server() -> Iterator[PerTokenUsage]:
    yield from running()


def cli(hermetic_env: Path, server: PerTokenUsage | None, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["HOME"] = str(hermetic_env.parent / "fake-home")  # never the developer's ~/.claude
    if server is not None:
        env["CLAUDE_WATCH_API_BASE"] = server.base_url
    return subprocess.run(
        [sys.executable, "-m", "trayapp", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_add_list_rename_remove(hermetic_env: Path, claude_dir: Path, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / ".claude.json").write_text(json.dumps({"oauthAccount": {"emailAddress": "me@work.example"}}))
    secret = "sk-ant-oat01-TEST-SECRET-never-printed-0123456789"
    write_credentials(work, token=secret, expires_at=datetime.now(UTC) + timedelta(hours=8))
    assert cli(hermetic_env, None, "accounts", "add", "Work", str(work)).returncode == 0
    bad = cli(hermetic_env, None, "accounts", "add", "work", str(tmp_path))
    assert bad.returncode == 2
    assert "already an account" in bad.stderr
    assert cli(hermetic_env, None, "accounts", "add", "X", str(tmp_path / "missing")).returncode == 2
    listed = cli(hermetic_env, None, "accounts", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert secret not in listed.stdout
    rows = json.loads(listed.stdout)["accounts"]
    assert [(r["label"], r["default"]) for r in rows] == [("default", True), ("Work", False)]
    assert rows[0]["config_dir"] == str(claude_dir.absolute())
    assert rows[1]["email"] == "me@work.example"
    assert rows[1]["readable"] is True
    assert rows[1]["credentials"] == "ok"
    assert rows[1]["days_left"] is not None
    text = cli(hermetic_env, None, "accounts", "list")
    assert "Work: " in text.stdout
    assert secret not in text.stdout
    assert cli(hermetic_env, None, "accounts", "rename", "Work", "Job").returncode == 0
    assert cli(hermetic_env, None, "accounts", "remove", "default").returncode == 2
    assert cli(hermetic_env, None, "accounts", "remove", "job").returncode == 0
    rows = json.loads(cli(hermetic_env, None, "accounts", "list", "--json").stdout)["accounts"]
    assert [r["label"] for r in rows] == ["default"]


def test_status_json_all_and_account(hermetic_env: Path, server: PerTokenUsage, tmp_path: Path) -> None:
    accounts = folders(tmp_path, ["Home", "Work", "Spare"], server, [12.0, 91.0, 40.0])
    env_default = Path(os.environ["CLAUDE_CONFIG_DIR"])
    # The default account is the hermetic CLAUDE_CONFIG_DIR: sign it in as "Home".
    (env_default / ".credentials.json").write_bytes(
        (accounts[0].config_dir / ".credentials.json").read_bytes()
    )
    for account in accounts[1:]:
        assert (
            cli(hermetic_env, None, "accounts", "add", account.label, str(account.config_dir)).returncode == 0
        )
    done = cli(hermetic_env, server, "status", "--json", "--all")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["schema_version"] == 1
    figures = {a["account_label"]: a["windows"][0]["utilization"] for a in doc["accounts"]}
    assert figures == {"default": 12.0, "Work": 91.0, "Spare": 40.0}
    assert server.calls == [token("Home"), token("Work"), token("Spare")]
    one = cli(hermetic_env, server, "status", "--json", "--account", "work")
    assert one.returncode == 0, one.stderr
    assert json.loads(one.stdout)["account_label"] == "Work"
    # Moments later the policy throttles a manual fetch: the stored reading of that account is shown.
    assert server.calls[3:] == []
    assert json.loads(one.stdout)["windows"][0]["utilization"] == 91.0
    missing = cli(hermetic_env, server, "status", "--account", "Nobody")
    assert missing.returncode == 2
    assert "no account named" in missing.stderr
    text = cli(hermetic_env, server, "status", "--all")
    assert "── Spare" in text.stdout
