"""A click on a notification's body does what its "Open" does: an agent's notice opens the agents
window at that task (its routed ``agents.open``), not the dashboard; other alerts keep the
dashboard."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from desktop_notifier import Capability

from tests.helpers.fake_notifier import FakeNotifier
from trayapp.channels.desktop import DesktopChannel
from trayapp.core.agents import Task, TaskSpec, TaskState
from trayapp.core.models import Alert, AlertKind, Level
from trayapp.features.agents_notify import OPEN, ROUTE, alert_for

NOW = datetime(2026, 12, 3, 14, 0, tzinfo=UTC)


def agent_done() -> Alert:
    task = Task(
        "t-7",
        TaskSpec(prompt="Fix the build", folder="/work/proj"),
        state=TaskState.DONE,
        started_at=NOW - timedelta(minutes=3),
        slot="local",
    )
    return alert_for(task, AlertKind.AGENT_DONE, NOW)


def channel(notifier: FakeNotifier, opened: list[str]) -> tuple[DesktopChannel, list[tuple[str, str]]]:
    routed: list[tuple[str, str]] = []
    ch = DesktopChannel(notifier=notifier, on_open=lambda: opened.append("dashboard"), on_snooze=lambda: None)

    def route(name: str, alert: Any) -> None:
        routed.append((name, alert.extra["task_id"]))

    ch.action_routes[ROUTE] = route
    return ch, routed


async def test_clicking_an_agent_notice_opens_that_task_not_the_dashboard() -> None:
    notifier = FakeNotifier(frozenset({Capability.BUTTONS, Capability.TITLE}))
    opened: list[str] = []
    ch, routed = channel(notifier, opened)
    assert (await ch.send(agent_done())).ok
    notifier.sent[0]["on_clicked"]()
    assert routed == [(OPEN, "t-7")]
    assert opened == []


async def test_a_server_without_buttons_still_opens_the_task_on_a_click() -> None:
    notifier = FakeNotifier(frozenset({Capability.TITLE}))
    opened: list[str] = []
    ch, routed = channel(notifier, opened)
    await ch.send(agent_done())
    assert notifier.sent[0]["buttons"] == []
    notifier.sent[0]["on_clicked"]()
    assert routed == [(OPEN, "t-7")]


async def test_an_unrouted_agent_notice_and_a_usage_alert_open_the_dashboard() -> None:
    notifier = FakeNotifier(frozenset({Capability.BUTTONS, Capability.TITLE}))
    opened: list[str] = []
    ch = DesktopChannel(notifier=notifier, on_open=lambda: opened.append("dashboard"), on_snooze=lambda: None)
    await ch.send(agent_done())  # no agents route: the feature is off
    usage = replace(agent_done(), kind=AlertKind.THRESHOLD, extra={}, level=Level.WARNING)
    ch2, _routed = channel(notifier, opened)
    await ch2.send(usage)
    for sent in notifier.sent:
        sent["on_clicked"]()
    assert opened == ["dashboard", "dashboard"]
