"""TrackingService (scan off the GUI thread, signals) and the local-usage popup panel."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.helpers.fixtures_ledger import S1
from trayapp import paths
from trayapp.core.clock import FakeClock
from trayapp.core.humanize import format_tokens
from trayapp.services.tracking_service import TrackingService
from trayapp.ui.panels.local_usage import LABEL, LocalUsagePanel, make_panel

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


async def test_refresh_scans_in_a_worker_and_emits_summary(cases: Path, qtbot) -> None:
    from trayapp import settings as st

    service = TrackingService(st.load(), clock=FakeClock(NOW), workers=1)
    seen: list[object] = []
    threads: list[str] = []
    service.summary_changed.connect(seen.append)
    original = service._scan_and_summarise

    def spy():
        threads.append(threading.current_thread().name)
        return original()

    service._scan_and_summarise = spy
    try:
        summary = await service.refresh()
    finally:
        await service.stop()
    assert threads
    assert threads[0].startswith("claude-watch-ledger")
    assert threads[0] != threading.main_thread().name
    assert seen == [summary]
    assert summary.date == "2026-03-01"
    assert summary.tally.total == 269_703
    # The one writer of today-cost.json: each of the app's scans refreshes it.
    data = json.loads((paths.state_dir() / "today-cost.json").read_text())
    assert (data["date"], data["tokens"]) == ("2026-03-01", 269_703)
    assert data["updated_at"] == "2026-03-01T12:00:00Z"
    assert data["cost_usd"] == pytest.approx(summary.tally.cost)
    assert summary.top_sessions[0][0] == S1
    assert summary.block is not None
    assert summary.block.is_active


async def test_export_and_failure_paths(cases: Path, tmp_path: Path, qtbot) -> None:
    service = TrackingService(clock=FakeClock(NOW), workers=1)
    finished: list[tuple[str, int]] = []
    failed: list[str] = []
    service.export_finished.connect(lambda p, n: finished.append((p, n)))
    service.scan_failed.connect(failed.append)
    try:
        await service.refresh()
        assert await service.export_csv("daily", tmp_path / "d.csv") == 3
        assert await service.export_csv("daily", tmp_path / "no-such-dir" / "d.csv") is None
    finally:
        await service.stop()
    assert finished == [(str(tmp_path / "d.csv"), 3)]
    assert failed
    assert failed[0].startswith("Export failed")


async def test_panel_shows_summary_and_progress(cases: Path, qtbot) -> None:
    service = TrackingService(clock=FakeClock(NOW), workers=1)
    panel = make_panel(service, ZoneInfo("Europe/Berlin"))
    qtbot.addWidget(panel)
    panel.set_progress(10, 100)
    assert not panel.progress.isHidden()
    assert panel.progress.value() == 100
    try:
        await service.refresh()
    finally:
        await service.stop()
    assert panel.progress.isHidden()
    assert LABEL in panel.caption.text()
    assert "269.7k" in panel.today.text()
    assert "$" in panel.today.text()
    # The block runs 10:00-15:00 UTC, shown in the panel's zone (CET in March); the clock is fake.
    assert panel.block.text() == (
        "5-hour block 11:00–16:00: 269.7k tokens, $0.21"
        "<br>burn 4.5k tokens/min, $0.21/h · projected 1.1M, $0.82 by 16:00"
    )
    assert "work/app" in panel.sessions.text()
    assert "work/other" not in panel.sessions.text()
    assert "Top projects" in panel.projects.text()


def test_panel_empty_state(qtbot) -> None:
    panel = LocalUsagePanel()
    qtbot.addWidget(panel)
    assert "Waiting for the first scan" in panel.today.text()
    assert format_tokens(999, compact=True) == "999"
    assert format_tokens(1_250_000, compact=True) == "1.2M"


@pytest.mark.parametrize("what", ["daily", "sessions", "snapshots"])
def test_export_menu_emits_request(qtbot, monkeypatch, tmp_path: Path, what: str) -> None:
    from PySide6.QtWidgets import QFileDialog

    panel = LocalUsagePanel()
    qtbot.addWidget(panel)
    target = str(tmp_path / "x.csv")
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (target, "CSV files (*.csv)"))
    with qtbot.waitSignal(panel.export_requested) as blocker:
        panel._ask_export(what)
    assert blocker.args == [what, target]
