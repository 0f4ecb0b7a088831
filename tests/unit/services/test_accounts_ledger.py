"""The ledger by account: a ledger filled before accounts existed belongs to the default account
with unchanged totals; an added account's transcripts are scanned once and are its own; adding or
removing an account never loses or double-counts a request (a file's account is its root)."""

from __future__ import annotations

import json
from pathlib import Path

from trayapp.core.accounts import LedgerShare, ledger_by_account
from trayapp.sources.transcripts.discovery import transcript_roots
from trayapp.store.accounts_repo import AccountsRepo

WORK_SESSION = "44444444-4444-4444-8444-444444444444"


def work_transcript(folder: Path, requests: int) -> None:
    """A session of ``requests`` Sonnet requests (10 in, 100 out each) in ``folder/projects``."""
    project = folder / "projects" / "-work-job"
    project.mkdir(parents=True)
    lines = []
    for i in range(requests):
        lines.append(
            json.dumps(
                {
                    "type": "assistant",
                    "sessionId": WORK_SESSION,
                    "cwd": "/work/job",
                    "timestamp": f"2026-03-04T10:00:{i:02d}.000Z",
                    "requestId": f"req_W{i}",
                    "uuid": f"u-W{i}",
                    "message": {
                        "id": f"msg_W{i}",
                        "type": "message",
                        "role": "assistant",
                        "model": "claude-sonnet-4-5-20250929",
                        "usage": {"input_tokens": 10, "output_tokens": 100},
                    },
                }
            )
        )
    (project / f"{WORK_SESSION}.jsonl").write_text("\n".join(lines) + "\n", "utf-8")


def shares(tracker) -> dict[str, LedgerShare]:  # type: ignore[no-untyped-def]
    accounts = AccountsRepo().load()
    return ledger_by_account(accounts, transcript_roots(), tracker.repo.file_totals())


def test_adding_and_removing_an_account_moves_nothing_and_counts_once(
    cases: Path, tracker, tmp_path: Path
) -> None:
    # A ledger filled before accounts existed: all of it is the default account's.
    tracker.refresh(workers=1)
    before = tracker.sessions().totals.total
    entries = tracker.repo.counts()["entries"]
    alone = shares(tracker)
    assert set(alone) == {"default"}
    assert alone["default"].entries == entries
    assert alone["default"].tokens == before
    # Work is added: its transcripts are scanned once and are its own; the default's are unchanged.
    work = tmp_path / "claude-work"
    work_transcript(work, 3)
    AccountsRepo().add("Work", work)
    tracker.refresh(workers=1)
    tracker.refresh(workers=1)  # a second scan reads nothing new
    both = shares(tracker)
    assert both["default"] == alone["default"]
    assert both["Work"] == LedgerShare(3, 330, both["Work"].cost)
    assert tracker.sessions().totals.total == before + 330
    assert tracker.repo.counts()["entries"] == entries + 3
    # Work is removed: its rows stay in the ledger (nothing lost), in no account's total, and a
    # rescan neither drops nor copies them.
    AccountsRepo().remove("Work")
    tracker.refresh(workers=1)
    after = shares(tracker)
    assert after == {"default": alone["default"]}
    assert tracker.repo.counts()["entries"] == entries + 3
    assert tracker.repo.counts()["missing_files"] == 1
    # Added again under another label: its rows come back to it, counted once.
    AccountsRepo().add("Job", work)
    tracker.refresh(workers=1)
    again = shares(tracker)
    assert again["Job"].entries == 3
    assert tracker.repo.counts()["entries"] == entries + 3


def report(*args: str) -> dict:  # type: ignore[type-arg]
    import os
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "trayapp", "report", "daily", "--json", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=dict(os.environ),
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_report_account_shows_one_accounts_transcripts(cases: Path, tmp_path: Path) -> None:
    work = tmp_path / "claude-work"
    work_transcript(work, 3)
    AccountsRepo().add("Work", work)
    whole = report()
    mine = report("--account", "work", "--no-scan")
    home = report("--account", "default", "--no-scan")
    total = whole["totals"]["totalTokens"]
    assert mine["totals"]["totalTokens"] == 330
    assert [d["date"] for d in mine["daily"]] == ["2026-03-04"]
    assert home["totals"]["totalTokens"] + 330 == total
    assert "2026-03-04" not in [d["date"] for d in home["daily"]]
    import subprocess
    import sys

    nobody = subprocess.run(
        [sys.executable, "-m", "trayapp", "report", "--account", "Nobody"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert nobody.returncode == 2
    assert "no account named" in nobody.stderr
