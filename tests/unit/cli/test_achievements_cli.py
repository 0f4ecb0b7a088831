"""``claude-watch achievements [--json]`` as a process over a real usage database: earned ones with
their dates, progress for the rest, and the note when achievements are off in the app."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from trayapp.core.models import Source, UsageSnapshot, Window, WindowKind
from trayapp.store.usage_repo import UsageRepo


def achievements(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["HOME"] = str(home.parent / "fake-home")
    env["TZ"] = "UTC"
    return subprocess.run(
        [sys.executable, "-m", "trayapp", "achievements", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_earned_ones_with_dates_and_progress_for_the_rest(hermetic_env: Path) -> None:
    reset = (datetime.now(UTC) - timedelta(days=2)).replace(microsecond=0)
    repo = UsageRepo.open()
    try:
        for k, util in enumerate((50.0, 93.0)):
            weekly = Window("seven_day", "Weekly", WindowKind.WEEKLY, util, reset, timedelta(days=7))
            repo.save_snapshot(UsageSnapshot(reset - timedelta(hours=2 - k), Source.API, (weekly,)))
    finally:
        repo.close()
    out = achievements(hermetic_env, "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["schema_version"] == 1
    assert data["enabled"] is False
    by_id = {a["id"]: a for a in data["achievements"]}
    assert len(by_id) >= 12
    assert by_id["surfer"]["earned_at"] == reset.isoformat()
    assert by_id["watcher"]["earned_at"] is not None
    assert by_id["steady"]["earned_at"] is None
    assert by_id["steady"]["note"] == "1 of 3 weeks"
    assert data["earned"] == 2
    text = achievements(hermetic_env)
    assert text.returncode == 0
    assert text.stdout.startswith("Achievements: 2 of ")
    assert "achievements.enabled true" in text.stdout
    assert "* Surfer" in text.stdout
