"""Claude Code version detection for the User-Agent: a real `claude` script on PATH, a day's cache."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from trayapp.sources.claude_version import FALLBACK_VERSION, detect_version, newest, parse_version


@pytest.fixture
def fake_claude(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "claude"
    counter = tmp_path / "calls"
    script.write_text(f'#!/bin/sh\necho x >> "{counter}"\necho "2.1.220 (Claude Code)"\n')
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return counter


NOW = datetime(2026, 8, 10, 12, 0, tzinfo=UTC)


def test_probes_once_a_day(fake_claude: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert detect_version(NOW, cache_dir=cache) == "2.1.220"
    assert detect_version(NOW + timedelta(hours=23), cache_dir=cache) == "2.1.220"
    assert fake_claude.read_text().count("x") == 1
    detect_version(NOW + timedelta(hours=25), cache_dir=cache)
    assert fake_claude.read_text().count("x") == 2


def test_newer_statusline_version_wins(fake_claude: Path, tmp_path: Path) -> None:
    assert detect_version(NOW, cache_dir=tmp_path, seen="2.1.300") == "2.1.300"
    assert detect_version(NOW, cache_dir=tmp_path, seen="2.0.9") == "2.1.220"


def test_fallback_without_claude(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert detect_version(NOW, cache_dir=tmp_path / "c") == FALLBACK_VERSION
    (tmp_path / "c" / "claude-version.json").write_text("{garbage")
    assert detect_version(NOW, cache_dir=tmp_path / "c", probe=False) == FALLBACK_VERSION


def test_version_helpers() -> None:
    assert parse_version("claude 2.1.7\n") == "2.1.7"
    assert parse_version("no version") is None
    assert newest("2.1.9", "2.1.10", None, "junk") == "2.1.10"
    assert newest(None) == FALLBACK_VERSION
