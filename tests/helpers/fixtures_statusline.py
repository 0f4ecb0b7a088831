"""Fixtures for the statusline tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def state_dir(hermetic_env: Path) -> Path:
    return hermetic_env / "state"
