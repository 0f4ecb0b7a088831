"""The agents feature inside the real composition root, with the real queue and the fake ``claude``
as real children: three tasks with a cap of 2 -> two run and one waits (in the window's words);
the window's tail follows the selected task's log; Stop from the window leaves no process; Restart
resumes its session; notices go out once per task (started, done) with Open / Open log buttons
routed to the window; the tray menu has "Agents…"."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers.async_wait import until
from tests.helpers.login_support import Recorder
from trayapp.core.agents import ACTIVE, TaskSpec, TaskState
from trayapp.core.models import AlertKind


def _alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not stat.exists() or stat.read_text().split(")")[-1].split()[0] != "Z"


@pytest.mark.qt_loop
async def test_three_tasks_two_run_one_waits_stop_restart_and_notices(qapp, tmp_path, fake_claude) -> None:
    from trayapp.app import ClaudeWatch
    from trayapp.features import agents

    fake_claude.script(p={"delay": 2.5})
    cw = ClaudeWatch(qapp, demo=False, self_test=True)
    cw.build()
    ui = agents.ui_of(cw)
    assert ui is not None
    assert "Agents…" in [text for text, _run in cw.tray.menu_entries]
    recorder = Recorder()
    cw.dispatcher.channels = [recorder]
    cw.settings.update({"alerts.enabled": True})
    stop = await agents.start(cw)
    assert stop is not None
    folder = tmp_path / "proj"
    folder.mkdir()
    try:
        tasks = [await ui.queue.submit(TaskSpec(prompt=f"task {n}", folder=str(folder))) for n in range(3)]
        assert await until(lambda: sum(t.state in ACTIVE for t in ui.queue.tasks()) == 2, 10)
        assert [t.state for t in ui.queue.tasks()].count(TaskState.QUEUED) == 1
        window = ui.open_window()
        window.coalescer.flush()
        assert await until(
            lambda: sorted(r.chip.text() for r in window.rows) == ["Queued", "Running", "Running"], 5
        )
        running = next(t for t in ui.queue.tasks() if t.state is TaskState.RUNNING)
        # The tail follows its log as the fake prints its stream.
        assert window.select(running.id)
        assert await until(lambda: "■ done" in window.tail.toPlainText(), 15)
        assert await until(lambda: any(t.state is TaskState.DONE for t in ui.queue.tasks()), 10)
        # The waiting one started once a slot freed; stop it from the window.
        third = tasks[2].id
        assert await until(
            lambda: ui.queue.get(third).state in ACTIVE and ui.queue.get(third).pid is not None, 10
        )
        pid = ui.queue.get(third).pid
        window.coalescer.flush()
        window.select(third)
        window.stop_button.click()
        assert await until(lambda: ui.queue.get(third).state is TaskState.STOPPED, 15)
        assert not _alive(pid)

        def restartable() -> bool:  # the feature's and the window's coalesced updates both arrive
            ui.updates.flush()
            window.coalescer.flush()
            window.select(third)
            return window.restart_button.isEnabled()

        assert await until(restartable, 5)
        window.restart_button.click()
        assert await until(lambda: any(t.restarted_from == third for t in ui.queue.tasks()), 10)
        again = next(t for t in ui.queue.tasks() if t.restarted_from == third)
        assert await until(lambda: any("--resume" in c.get("argv", []) for c in fake_claude.calls()), 10)
        assert await until(lambda: window.selected == again.id, 5)
        # Notices: one "started" per task that ran, one "done" for each that ended by itself.
        assert await until(lambda: ui.queue.get(again.id).state is TaskState.DONE, 15)
        assert await until(lambda: sum(a.kind is AlertKind.AGENT_DONE for a in recorder.alerts) == 3, 10), (
            recorder.alerts
        )
        keys = [a.key for a in recorder.alerts]
        assert len(keys) == len(set(keys))
        started = [a for a in recorder.alerts if a.kind is AlertKind.AGENT_STARTED]
        assert sorted(a.extra["task_id"] for a in started) == sorted([*(t.id for t in tasks), again.id])
        assert not any(
            a.kind is AlertKind.AGENT_DONE and a.extra["task_id"] == third for a in recorder.alerts
        )
        # "Open" on a notice shows the window at that task.
        window.hide()
        done = next(a for a in recorder.alerts if a.kind is AlertKind.AGENT_DONE)
        cw.desktop.action_routes["agents"]("agents.open", done)
        assert window.isVisible()
        assert window.selected == done.extra["task_id"]
    finally:
        await stop()
        cw.tray.hide()
        ui.window.deleteLater() if ui.window is not None else None


@pytest.mark.qt_loop
async def test_dialog_start_queues_limits_hold_and_release_and_the_popup_section(
    qapp, tmp_path, fake_claude
) -> None:
    from datetime import UTC, datetime, timedelta

    from PySide6.QtWidgets import QWidget

    from tests.helpers.states import account_state, window_state
    from trayapp.app import ClaudeWatch
    from trayapp.features import agents

    fake_claude.script(p={"delay": 0.2})
    cw = ClaudeWatch(qapp, demo=False, self_test=True)
    cw.build()
    ui = agents.ui_of(cw)
    assert ui is not None
    stop = await agents.start(cw)
    assert stop is not None
    folder = tmp_path / "proj"
    folder.mkdir()
    now = datetime.now(UTC)
    try:
        assert cw.popup.findChild(QWidget, "agents-panel") is ui.panel
        # Near the limit: what the dialog starts waits, with the reason.
        ui.on_state(account_state(window_state("five_hour", 91.0, timedelta(hours=1), now), now=now))
        dialog = ui.new_agent()
        dialog.prompt.setPlainText("Tidy the README")
        dialog.folder.setEditText(str(folder))
        dialog.start()
        assert await until(lambda: len(ui.queue.tasks()) == 1, 5)
        assert await until(lambda: not dialog.isVisible(), 5)
        (task,) = ui.queue.tasks()
        assert await until(lambda: ui.queue.get(task.id).state is TaskState.HELD, 5)
        assert "5-hour at 91%" in ui.queue.get(task.id).held_reason
        assert ui.window is not None
        assert ui.window.selected == task.id
        ui.updates.flush()
        ui.panel.coalescer.flush()
        assert await until(lambda: [r.chip.text() for r in ui.panel.rows] == ["Held: near limit"], 5)
        # After the reset (a fresh reading well under the threshold) it runs.
        ui.on_state(account_state(window_state("five_hour", 4.0, timedelta(hours=5), now), now=now))
        assert await until(lambda: ui.queue.get(task.id).state is TaskState.DONE, 15)
        # The tray menu's entry opens the window.
        ui.window.hide()
        dict(cw.tray.menu_entries)["Agents…"]()
        assert ui.window.isVisible()
    finally:
        await stop()
        cw.tray.hide()
        if ui.window is not None:
            ui.window.deleteLater()


def test_notices_follow_alerts_enabled_the_pause_and_quiet_hours(qapp) -> None:
    from datetime import timedelta

    from trayapp.app import ClaudeWatch
    from trayapp.features import agents

    cw = ClaudeWatch(qapp, demo=False, self_test=True)
    cw.build()
    ui = agents.ui_of(cw)
    assert ui is not None
    now = cw.clock.now().astimezone()
    cw.settings.update({"alerts.enabled": True, "alerts.quiet_hours": ""})
    assert ui._alerts_on()
    span = f"{(now - timedelta(hours=1)):%H:%M}-{(now + timedelta(hours=1)):%H:%M}"
    cw.settings.update({"alerts.quiet_hours": span})
    assert not ui._alerts_on()
    cw.settings.update({"alerts.quiet_hours": ""})
    cw.alerts.pause(cw.clock.now() + timedelta(hours=1))
    assert not ui._alerts_on()
    cw.alerts.pause(None)
    cw.settings.update({"alerts.enabled": False})
    assert not ui._alerts_on()
    cw.tray.hide()


def test_the_views_list_every_unfinished_task_and_the_latest_ended() -> None:
    from datetime import UTC, datetime, timedelta

    from trayapp.core.agents import Task
    from trayapp.features.agents_data import listed

    t0 = datetime(2026, 12, 1, tzinfo=UTC)
    spec = TaskSpec(prompt="p", folder="/f")
    ended = [Task(f"d{n}", spec, TaskState.DONE, finished_at=t0 + timedelta(minutes=n)) for n in range(5)]
    waiting = [Task("q", spec, TaskState.QUEUED), Task("r", spec, TaskState.RUNNING)]
    assert [t.id for t in listed(ended + waiting, max_finished=2)] == ["q", "r", "d4", "d3"]


@pytest.mark.qt_loop
async def test_the_window_follows_the_theme_and_a_missing_log_says_so(qapp) -> None:
    from trayapp.app import ClaudeWatch
    from trayapp.features import agents

    cw = ClaudeWatch(qapp, demo=False, self_test=True)
    cw.build()
    ui = agents.ui_of(cw)
    assert ui is not None
    said: list[tuple[str, str]] = []
    cw.tray.show_message = lambda title, body, critical=False: said.append((title, body))
    stop = await agents.start(cw)
    assert stop is not None
    try:
        cw.settings.update({"ui.theme": "light"})
        window = ui.open_window()
        assert not window.theme.dark
        cw.settings.update({"ui.theme": "dark"})
        assert window.theme.dark
        ui.open_log("t-nothing")
        assert await until(lambda: said, 5)
        assert said[0][0] == "No log for this agent yet"
    finally:
        await stop()
        cw.tray.hide()
        window.deleteLater()


@pytest.mark.qt_loop
async def test_a_runs_rate_limit_event_is_a_reading_for_the_usage_engine(
    qapp, tmp_path, fake_claude, usage_server, claude_dir
) -> None:
    """The feature routes every run's rate_limit_event with a utilization into the default
    account's usage engine as a fresh local reading (a free source: no poll)."""
    import time as _time

    from tests.unit.services.test_usage_service import frozen_now, make_service
    from trayapp.app import ClaudeWatch
    from trayapp.core.models import Source
    from trayapp.features import agents

    resets = int(_time.time() + 3 * 3600)
    info = {"status": "allowed", "resetsAt": resets, "rateLimitType": "five_hour", "utilization": 0.42}
    fake_claude.script(
        p={"events": [{"type": "rate_limit_event", "rate_limit_info": info, "session_id": "$SID"}]}
    )
    cw = ClaudeWatch(qapp, demo=False, self_test=True)
    cw.build()
    clock = frozen_now()
    cw.usage = make_service(usage_server, claude_dir, tmp_path / "usage.sqlite3", clock)
    engine = cw.usage.engine
    ui = agents.ui_of(cw)
    assert ui is not None
    stop = await agents.start(cw)
    assert stop is not None
    folder = tmp_path / "proj"
    folder.mkdir()
    try:
        await ui.queue.submit(TaskSpec(prompt="go", folder=str(folder)))

        def reading() -> float | None:
            for source in engine.local_sources:
                snap = source(clock.now())
                window = snap.window("five_hour") if snap is not None else None
                if window is not None and snap.source is Source.AGENT:
                    return window.utilization
            return None

        assert await until(lambda: reading() == pytest.approx(42.0), 15)
    finally:
        await stop()
        cw.tray.hide()
    assert not any(type(s).__name__ == "RateLimitReadings" for s in engine.local_sources)  # undone
