"""Shared helpers for the tracking tests: a copy of the hand-built cases tree and a ledger in tmp."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from trayapp.core.pricing import PriceTable
from trayapp.services.ledger_service import Tracker
from trayapp.store.ledger import LedgerRepo

FIX = Path(__file__).parents[1] / "fixtures" / "transcripts"
PRICES = Path(__file__).parents[2] / "resources" / "pricing.json"
S1 = "11111111-1111-4111-8111-111111111111"
S2 = "22222222-2222-4222-8222-222222222222"
S3 = "33333333-3333-4333-8333-333333333333"


@pytest.fixture
def cases(claude_dir: Path) -> Path:
    """The cases tree copied into the hermetic CLAUDE_CONFIG_DIR; returns its projects/ dir."""
    shutil.copytree(FIX / "cases" / "projects", claude_dir / "projects")
    return claude_dir / "projects"


@pytest.fixture
def table() -> PriceTable:
    return PriceTable.load(PRICES)


@pytest.fixture
def tracker(tmp_path: Path, table: PriceTable):
    from datetime import UTC

    repo = LedgerRepo.open(tmp_path / "ledger.sqlite3")
    t = Tracker(repo, table=table, tz=UTC, cost_mode="calculate")
    yield t
    repo.close()
