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


# --- claude-swap, read-only, switching only on request ----------------------------------------

FAKE_CSWAP = """#!{python}
import json, os, sys, time
state = os.environ["FAKE_CSWAP_STATE"]
with open(state + ".calls", "a") as fh:
    fh.write(" ".join(sys.argv[1:]) + "\\n")
mode = open(state + ".mode").read().strip()
if sys.argv[1:] == ["--list", "--json"]:
    if mode == "hang":
        time.sleep(30)
    if mode == "fail":
        sys.exit(3)
    version = 2 if mode == "v2" else 1
    print(json.dumps({{"schemaVersion": version, "activeAccountNumber": 1, "accounts": [
        {{"number": 1, "email": "me@home.example", "active": True,
          "usage": {{"fiveHour": {{"pct": 12}}, "sevenDay": {{"pct": 30}}}}}},
        {{"number": 2, "email": "Me@Work.example", "active": False, "usage": {{}}}}]}}))
elif sys.argv[1] == "--switch-to":
    print(json.dumps({{"ok": True}}))
"""


@pytest.fixture
def fake_cswap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    script = tmp_path / "cswap"
    script.write_text(FAKE_CSWAP.format(python=sys.executable))
    script.chmod(0o755)
    state = tmp_path / "cswap-state"
    (tmp_path / "cswap-state.mode").write_text("ok")
    monkeypatch.setenv("CLAUDE_WATCH_CSWAP", str(script))
    monkeypatch.setenv("FAKE_CSWAP_STATE", str(state))
    return state


def calls(state: Path) -> list[str]:
    path = state.with_name(state.name + ".calls")
    return path.read_text().splitlines() if path.exists() else []


def test_cswap_list_is_read_only_and_the_last_good_list_is_kept(hermetic_env: Path, fake_cswap: Path) -> None:
    done = cli(hermetic_env, None, "accounts", "cswap", "--json")
    assert done.returncode == 0, done.stderr
    slots = json.loads(done.stdout)["slots"]
    assert [(s["number"], s["email"], s["active"], s["five_hour"]) for s in slots] == [
        (1, "me@home.example", True, 12.0),
        (2, "Me@Work.example", False, None),
    ]
    fake_cswap.with_name("cswap-state.mode").write_text("v2")  # a schema this version cannot trust
    later = cli(hermetic_env, None, "accounts", "cswap", "--json")
    assert later.returncode == 1
    doc = json.loads(later.stdout)
    assert "schema version 1" in doc["problem"]
    assert [s["number"] for s in doc["slots"]] == [1, 2]  # the last good list
    assert calls(fake_cswap) == ["--list --json", "--list --json"]  # never a switch unasked


def test_cswap_times_out_and_fails_cleanly(fake_cswap: Path) -> None:
    from trayapp.sources import cswap

    fake_cswap.with_name("cswap-state.mode").write_text("hang")
    with pytest.raises(cswap.CswapError, match="did not answer"):
        cswap.list_slots(timeout=0.5)
    fake_cswap.with_name("cswap-state.mode").write_text("fail")
    with pytest.raises(cswap.CswapError, match="exited 3"):
        cswap.list_slots()
    for bad in (b"nope", b'{"schemaVersion": 1, "accounts": [{"number": true}]}', b"[]"):
        with pytest.raises(cswap.CswapError):
            cswap.parse_list(bad)


def test_switch_needs_a_cswap_slot_for_the_account(
    hermetic_env: Path, fake_cswap: Path, tmp_path: Path
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / ".claude.json").write_text(json.dumps({"oauthAccount": {"emailAddress": "me@work.example"}}))
    other = tmp_path / "other"
    other.mkdir()
    assert cli(hermetic_env, None, "accounts", "add", "Work", str(work)).returncode == 0
    assert cli(hermetic_env, None, "accounts", "add", "Other", str(other)).returncode == 0
    missing = cli(hermetic_env, None, "accounts", "switch", "Other")
    assert missing.returncode == 2
    assert "no slot" in missing.stderr
    assert not any(c.startswith("--switch-to") for c in calls(fake_cswap))
    done = cli(hermetic_env, None, "accounts", "switch", "work")
    assert done.returncode == 0, done.stderr
    assert calls(fake_cswap)[-1] == "--switch-to 2 --json"
