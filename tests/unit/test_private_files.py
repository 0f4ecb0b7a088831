"""Usage history, project paths, costs and logs are private to the user (issue 20).

Databases, logs and caches were created 0644, private only because their folders happened to be
0700: a folder restored from a backup as 0755 exposed them. Now every file the app creates is
0600 and every folder 0700 (the entry point's umask), and the app tightens existing ones at start.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from trayapp import paths

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX modes")
CASES = Path(__file__).resolve().parents[1] / "fixtures" / "transcripts" / "cases"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_existing_folders_and_files_are_tightened(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv(paths.HOME_ENV, str(home))
    dirs = paths.app_dirs()
    for folder in dirs.all().values():
        folder.mkdir(parents=True)
        folder.chmod(0o755)
    db = dirs.data / "ledger.sqlite3"
    db.write_bytes(b"x")
    db.chmod(0o644)
    nested = dirs.state / "statusline" / "sessions"
    nested.mkdir(parents=True)
    nested.chmod(0o755)
    nested.parent.chmod(0o755)
    capture = nested / "s1.json"
    capture.write_text("{}")
    capture.chmod(0o664)
    executable = dirs.cache / "tool"
    executable.write_text("")
    executable.chmod(0o755)
    outside = tmp_path / "outside.txt"  # a symlink's target is not ours to change
    outside.write_text("")
    outside.chmod(0o644)
    (dirs.cache / "link").symlink_to(outside)

    changed = paths.tighten_permissions(dirs)

    assert all(mode(folder) == 0o700 for folder in dirs.all().values())
    assert (mode(db), mode(nested), mode(capture), mode(executable)) == (0o600, 0o700, 0o600, 0o700)
    assert mode(outside) == 0o644
    assert changed == 5 + 5  # the five folders; db, statusline/, sessions/, capture, tool
    assert paths.tighten_permissions(dirs) == 0  # nothing left to do


def test_files_the_commands_create_are_private(tmp_path: Path) -> None:
    """A report creates the data folder and the ledger (with its -wal/-shm companions) 0700/0600
    even under a permissive umask."""
    config = tmp_path / "claude"
    shutil.copytree(CASES, config)
    home = tmp_path / "home"
    env = {**os.environ, "CLAUDE_WATCH_HOME": str(home), "CLAUDE_CONFIG_DIR": str(config)}
    done = subprocess.run(
        [sys.executable, "-m", "trayapp", "report", "daily"],
        capture_output=True,
        env=env,
        timeout=120,
        preexec_fn=lambda: os.umask(0o022),  # what a desktop session usually has
    )
    assert done.returncode == 0, done.stderr
    created = [home, *home.rglob("*")]
    assert any(p.name == "ledger.sqlite3" for p in created)
    loose = {str(p.relative_to(tmp_path)): oct(mode(p)) for p in created if mode(p) & 0o077}
    assert loose == {}
