"""TrackingService's periodic scan: an unexpected failure is counted and backed off (issue 19 item 4)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from trayapp.core.clock import FakeClock
from trayapp.services.tracking_service import TrackingService

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


async def test_a_failing_scan_backs_off_and_recovers(
    cases: Path, qtbot, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = TrackingService(clock=FakeClock(NOW), workers=1, interval_s=0.01)
    calls = 0
    original = service._scan_and_summarise

    def broken():
        nonlocal calls
        calls += 1
        raise OverflowError("Python int too large to convert to SQLite INTEGER")

    failures: list[str] = []
    service.scan_failed.connect(failures.append)
    monkeypatch.setattr(service, "_scan_and_summarise", broken)
    service.start()
    try:
        await asyncio.sleep(0.5)  # 50 turns of a 10 ms loop without the backoff
        assert calls == 1, calls
        assert service.health.streak == 1
        assert service._retry_in >= 60
        assert failures == ["Local usage scan failed: Python int too large to convert to SQLite INTEGER"]
        monkeypatch.setattr(service, "_scan_and_summarise", original)
        assert await service.refresh() is not None
        assert service.health.streak == 0
        assert service._retry_in == 0
    finally:
        await service.stop()
