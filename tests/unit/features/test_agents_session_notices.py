"""An agent Claude Watch runs gets its own notices ("Agent done"), so the sessions service does not
add "Claude finished" for the same run when hooks are installed; a session we did not start still
gets it, and an agent's "needs you" still comes through the sessions service."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.helpers.async_wait import until
from tests.helpers.login_support import Recorder
from trayapp.core.agents import FINISHED, TaskSpec, TaskState
from trayapp.core.models import AlertKind
from trayapp.core.sessions import HookEvent, HookEventName


def hook(name: HookEventName, session_id: str, at: datetime, **kw: object) -> HookEvent:
    return HookEvent(event=name, session_id=session_id, received_at=at, cwd="/work/proj", **kw)


@pytest.mark.qt_loop
async def test_a_run_of_ours_is_not_announced_twice(qapp, tmp_path, fake_claude) -> None:
    from trayapp.app import ClaudeWatch
    from trayapp.features import agents

    fake_claude.script(p={"delay": 0.2})
    cw = ClaudeWatch(qapp, demo=False, self_test=True)
    cw.build()
    ui = agents.ui_of(cw)
    assert ui is not None
    recorder = Recorder()
    cw.dispatcher.channels = [recorder]
    cw.settings.update({"alerts.enabled": True})
    stop = await agents.start(cw)
    assert stop is not None
    folder = tmp_path / "proj"
    folder.mkdir()
    service = cw.sessions.service
    try:
        task = await ui.queue.submit(TaskSpec(prompt="tidy", folder=str(folder)))
        assert await until(lambda: ui.queue.get(task.id).state is TaskState.DONE, 15)
        ours = ui.queue.get(task.id).session_id
        assert ours
        now = datetime.now(UTC)
        for sid in (ours, "someone-else"):  # a long turn each, then its Stop
            service.on_hook_event(hook(HookEventName.USER_PROMPT_SUBMIT, sid, now - timedelta(minutes=5)))
            service.on_hook_event(hook(HookEventName.STOP, sid, now))
        assert await until(lambda: any(a.kind is AlertKind.SESSION_FINISHED for a in recorder.alerts), 5)
        service.on_hook_event(hook(HookEventName.PERMISSION_REQUEST, ours, now, message="Bash: make"))
        assert await until(lambda: any(a.kind is AlertKind.SESSION_NEEDS_YOU for a in recorder.alerts), 8)
        finished = [a for a in recorder.alerts if a.kind is AlertKind.SESSION_FINISHED]
        assert [a.extra.get("session_id") for a in finished] == ["someone-else"]
        assert any(a.kind is AlertKind.AGENT_DONE for a in recorder.alerts)
        needs = [a for a in recorder.alerts if a.kind is AlertKind.SESSION_NEEDS_YOU]
        assert [a.extra.get("session_id") for a in needs] == [ours]
    finally:
        await stop()
        cw.tray.hide()


@pytest.mark.qt_loop
async def test_the_list_waits_while_no_view_shows_and_catches_up_when_one_opens(
    qapp, tmp_path, fake_claude
) -> None:
    from trayapp.app import ClaudeWatch
    from trayapp.features import agents
    from trayapp.ui.coalescer import COALESCE_MS, HIDDEN_MS

    fake_claude.script(p={"delay": 0.1})
    cw = ClaudeWatch(qapp, demo=False, self_test=True)
    cw.build()
    ui = agents.ui_of(cw)
    assert ui is not None
    cw.dispatcher.channels = [Recorder()]  # the notices stay in the test (no D-Bus connection left open)
    stop = await agents.start(cw)
    assert stop is not None
    folder = tmp_path / "proj"
    folder.mkdir()
    try:
        cw.popup.hide()
        await ui.queue.submit(TaskSpec(prompt="first", folder=str(folder)))
        assert ui.updates.interval_ms == HIDDEN_MS  # nobody looks: the list catches up every 2 s
        second = await ui.queue.submit(TaskSpec(prompt="second", folder=str(folder)))
        window = ui.open_window()  # what waited shows at once
        assert second.id in [item.id for item in ui.items]
        await ui.queue.submit(TaskSpec(prompt="third", folder=str(folder)))
        assert ui.updates.interval_ms == COALESCE_MS
        window.hide()
        # Every run ends before the app stops (no child left behind to the next test).
        assert await until(lambda: all(t.state in FINISHED for t in ui.queue.tasks()), 15)
    finally:
        await stop()
        cw.tray.hide()
