"""Resumed sessions: a line copied verbatim (same time) into the resuming session's file, under
that session's id, stays with the session that wrote it first, whatever the ids' order
(user review #15: ties went to the smaller session id, 10 of 30 pairs wrong)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.fixtures.transcripts.make_cases import asst, u

ORIGINAL_LOW = "00000000-0000-4000-8000-000000000001"
ORIGINAL_HIGH = "ffffffff-ffff-4fff-8fff-fffffffffff1"
RESUMED_LOW = "00000000-0000-4000-8000-000000000002"
RESUMED_HIGH = "ffffffff-ffff-4fff-8fff-fffffffffff2"


def _write_pair(projects: Path, original: str, resumed: str) -> None:
    folder = projects / "-work-app"
    folder.mkdir(parents=True, exist_ok=True)
    first = [
        asst("msg_1", "req_1", "2026-03-01T10:00:00.000Z", original, u(100, 10)),
        asst("msg_2", "req_2", "2026-03-01T10:05:00.000Z", original, u(200, 20)),
    ]
    (folder / f"{original}.jsonl").write_bytes(b"".join(first))
    # The resumed file: the same lines, same times, under the new session's id; then its own.
    copies = [
        asst("msg_1", "req_1", "2026-03-01T10:00:00.000Z", resumed, u(100, 10)),
        asst("msg_2", "req_2", "2026-03-01T10:05:00.000Z", resumed, u(200, 20)),
        asst("msg_3", "req_3", "2026-03-02T09:00:00.000Z", resumed, u(4, 1)),
    ]
    (folder / f"{resumed}.jsonl").write_bytes(b"".join(copies))
    # The original was last written a day before the resumed file.
    os.utime(folder / f"{original}.jsonl", (1_772_359_500, 1_772_359_500))
    os.utime(folder / f"{resumed}.jsonl", (1_772_442_000, 1_772_442_000))


@pytest.mark.parametrize(
    ("original", "resumed"),
    [(ORIGINAL_LOW, RESUMED_HIGH), (ORIGINAL_HIGH, RESUMED_LOW)],
    ids=["original-id-smaller", "resumed-id-smaller"],
)
def test_copied_lines_stay_with_the_original_session(
    claude_dir: Path, tracker, original: str, resumed: str
) -> None:
    _write_pair(claude_dir / "projects", original, resumed)
    tracker.refresh(workers=1)
    rows = tracker.sessions().rows
    assert rows[original].total == 100 + 10 + 200 + 20
    assert rows[resumed].total == 4 + 1  # only its own line


def test_resumed_file_scanned_later_keeps_the_attribution(claude_dir: Path, tracker) -> None:
    """Found in two scans (original first, the resumed file later): the same result."""
    projects = claude_dir / "projects"
    _write_pair(projects, ORIGINAL_HIGH, RESUMED_LOW)
    resumed_file = projects / "-work-app" / f"{RESUMED_LOW}.jsonl"
    held = resumed_file.read_bytes()
    resumed_file.unlink()
    tracker.refresh(workers=1)
    resumed_file.write_bytes(held)
    tracker.refresh(workers=1)
    rows = tracker.sessions().rows
    assert rows[ORIGINAL_HIGH].total == 330
    assert rows[RESUMED_LOW].total == 5
