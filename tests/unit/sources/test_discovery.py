"""Transcript discovery: which files are found, and the folder-listing cache that lets a warm rescan
stat each folder instead of reading it, without ever missing a new, removed or renamed file."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from trayapp import paths
from trayapp.sources.transcripts import discovery
from trayapp.sources.transcripts.discovery import CACHE_FILENAME, discover

OLD = time.time() - 3600  # folder mtimes an hour ago: listings of them are reusable


def _tree(root: Path) -> Path:
    projects = root / "projects"
    files = [
        "-work-app/s1.jsonl",
        "-work-app/s1/subagents/agent-1.jsonl",
        "-work-app/agent-legacy.jsonl",
        "-work-app/notes.txt",
        "-work-app/memory/m.jsonl",  # skipped folder
        "-work-app/s1/tool-results/t.jsonl",  # skipped folder
        "-work-app/workflows/w1/journal.jsonl",  # skipped workflow journal
        "-work-app/workflows/w1/run.jsonl",
        "-work-b/s2.jsonl",
    ]
    for rel in files:
        (projects / rel).parent.mkdir(parents=True, exist_ok=True)
        (projects / rel).write_text("{}\n")
    _age(projects)
    return projects


def _age(top: Path) -> None:
    for folder, _, _ in os.walk(top):
        os.utime(folder, (OLD, OLD))


def _paths(found: list[discovery.TranscriptFile], root: Path) -> list[str]:
    return [os.path.relpath(f.path, root) for f in found]


@pytest.fixture
def listings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records every folder actually read (scandir) by discovery."""
    read: list[str] = []
    real = discovery._list

    def spy(directory: str) -> tuple[list[str], list[str]]:
        read.append(directory)
        return real(directory)

    monkeypatch.setattr(discovery, "_list", spy)
    return read


def test_finds_transcripts_and_hints(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    found = discover([root])
    assert _paths(found, root) == [
        "-work-app/agent-legacy.jsonl",
        "-work-app/s1.jsonl",
        "-work-app/s1/subagents/agent-1.jsonl",
        "-work-app/workflows/w1/run.jsonl",
        "-work-b/s2.jsonl",
    ]
    hints = {os.path.relpath(f.path, root): (f.project_hint, f.session_hint) for f in found}
    assert hints["-work-app/s1/subagents/agent-1.jsonl"] == ("-work-app", "s1")
    assert hints["-work-app/agent-legacy.jsonl"] == ("-work-app", "agent-legacy")
    assert discover([root], listing_cache=False) == found


def test_unchanged_tree_is_not_read_again(tmp_path: Path, listings: list[str]) -> None:
    root = _tree(tmp_path)
    first = discover([root])
    assert len(listings) > 5
    assert (paths.cache_dir() / CACHE_FILENAME).is_file()
    listings.clear()
    assert discover([root]) == first
    assert listings == []


def test_new_removed_and_renamed_files_are_seen(tmp_path: Path, listings: list[str]) -> None:
    root = _tree(tmp_path)
    discover([root])
    (root / "-work-b" / "s3.jsonl").write_text("{}\n")
    (root / "-work-app" / "s1.jsonl").unlink()
    (root / "-work-app" / "s1" / "subagents" / "agent-1.jsonl").rename(
        root / "-work-app" / "s1" / "subagents" / "agent-9.jsonl"
    )
    (root / "-c").mkdir()
    (root / "-c" / "s4.jsonl").write_text("{}\n")
    listings.clear()
    got = _paths(discover([root]), root)
    assert got == [
        "-c/s4.jsonl",
        "-work-app/agent-legacy.jsonl",
        "-work-app/s1/subagents/agent-9.jsonl",
        "-work-app/workflows/w1/run.jsonl",
        "-work-b/s2.jsonl",
        "-work-b/s3.jsonl",
    ]
    assert sorted(os.path.relpath(d, root) for d in listings) == [
        "-c",
        "-work-app",
        "-work-app/s1/subagents",
        "-work-b",
        ".",  # it gained the new project folder
    ]


def test_a_folder_changed_just_before_its_listing_is_read_again(tmp_path: Path, listings: list[str]) -> None:
    # Its mtime is too close to the listing: a later change in the same timestamp tick could keep
    # that mtime, so the listing is not trusted until the folder has been quiet for a while.
    root = _tree(tmp_path)
    os.utime(root / "-work-b", None)  # now
    discover([root])
    listings.clear()
    discover([root])
    assert [os.path.relpath(d, root) for d in listings] == ["-work-b"]


BAD_CACHES = [b"not json", b"[]", b'{"version": 1, "dirs": {"x": 5}}', b'{"version": 9}', b"\xff\xfe"]


@pytest.mark.parametrize("content", BAD_CACHES)
def test_bad_cache_file_is_ignored(tmp_path: Path, content: bytes) -> None:
    root = _tree(tmp_path)
    expected = discover([root], listing_cache=False)
    cache = paths.ensure(paths.cache_dir()) / CACHE_FILENAME
    cache.write_bytes(content)
    assert discover([root]) == expected
    assert json.loads(cache.read_text())["version"] == 1  # rewritten


def test_any_mtime_change_means_a_new_listing(tmp_path: Path, listings: list[str]) -> None:
    # Even an mtime set back into the past (a restore, rsync -t): only equality is trusted.
    root = _tree(tmp_path)
    discover([root])
    (root / "-work-b" / "s5.jsonl").write_text("{}\n")
    os.utime(root / "-work-b", (OLD + 60, OLD + 60))
    listings.clear()
    assert "-work-b/s5.jsonl" in _paths(discover([root]), root)
    assert [os.path.relpath(d, root) for d in listings] == ["-work-b"]


def test_cache_entries_of_the_wrong_shape_are_ignored(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    expected = discover([root], listing_cache=False)
    discover([root])
    cache = paths.cache_dir() / CACHE_FILENAME
    data = json.loads(cache.read_text())
    for entry in data["dirs"].values():
        entry[2], entry[3] = [1, None], [{"x": 1}]  # same mtimes, nonsense names
    cache.write_text(json.dumps(data))
    assert discover([root]) == expected
