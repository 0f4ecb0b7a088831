"""The window scheduler service over a FakeClock: due anchors, sleep across an anchor within and
beyond the grace, an open window, a restart, the reminder's buttons, auto-start and its fallback.

The path is production's: ``SchedulerService`` -> the real ``Dispatcher`` -> the real
``DesktopChannel`` with ``FakeNotifier`` standing in for the D-Bus server (dunst does that in
``tests/integration/test_scheduler_dunst.py``); the memory is the real ``scheduler.json``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from desktop_notifier import Capability

from tests.helpers.fake_notifier import FakeNotifier
from tests.helpers.fixtures_channels import SettingsDict
from tests.helpers.states import account_state, window_state
from trayapp.channels.desktop import DesktopChannel
from trayapp.channels.dispatcher import Dispatcher
from trayapp.channels.quips import QuipWriter
from trayapp.core.clock import FakeClock
from trayapp.core.models import AccountState, AlertKind
from trayapp.core.schedule import Anchor, AnchorMode, Attempt, Outcome, Plan
from trayapp.services import scheduler_memory
from trayapp.services.scheduler_service import SchedulerPorts, SchedulerService

TZ = ZoneInfo("Europe/Berlin")
# 06:58 in Berlin (summer time, UTC+2): the 07:00 anchor is two minutes away.
START = datetime(2026, 8, 10, 4, 58, tzinfo=UTC)


@dataclass
class Ports:
    """The store's side as plain lists (the plan file and attempts log have their own tests), and a
    start that records its calls and answers as scripted."""

    plan: Plan
    attempts: list[Attempt] = field(default_factory=list)
    starts: list[str | None] = field(default_factory=list)
    outcome: Outcome = Outcome.VERIFIED
    clock: FakeClock | None = None

    async def start_window(self, anchor_id: str | None) -> Attempt:
        self.starts.append(anchor_id)
        await asyncio.sleep(0)
        assert self.clock is not None
        return Attempt(self.clock.now(), anchor_id, self.outcome, f"scripted {self.outcome.value}")

    def ports(self) -> SchedulerPorts:
        return SchedulerPorts(
            load_plan=lambda: self.plan,
            save_plan=lambda plan: setattr(self, "plan", plan),
            append_attempt=self.attempts.append,
            read_attempts=lambda limit: self.attempts[-limit:],
            start_window=self.start_window,
        )


@dataclass
class Rig:
    service: SchedulerService
    notifier: FakeNotifier
    desktop: DesktopChannel
    ports: Ports
    clock: FakeClock

    async def tick(self) -> None:
        await self.service.tick()
        await asyncio.sleep(0)
        await self.service.stop()  # drains the sends and starts in flight

    def shown(self) -> list[str]:
        return [n["title"] for n in self.notifier.sent]

    def outcomes(self) -> list[tuple[str | None, Outcome]]:
        return [(a.anchor_id, a.outcome) for a in self.ports.attempts]


def closed(clock: FakeClock) -> AccountState:
    return account_state(window_state("five_hour", 0.0, None, clock.now()), now=clock.now())


def open_until(clock: FakeClock, hours: float) -> AccountState:
    return account_state(
        window_state("five_hour", 12.0, timedelta(hours=hours), clock.now()), now=clock.now()
    )


@pytest.fixture
def make_rig(tmp_path: Path) -> Callable[..., Rig]:
    """A scheduler on ``clock``; called again with the same ``ports``, it is a restart (same
    memory file, same plan and log)."""

    def make(
        clock: FakeClock,
        plan: Plan | None = None,
        ports: Ports | None = None,
        state: Callable[[], AccountState | None] | None = None,
        settings: SettingsDict | None = None,
    ) -> Rig:
        ports = ports or Ports(plan or Plan((Anchor(time(7, 0)), Anchor(time(12, 0)))), clock=clock)
        notifier = FakeNotifier(frozenset({Capability.BUTTONS, Capability.TITLE}))
        cfg = settings or SettingsDict()
        desktop = DesktopChannel(notifier=notifier, on_open=lambda: None)
        dispatcher = Dispatcher([desktop], QuipWriter(cfg.get), cfg.get)
        service = SchedulerService(
            ports.ports(),
            dispatcher,
            clock,
            cfg.get,
            state or (lambda: closed(clock)),
            tz=TZ,
            memory_path=tmp_path / "scheduler.json",
        )
        desktop.action_routes["schedule"] = service.on_action
        return Rig(service, notifier, desktop, ports, clock)

    return make


async def started(rig: Rig) -> Rig:
    await rig.service.load()
    await rig.tick()  # the first tick only remembers when it ran
    return rig


async def test_an_anchor_with_the_window_closed_gives_one_reminder_with_its_buttons(make_rig) -> None:
    clock = FakeClock(START)
    rig = await started(make_rig(clock))
    clock.advance(60)
    await rig.tick()
    assert rig.notifier.sent == []  # 06:59: not yet
    clock.advance(61)
    await rig.tick()
    assert rig.shown() == ["Start your 5-hour window now?"]
    (note,) = rig.notifier.sent
    assert [b.title for b in note["buttons"]] == ["Start now", "Skip"]
    assert "07:00 -> window 07:00-12:00, next free at 12:00" in note["message"]
    assert rig.outcomes() == [("07:00", Outcome.REMINDED)]
    for _ in range(3):  # later ticks, and a new usage state, repeat nothing
        clock.advance(30)
        await rig.tick()
    rig.service.on_state(closed(clock))
    await rig.tick()
    assert len(rig.notifier.sent) == 1
    assert rig.outcomes() == [("07:00", Outcome.REMINDED)]


async def test_an_open_window_at_the_anchor_gives_nothing(make_rig) -> None:
    clock = FakeClock(START)
    rig = await started(make_rig(clock, state=lambda: open_until(clock, 3)))
    clock.advance(180)
    await rig.tick()
    assert rig.notifier.sent == []
    assert rig.ports.attempts == []
    assert rig.ports.starts == []


async def test_a_window_that_reset_in_the_past_counts_as_closed(make_rig) -> None:
    clock = FakeClock(START)
    rig = await started(make_rig(clock, state=lambda: open_until(clock, -0.5)))
    clock.advance(180)
    await rig.tick()
    assert rig.shown() == ["Start your 5-hour window now?"]


async def test_sleep_across_an_anchor_within_the_grace_reminds_once(make_rig) -> None:
    clock = FakeClock(START)
    rig = await started(make_rig(clock))
    clock.jump_wall(10 * 60)  # suspended at 06:58, woke at 07:08: the monotonic clock stood still
    await rig.tick()
    assert rig.service.wakes == 1
    assert rig.shown() == ["Start your 5-hour window now?"]
    assert "(It was due at 07:00.)" in rig.notifier.sent[0]["message"]
    clock.advance(30)
    await rig.tick()
    assert len(rig.notifier.sent) == 1


async def test_sleep_beyond_the_grace_skips_and_logs_without_a_notification(make_rig) -> None:
    clock = FakeClock(START)
    rig = await started(make_rig(clock))
    clock.jump_wall(2 * 3600)  # woke at 08:58
    await rig.tick()
    assert rig.notifier.sent == []
    assert rig.outcomes() == [("07:00", Outcome.SKIPPED)]
    assert rig.ports.attempts[0].detail == "missed by 118 min"


async def test_a_restart_never_repeats_a_reminder(make_rig) -> None:
    clock = FakeClock(START)
    first = await started(make_rig(clock))
    clock.advance(180)
    await first.tick()
    assert first.shown() == ["Start your 5-hour window now?"]
    clock.advance(60)
    again = make_rig(clock, ports=first.ports)  # a new process, same memory file and log
    await again.service.load()
    await again.tick()
    clock.advance(30)
    await again.tick()
    assert again.notifier.sent == []
    assert again.outcomes() == [("07:00", Outcome.REMINDED)]


async def test_an_anchor_passed_while_the_app_was_closed_fires_once_after_the_start(make_rig) -> None:
    clock = FakeClock(START)
    first = await started(make_rig(clock))  # ran at 06:58, then quit
    clock.advance(5 * 60)
    again = make_rig(clock, ports=first.ports)
    await again.service.load()
    await again.tick()
    assert again.shown() == ["Start your 5-hour window now?"]


async def test_start_now_runs_the_guarded_start_once_and_a_verified_start_is_a_quiet_note(make_rig) -> None:
    clock = FakeClock(START)
    rig = await started(make_rig(clock))
    clock.advance(180)
    await rig.tick()
    start_button = rig.notifier.sent[0]["buttons"][0]
    start_button.on_pressed()
    start_button.on_pressed()  # a second press while the first runs: still one start
    await rig.service.stop()
    assert rig.ports.starts == ["07:00"]
    assert rig.outcomes() == [("07:00", Outcome.REMINDED), ("07:00", Outcome.VERIFIED)]
    assert rig.shown()[-1] == "5-hour window started (07:00)"


async def test_skip_logs_the_anchor_as_skipped(make_rig) -> None:
    clock = FakeClock(START)
    rig = await started(make_rig(clock))
    clock.advance(180)
    await rig.tick()
    rig.notifier.sent[0]["buttons"][1].on_pressed()
    await rig.service.stop()
    assert rig.ports.starts == []
    assert rig.outcomes() == [("07:00", Outcome.REMINDED), ("07:00", Outcome.SKIPPED)]
    assert rig.ports.attempts[-1].detail == "skipped by you"


async def test_auto_start_runs_once_and_a_failed_one_warns_once_then_the_anchor_reminds(make_rig) -> None:
    clock = FakeClock(START)
    plan = Plan((Anchor(time(7, 0), mode=AnchorMode.AUTO),))
    ports = Ports(plan, outcome=Outcome.NOT_OPENED, clock=clock)
    rig = await started(make_rig(clock, ports=ports))
    clock.advance(180)
    await rig.tick()
    clock.advance(30)
    await rig.tick()
    assert ports.starts == ["07:00"]
    assert rig.shown() == ["The 5-hour window did not open (07:00)"]
    body = rig.notifier.sent[0]["message"]
    assert "headless use may be billed separately" in body
    assert "reminds you from now on" in body
    # The next day's 07:00: a reminder, not a second start (no retry storm).
    clock.advance(24 * 3600)
    await rig.tick()
    assert ports.starts == ["07:00"]
    assert rig.shown()[-1] == "Start your 5-hour window now?"
    # A verified start by hand lifts the fallback: the day after, the anchor starts by itself again.
    ports.outcome = Outcome.VERIFIED
    await rig.service.start_now(None)
    clock.advance(24 * 3600)
    await rig.tick()
    assert ports.starts == ["07:00", None, "07:00"]


async def test_auto_start_refused_by_the_guard_is_logged_not_notified(make_rig) -> None:
    clock = FakeClock(START)
    ports = Ports(Plan((Anchor(time(7, 0), mode=AnchorMode.AUTO),)), outcome=Outcome.REFUSED, clock=clock)
    rig = await started(make_rig(clock, ports=ports))
    clock.advance(180)
    await rig.tick()
    assert ports.starts == ["07:00"]
    assert rig.notifier.sent == []
    assert rig.outcomes() == [("07:00", Outcome.REFUSED)]


async def test_quiet_hours_skip_the_reminder_unless_the_anchor_allows_them(make_rig) -> None:
    clock = FakeClock(START)
    quiet = SettingsDict({"alerts.quiet_hours": "22:00-07:30"})
    plan = Plan((Anchor(time(7, 0)), Anchor(time(12, 0), in_quiet_hours=True)))
    rig = await started(make_rig(clock, plan=plan, settings=quiet))
    clock.advance(180)
    await rig.tick()
    assert rig.notifier.sent == []
    assert rig.outcomes() == [("07:00", Outcome.SKIPPED)]
    assert rig.ports.attempts[0].detail == "quiet hours"
    # Anchors that may act in quiet hours still remind there.
    plan2 = Plan((Anchor(time(7, 5), in_quiet_hours=True),))
    rig2 = await started(make_rig(clock, plan=plan2, settings=quiet))
    clock.advance(300)
    await rig2.tick()
    assert rig2.shown() == ["Start your 5-hour window now?"]


async def test_save_plan_refuses_anchors_closer_than_five_hours(make_rig) -> None:
    from trayapp.core.schedule import PlanError

    clock = FakeClock(START)
    rig = await started(make_rig(clock))
    seen: list[Any] = []
    rig.service.plan_changed.connect(seen.append)
    with pytest.raises(PlanError, match="5 h"):
        await rig.service.save_plan(Plan((Anchor(time(8, 0)), Anchor(time(11, 0)))))
    assert seen == []
    assert rig.ports.plan.anchors[0].at == time(7, 0)


async def test_a_broken_memory_file_is_set_aside(tmp_path: Path) -> None:
    path = tmp_path / "scheduler.json"
    path.write_text("{not json")
    assert scheduler_memory.load(path) == scheduler_memory.SchedulerMemory()
    assert (tmp_path / "scheduler.json.bad").exists()
    path.write_text(
        '{"last_tick": "yesterday", "handled": {"07:00@x": "2026-08-10T05:00:00+00:00"}, "demoted": [3]}'
    )
    memory = scheduler_memory.load(path)
    assert memory.last_tick is None
    assert memory.demoted == frozenset()
    assert list(memory.handled) == ["07:00@x"]


def test_the_reminder_kind_carries_no_quip() -> None:
    from trayapp.channels.quips import NO_QUIP_KINDS

    assert AlertKind.WINDOW_REMINDER in NO_QUIP_KINDS


async def test_a_wall_clock_set_back_across_an_anchor_does_not_repeat_it(make_rig) -> None:
    clock = FakeClock(START)
    rig = await started(make_rig(clock))
    clock.advance(180)
    await rig.tick()
    assert len(rig.notifier.sent) == 1
    clock.jump_wall(-10 * 60)  # 06:51: NTP, or a hand correction
    await rig.tick()
    clock.advance(10 * 60)  # 07:01 again: the 07:00 anchor passes a second time
    await rig.tick()
    assert len(rig.notifier.sent) == 1
    assert rig.outcomes() == [("07:00", Outcome.REMINDED)]


async def test_before_the_first_usage_state_anchors_wait_for_it(make_rig) -> None:
    clock = FakeClock(START + timedelta(seconds=60))
    state: list[AccountState] = [account_state(no_snapshot=True, now=clock.now())]  # before any reading
    rig = await started(make_rig(clock, state=lambda: state[-1]))
    clock.advance(90)  # 07:00:30, no state yet: an open window is not ruled out
    await rig.tick()
    assert rig.notifier.sent == []
    state.append(open_until(clock, 2))  # it comes: a window is open, nothing to do
    await rig.tick()
    assert rig.notifier.sent == []
    assert rig.ports.attempts == []


async def test_without_any_state_a_closed_window_is_assumed_after_a_while(make_rig) -> None:
    clock = FakeClock(START + timedelta(seconds=60))
    rig = await started(make_rig(clock, state=lambda: None))
    clock.advance(90)
    await rig.tick()
    assert rig.notifier.sent == []
    clock.advance(60)  # two and a half minutes after the start
    await rig.tick()
    assert rig.shown() == ["Start your 5-hour window now?"]


async def test_the_reminder_also_reaches_telegram_once_as_text_without_a_quip(
    make_rig, telegram, tmp_path: Path
) -> None:
    from tests.helpers.fake_keyring import MemoryKeyring
    from trayapp.channels.outbox import Outbox
    from trayapp.channels.telegram import TelegramChannel
    from trayapp.platform.secrets import SecretStore

    cfg = SettingsDict({"telegram.enabled": True, "telegram.chat_id": "4242"})
    secrets = SecretStore(backend=MemoryKeyring(), timeout=2.0)
    secrets.set("telegram-bot-token", telegram.token)
    clock = FakeClock(START)
    outbox = Outbox(tmp_path / "outbox.sqlite3", clock=clock)
    try:
        rig = make_rig(clock, settings=cfg)
        writer = QuipWriter(cfg.get, secrets, now=clock.now)
        channel = TelegramChannel(outbox, cfg.get, secrets, clock=clock, quips=writer)
        rig.service.dispatcher = Dispatcher([rig.desktop, channel], writer, cfg.get)
        await started(rig)
        clock.advance(180)
        await rig.tick()
        clock.advance(30)
        await rig.tick()
        assert rig.shown() == ["Start your 5-hour window now?"]
        (message,) = telegram.messages
        assert message["text"].startswith("Start your 5-hour window now?\nNo 5-hour window is open.")
    finally:
        outbox.close()


async def test_quiet_ticks_save_their_time_only_every_few_minutes(make_rig, tmp_path: Path) -> None:
    clock = FakeClock(START - timedelta(hours=1))  # 05:58: nothing due for an hour
    rig = await started(make_rig(clock))
    path = tmp_path / "scheduler.json"

    def saved_tick() -> datetime | None:
        return scheduler_memory.load(path).last_tick

    first = saved_tick()
    await rig.service.tick()
    for _ in range(4):
        clock.advance(30)
        await rig.service.tick()
    assert saved_tick() == first  # two minutes of quiet ticks: no write
    clock.advance(200)
    await rig.service.tick()
    assert saved_tick() == clock.now()  # five minutes on: written
    clock.advance(30)
    await rig.service.tick()
    await rig.service.stop()  # and at stop, the last look
    assert saved_tick() == clock.now()
