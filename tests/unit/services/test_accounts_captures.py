"""Status line captures by account: the statusline command records its session's
``CLAUDE_CONFIG_DIR`` (a child process, as Claude Code runs it), and each account's engine takes
only its own captures (the shared ``rate-limits.json`` of another account is not its reading)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.helpers.statusline_support import FULL, run_process
from trayapp.core.accounts import Account
from trayapp.services.usage_accounts import capture_filter
from trayapp.sources.statusline_capture import capture_dir, fresh_snapshot
from trayapp.statusline.capture import LATEST


def payload(session: str, five: float) -> bytes:
    data = json.loads(FULL.read_text())
    data["session_id"] = session
    data["rate_limits"]["five_hour"]["used_percentage"] = five
    reset = int(time.time()) + 3600
    data["rate_limits"]["five_hour"]["resets_at"] = reset
    data["rate_limits"]["seven_day"]["resets_at"] = reset + 86400
    return json.dumps(data).encode()


def test_captures_are_filed_under_the_account_they_came_from(
    hermetic_env: Path, claude_dir: Path, tmp_path: Path
) -> None:
    work = (tmp_path / "claude-work").absolute()
    work.mkdir()
    accounts = [Account("default", claude_dir.absolute(), "default"), Account("Work", work, "Work")]
    # The default session runs without CLAUDE_CONFIG_DIR (plain ~/.claude), then a work session.
    home = run_process(payload("s-home", 21.0), env={"CLAUDE_CONFIG_DIR": ""})
    assert home.returncode == 0, home.stderr
    time.sleep(0.05)
    job = run_process(payload("s-work", 87.0), env={"CLAUDE_CONFIG_DIR": str(work)})
    assert job.returncode == 0, job.stderr
    latest = json.loads((capture_dir() / LATEST).read_text())
    assert latest["config_dir"] == str(work)  # the shared file now holds Work's numbers
    sessions = {p.stem: json.loads(p.read_text()) for p in (capture_dir() / "sessions").glob("*.json")}
    assert sessions["s-home"]["config_dir"] is None
    assert sessions["s-work"]["config_dir"] == str(work)
    now = datetime.now(UTC)
    mine = fresh_snapshot(now, timedelta(minutes=5), belongs=capture_filter(accounts[0], accounts))
    theirs = fresh_snapshot(now, timedelta(minutes=5), belongs=capture_filter(accounts[1], accounts))
    assert mine is not None
    assert theirs is not None
    assert mine.windows[0].utilization == 21.0
    assert theirs.windows[0].utilization == 87.0
    # A capture from a folder no account names is nobody's.
    stranger = [accounts[0], Account("Other", tmp_path / "other", "Other")]
    assert fresh_snapshot(now, timedelta(minutes=5), belongs=capture_filter(stranger[1], stranger)) is None


def test_plain_status_shows_the_default_accounts_capture_not_another_accounts(
    hermetic_env: Path, claude_dir: Path, tmp_path: Path
) -> None:
    import subprocess
    import sys

    from trayapp.store.accounts_repo import AccountsRepo

    work = (tmp_path / "claude-work").absolute()
    work.mkdir()
    AccountsRepo().add("Work", work)
    assert run_process(payload("s-home", 21.0), env={"CLAUDE_CONFIG_DIR": ""}).returncode == 0
    time.sleep(0.05)
    assert run_process(payload("s-work", 87.0), env={"CLAUDE_CONFIG_DIR": str(work)}).returncode == 0
    done = subprocess.run(
        [sys.executable, "-m", "trayapp", "status", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    doc = json.loads(done.stdout)
    assert doc["source"] == "statusline"
    assert doc["windows"][0]["utilization"] == 21.0
