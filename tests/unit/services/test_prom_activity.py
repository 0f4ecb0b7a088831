"""What /metrics counts in the services: the poller's attempts by outcome and cooldown (a real
engine against the demo usage server), and hook events by name in the sessions service."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

from tests.unit.services.test_usage_engine import make_engine
from trayapp.core.clock import FakeClock
from trayapp.core.prom_metrics import render
from trayapp.core.prom_snapshot import snapshot
from trayapp.core.sessions import HookEvent, HookEventName
from trayapp.demo import DemoHandle
from trayapp.services.metrics_api import activity_source, build_info
from trayapp.services.sessions_service import SessionsService


async def test_poll_outcomes_and_cooldown_are_counted(
    usage_server: DemoHandle, claude_dir: Path, tmp_path: Path
) -> None:
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
    engine = make_engine(usage_server, claude_dir, tmp_path / "db.sqlite3", clock)
    activity = activity_source(SimpleNamespace(engine=engine), None)  # type: ignore[arg-type]
    try:
        await engine.poll()
        clock.advance(60)
        await engine.poll()  # not due: no attempt, nothing counted
        clock.advance(300)
        usage_server.simulator.script.append((429, {"error": "rate"}, {"Retry-After": "1200"}))
        await engine.poll()
        clock.advance(300)
        usage_server.simulator.script.append((500, {"error": "boom"}, {}))
        await engine.poll()  # in the cooldown: no attempt
        seen = activity()
        assert seen.polls == {"ok": 1, "rate_limited": 1}
        assert seen.cooldown_until is not None
        assert seen.cooldown_until - clock.now() == timedelta(seconds=900)
        text = render(snapshot(engine.state, seen, None, build_info(), clock.now()))
        assert 'claude_watch_polls_total{account="default",outcome="rate_limited"} 1\n' in text
        assert 'claude_watch_poll_cooldown_seconds{account="default"} 900.0\n' in text
        assert 'claude_watch_poll_error{account="default",kind="rate_limited"} 1\n' in text
    finally:
        await engine.aclose()
        engine.repo.close()


def test_hook_events_are_counted_by_name(tmp_path: Path) -> None:
    sessions = SessionsService(lambda _key: False, None, config_dirs=[tmp_path])
    now = datetime.now(UTC)
    for name in (HookEventName.SESSION_START, HookEventName.STOP, HookEventName.STOP):
        sessions.on_hook_event(HookEvent(name, "s1", now))
    seen = activity_source(None, sessions)()
    assert seen.hook_events == {"SessionStart": 1, "Stop": 2}
    assert seen.polls == {}
    text = render(snapshot(None, seen, None, build_info(), now))
    assert 'claude_watch_hook_events_total{event="Stop"} 2\n' in text
    assert 'claude_watch_hook_events_total{event="Notification"} 0\n' in text


def test_telemetry_counters_do_not_go_backwards_across_a_restart(tmp_path: Path) -> None:
    from tests.helpers.otlp_bodies import T_NS, logs_message
    from trayapp.services.telemetry_service import TelemetryService
    from trayapp.sources.otlp_decode import PROTOBUF

    path = tmp_path / "telemetry.sqlite3"
    now = datetime.fromtimestamp(T_NS / 1e9, UTC) + timedelta(seconds=5)

    def scrape(svc: TelemetryService) -> list[str]:
        text = render(snapshot(None, activity_source(None, None)(), svc.totals(), build_info(), now))
        return [line for line in text.splitlines() if line.startswith("claude_watch_telemetry_")]

    first = TelemetryService(UTC, path=path, clock=lambda: now)
    first.open_blocking()
    body = logs_message(T_NS, input_tokens="100", output_tokens="10", cost_usd="0.5").SerializeToString()
    first.ingest_body("logs", body, PROTOBUF, None)
    before = scrape(first)
    assert 'claude_watch_telemetry_cost_usd_total{account="default",model="opus"} 0.5' in before
    assert first.repo is not None
    first.repo.close()
    second = TelemetryService(UTC, path=path, clock=lambda: now)  # the app restarted
    second.open_blocking()
    assert scrape(second) == before
    assert second.repo is not None
    second.repo.close()
