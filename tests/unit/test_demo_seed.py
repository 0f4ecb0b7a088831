"""The demo's seed (issue 20: "the demo's charts stay nearly empty and its panels are empty"): a week
of usage history with resets and a near-limit window, transcripts the real scan turns into a local
ledger, live sessions from memory; all of it inside the demo's own folder, fast."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from trayapp import paths
from trayapp.core.demo_history import usage_history
from trayapp.core.session_merge import merge_sessions
from trayapp.core.sessions import SessionState
from trayapp.demo import DEMO_ROOT_ENV, enter_demo_home

NOW = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)  # a Thursday


@pytest.fixture
def demo_env(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Enter a demo folder for this test only (the variables it sets are restored afterwards)."""
    monkeypatch.setenv(DEMO_ROOT_ENV, "")  # restored (unset) at teardown
    return enter_demo_home()


def tree(folder: Path) -> dict[str, int]:
    return (
        {str(p.relative_to(folder)): p.stat().st_size for p in folder.rglob("*")} if folder.exists() else {}
    )


def test_history_has_a_week_of_curves_resets_and_a_near_limit_window() -> None:
    samples = usage_history(
        NOW, five_now=37.0, five_reset=NOW + timedelta(minutes=6), week_now=27.0,
        week_reset=NOW + timedelta(hours=3),
    )  # fmt: skip
    assert len(samples) == 7 * 288 + 1
    assert samples[0].at == NOW - timedelta(days=7)
    assert samples[-1].at == NOW
    # It ends where the server's first answer is, so the chart meets the gauges.
    assert (samples[-1].five, samples[-1].week) == (37.0, 27.0)
    assert samples[-1].five_reset == NOW + timedelta(minutes=6)
    five = [s.five for s in samples]
    resets = sum(1 for a, b in zip(five, five[1:], strict=False) if b < a - 5)
    assert resets >= 5  # 5-hour windows fill and reset day after day
    assert 90 <= max(five) <= 100  # one episode near the limit
    assert sum(1 for v in five if v > 0) > len(five) // 5  # a curve, not a sliver at "now"
    assert len({s.week_reset for s in samples}) == 2  # the weekly reset seven days before the next
    again = usage_history(
        NOW, five_now=37.0, five_reset=NOW + timedelta(minutes=6), week_now=27.0,
        week_reset=NOW + timedelta(hours=3),
    )  # fmt: skip
    assert again == samples  # deterministic


def test_seeded_demo_has_history_transcripts_and_sessions_in_its_own_folder(tmp_path, demo_env) -> None:
    from trayapp.services.demo_seed import DEMO_DB, SESSIONS, sessions_reader, start_seeded_demo
    from trayapp.store.usage_repo import UsageRepo

    real_home, real_claude = Path(os.environ["CLAUDE_WATCH_HOME"]), Path(os.environ["CLAUDE_CONFIG_DIR"])
    assert demo_env in real_home.parents
    assert demo_env in real_claude.parents
    started = time.perf_counter()
    demo = start_seeded_demo(NOW)
    took = time.perf_counter() - started
    try:
        assert took < 5  # about 0.3 s here; the bound only catches a runaway (the benchmark times it)
        repo = UsageRepo.open(paths.database_file().with_name(DEMO_DB))
        rows = repo.history(["five_hour", "seven_day"], NOW - timedelta(days=7, minutes=1))
        repo.close()
        by_window = {w: [r for r in rows if r[1] == w] for w in ("five_hour", "seven_day")}
        assert all(len(v) >= 7 * 288 for v in by_window.values())
        assert max(r[2] for r in by_window["five_hour"]) >= 90
        projects = list((demo.claude_config_dir / "projects").iterdir())
        assert len(projects) == 4
        assert demo.claude_config_dir.parent == demo_env
    finally:
        demo.stop()
    sessions = merge_sessions(now=NOW, tracks={}, **_sources(sessions_reader(NOW)([], True, NOW)))
    assert len(sessions) == len(SESSIONS) >= 3
    assert {s.state for s in sessions} == {SessionState.NEEDS_YOU, SessionState.WORKING, SessionState.IDLE}
    assert sessions[0].needs_you_reason  # the waiting one says what it asks
    assert any(s.name and len(s.name) > 40 for s in sessions)  # a long name, for the elision
    assert all(s.model and s.context_percent and s.cost_usd for s in sessions)


def _sources(data):
    return {"registry": data.registry, "jobs": data.jobs, "captures": data.captures}


def test_the_transcripts_make_a_local_ledger_with_projects_and_models(demo_env) -> None:
    from trayapp import settings as st
    from trayapp.services.demo_seed import write_transcripts
    from trayapp.services.ledger_service import Tracker
    from trayapp.store.ledger import LedgerRepo

    claude = paths.claude_config_dirs()[0]
    files, requests = write_transcripts(claude / "projects", NOW)
    assert files >= 20
    assert requests >= 300
    tracker = Tracker.from_config(st.load(), LedgerRepo.open(check_same_thread=False))
    try:
        tracker.refresh()
        today = tracker.today(NOW)
        assert today.tally.entries > 10
        assert today.tally.cost > 0
        assert len(today.top_projects) >= 3
        assert today.block is not None  # an active 5-hour block: requests in the last hours
    finally:
        tracker.repo.close()
    text = "".join(p.read_text() for p in (claude / "projects").rglob("*.jsonl"))
    assert sum(m in text for m in ("claude-opus-4-8", "claude-sonnet-4-5", "claude-haiku-4-5")) == 3
    days = {line.split('"timestamp":"')[1][:10] for line in text.splitlines()}
    assert len(days) >= 5  # a week of history, not just today


def test_seeding_refuses_a_folder_outside_the_demo(monkeypatch, tmp_path) -> None:
    """Never seed the user's own Claude Code folder: the demo folder must hold both targets."""
    from trayapp.services import demo_seed

    monkeypatch.setenv(DEMO_ROOT_ENV, str(tmp_path / "demo"))  # "entered", but the folders are real
    with pytest.raises(RuntimeError, match="would leave the demo folder"):
        demo_seed.start_seeded_demo(NOW)
    assert tree(Path(os.environ["CLAUDE_CONFIG_DIR"])) == {}
