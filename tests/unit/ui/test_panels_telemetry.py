"""The panels' telemetry figures without a server: a session's live cost and tokens with the
"local estimate" label, and the local-usage "today" that names its source."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from trayapp.core.aggregate import Tally
from trayapp.core.clock import FakeClock
from trayapp.core.sessions import Session, SessionState
from trayapp.core.telemetry import LABEL, SessionFigures, TelemetryTotals
from trayapp.ui.panels.local_usage import LocalUsagePanel
from trayapp.ui.panels.sessions import SessionsPanel, detail_text

NOW = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)
FIGURES = SessionFigures("a", requests=3, tokens=12_345, cost_usd=1.5, last_at=NOW, last_model="opus")


def session(sid: str) -> Session:
    return Session(sid, SessionState.WORKING, "proj", model="Opus", state_since=NOW - timedelta(minutes=2),
                   cost_usd=0.25)  # fmt: skip


def test_detail_text_prefers_the_telemetry_figures() -> None:
    assert detail_text(session("a"), NOW) == "for 2 min · Opus · $0.25"
    assert detail_text(session("a"), NOW, FIGURES) == "for 2 min · Opus · $1.50 · 12.3k tokens"


def test_the_panel_updates_rows_in_place_and_labels_the_source(qtbot: Any) -> None:
    panel = SessionsPanel(FakeClock(NOW))
    qtbot.addWidget(panel)
    panel.set_sessions([session("a"), session("b")])
    rows = list(panel.rows)
    assert not panel.caption.isVisibleTo(panel)
    panel.set_telemetry(TelemetryTotals(sessions={"a": FIGURES}))
    assert panel.rows == rows  # not rebuilt
    assert panel.row_for("a").detail.text().endswith("$1.50 · 12.3k tokens")  # type: ignore[union-attr]
    assert LABEL in panel.row_for("a").detail.toolTip()  # type: ignore[union-attr]
    assert panel.row_for("b").detail.toolTip() == ""  # type: ignore[union-attr]
    assert panel.caption.isVisibleTo(panel)
    panel.set_sessions([session("a"), session("c")])  # rebuilt rows keep the figures
    assert panel.figures_for("a") == FIGURES
    panel.set_telemetry(None)
    assert panel.figures_for("a") is None
    assert not panel.caption.isVisibleTo(panel)


def test_today_uses_telemetry_when_it_is_ahead_of_the_last_scan(qtbot: Any) -> None:
    panel = LocalUsagePanel()
    qtbot.addWidget(panel)
    tally = Tally()
    summary = type("Summary", (), {"tally": tally, "block": None, "top_sessions": [], "top_projects": [],
                                   "now_ms": 0})()  # fmt: skip
    panel.set_summary(summary)
    assert panel.today.text() == "No Claude Code requests today."
    panel.set_telemetry(TelemetryTotals(today_tokens=2_000, today_cost_usd=0.75))
    assert "Claude Code telemetry" in panel.today.text()
    assert "$0.75" in panel.today.text()
    assert LABEL in panel.today.toolTip()
    panel.set_telemetry(TelemetryTotals())  # nothing today: the transcripts again
    assert panel.today.text() == "No Claude Code requests today."
