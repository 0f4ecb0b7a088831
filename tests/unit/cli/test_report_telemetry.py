"""``claude-watch report daily --source telemetry|both``: the receiver's store per day and model, and
beside the transcripts (hand-built cases tree) with the difference."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.helpers.otlp_bodies import logs_message
from trayapp.__main__ import main
from trayapp.services.telemetry_service import TelemetryService
from trayapp.sources.otlp_decode import PROTOBUF


def report(capsys: pytest.CaptureFixture[str], *args: str) -> dict:  # type: ignore[type-arg]
    assert main(["report", "daily", "--json", "--timezone", "UTC", *args]) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def receive(day: str, model: str, tokens: int) -> None:
    service = TelemetryService(UTC)
    service.open_blocking()
    at = datetime.fromisoformat(f"{day}T12:00:00+00:00")
    for n in range(2):
        body = logs_message(
            int(at.timestamp() + n) * 10**9, model=model, input_tokens=str(tokens), cost_usd="0.25"
        )
        service.ingest_body("logs", body.SerializeToString(), PROTOBUF, None)
    assert service.repo is not None
    service.repo.close()


def test_telemetry_alone_and_beside_the_transcripts(cases: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ledger = report(capsys)["daily"]
    day = ledger[0]["date"]
    model = ledger[0]["modelBreakdowns"][0]["modelName"]
    kinds = ("inputTokens", "outputTokens", "cacheCreationTokens", "cacheReadTokens")
    transcript_tokens = sum(ledger[0]["modelBreakdowns"][0][k] for k in kinds)
    assert report(capsys, "--source", "telemetry")["daily"] == []
    receive(day, model, 1000)
    receive("2031-01-02", "claude-only-in-telemetry", 5)
    alone = report(capsys, "--source", "telemetry", "--no-scan")
    assert alone["label"] == "Claude Code telemetry (local estimate)"
    first = alone["daily"][0]
    assert (first["date"], first["model"]) == (day, model)
    assert first["telemetry"]["inputTokens"] == 2000
    assert first["telemetry"]["requests"] == 2
    assert first["telemetry"]["costUSD"] == 0.5
    both = report(capsys, "--source", "both")
    row = next(r for r in both["daily"] if (r["date"], r["model"]) == (day, model))
    assert row["transcripts"]["totalTokens"] == transcript_tokens
    assert row["difference"]["totalTokens"] == 2000 - transcript_tokens
    only = next(r for r in both["daily"] if r["model"] == "claude-only-in-telemetry")
    assert only["transcripts"] is None
    assert only["difference"]["totalTokens"] == 10
    assert main(["report", "daily", "--source", "both", "--timezone", "UTC", "--no-scan"]) == 0
    text = capsys.readouterr().out
    assert "Δ tokens" in text
    assert "Claude Code telemetry (local estimate)" in text
    assert main(["report", "monthly", "--source", "telemetry"]) == 2
