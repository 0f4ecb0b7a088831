"""The agents' notices on a real dunst, with their buttons: the agents feature in the real
composition root (in this process), the real queue and the fake ``claude``; one task runs and ends,
dunst shows "Agent started" and "Agent done" once each, and the done notice's "Open" (the callback
dunst's ActionInvoked would call) shows the Agents window at that task."""

from __future__ import annotations

from pathlib import Path

import pytest
from desktop_notifier import DesktopNotifier

from tests.helpers.async_wait import until
from tests.integration.conftest import DesktopSession
from tests.integration.test_notify_dunst import ours
from tests.integration.test_scheduler_dunst import Recording
from trayapp.channels.desktop import APP_NAME
from trayapp.core.agents import TaskSpec, TaskState


@pytest.mark.qt_loop
async def test_started_and_done_reach_dunst_once_and_open_shows_the_task(
    desktop_services: DesktopSession, qapp, tmp_path: Path, fake_claude
) -> None:
    from trayapp.app import ClaudeWatch
    from trayapp.features import agents

    fake_claude.script(p={"delay": 0.5})
    cw = ClaudeWatch(qapp, demo=False, self_test=True)
    cw.build()
    ui = agents.ui_of(cw)
    assert ui is not None
    notifier = Recording(DesktopNotifier(app_name=APP_NAME))
    cw.desktop._notifier = notifier
    cw.dispatcher.channels = [cw.desktop]
    cw.settings.update({"alerts.enabled": True, "alerts.desktop": True, "alerts.quiet_hours": ""})
    before = {n["id"]["data"] for n in ours()}
    stop = await agents.start(cw)
    assert stop is not None
    folder = tmp_path / "proj"
    folder.mkdir()
    try:
        task = await ui.queue.submit(TaskSpec(prompt="Tidy the README", folder=str(folder)))
        assert await until(lambda: ui.queue.get(task.id).state is TaskState.DONE, 15)
        assert await until(lambda: len(notifier.sent) == 2, 10)
        shown = [n["summary"]["data"] for n in ours() if n["id"]["data"] not in before]
        assert sorted(shown) == ["Agent done · Tidy the README", "Agent started · Tidy the README"]
        done = next(n for n in notifier.sent if n["title"].startswith("Agent done"))
        assert [b.title for b in done["buttons"]] == ["Open", "Open log"]
        assert ui.window is None or not ui.window.isVisible()
        done["buttons"][0].on_pressed()
        assert ui.window is not None
        assert ui.window.isVisible()
        assert ui.window.selected == task.id
    finally:
        await stop()
        await cw.desktop.close()
        cw.tray.hide()
        if ui.window is not None:
            ui.window.deleteLater()
