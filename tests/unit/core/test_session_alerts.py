"""The session notification policy: once per event, finished only after long turns, bursts
coalesced into one notification, quiet hours and pause hold notices."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

from trayapp.core.models import AlertKind
from trayapp.core.session_alerts import (
    COOLDOWN,
    FORGET_AFTER,
    GATHER,
    MAX_GATHER,
    SessionAlertConfig,
    SessionAlertMemory,
    decide,
    first_line,
    flush,
)
from trayapp.core.sessions import HookEvent, HookEventName, HookTrack, Session, SessionState

T0 = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
CFG = SessionAlertConfig()
E = HookEventName


def event(name: HookEventName, sid: str = "s1", at: datetime = T0, **kw: object) -> HookEvent:
    return HookEvent(event=name, session_id=sid, received_at=at, cwd=f"/home/me/{sid}-proj", **kw)


def track(
    state: SessionState, sid: str = "s1", last: HookEventName = E.USER_PROMPT_SUBMIT, **kw: object
) -> HookTrack:
    return HookTrack(
        session_id=sid,
        state=state,
        state_since=kw.pop("since", T0),
        last_event=last,
        last_event_at=T0,
        cwd=f"/home/me/{sid}-proj",
        **kw,
    )


class Feed:
    """Feeds events to the policy like the service does and collects what flushes."""

    def __init__(self, config: SessionAlertConfig = CFG) -> None:
        self.config = config
        self.memory = SessionAlertMemory()
        self.alerts: list = []

    def send(
        self,
        ev: HookEvent,
        previous: HookTrack | None,
        new: HookTrack,
        now: datetime | None = None,
        session=None,
    ) -> None:
        self.memory = decide(
            ev, previous, new, session, self.config, self.memory, now or ev.received_at, tz=UTC
        )

    def tick(self, now: datetime) -> None:
        alert, self.memory = flush(self.memory, now)
        if alert is not None:
            self.alerts.append(alert)


def working(sid: str = "s1", started: datetime = T0 - timedelta(minutes=5)) -> HookTrack:
    return track(SessionState.WORKING, sid, turn_started_at=started)


def test_a_permission_request_gives_one_needs_you_alert_with_the_project_and_the_prompt() -> None:
    feed = Feed()
    ev = event(E.PERMISSION_REQUEST, message="Bash: rm -rf build\nsecond line", tool_name="Bash")
    feed.send(ev, working(), track(SessionState.NEEDS_YOU, last=E.PERMISSION_REQUEST))
    feed.tick(T0 + GATHER / 2)
    assert feed.alerts == []  # still gathering company
    feed.tick(T0 + GATHER)
    assert len(feed.alerts) == 1
    alert = feed.alerts[0]
    assert alert.kind is AlertKind.SESSION_NEEDS_YOU
    assert alert.title == "Claude needs you · s1-proj"
    assert alert.body == "Bash: rm -rf build"
    assert alert.extra["session_id"] == "s1"
    assert alert.key.startswith("session:s1:PermissionRequest:")
    feed.tick(T0 + timedelta(minutes=1))
    assert len(feed.alerts) == 1


def test_the_session_name_wins_over_the_folder_when_known() -> None:
    feed = Feed()
    session = Session(session_id="s1", state=SessionState.NEEDS_YOU, project="api", project_dir="/src/api")
    feed.send(
        event(E.NOTIFICATION, message="Claude needs your permission"),
        working(),
        track(SessionState.NEEDS_YOU),
        session=session,
    )
    feed.tick(T0 + GATHER)
    assert feed.alerts[0].title == "Claude needs you · api"
    assert feed.alerts[0].extra["project_dir"] == "/src/api"


def test_the_same_event_delivered_twice_fires_once() -> None:
    feed = Feed()
    ev = event(E.PERMISSION_REQUEST, message="Edit main.py")
    for delivered in (T0, T0 + timedelta(seconds=10)):  # a retry, seconds later
        feed.send(ev, working(), track(SessionState.NEEDS_YOU), now=delivered)
        feed.tick(delivered + timedelta(seconds=5))
    assert len(feed.alerts) == 1


def test_the_notification_that_follows_a_permission_request_is_quiet_but_a_new_prompt_fires() -> None:
    feed = Feed()
    waiting = track(SessionState.NEEDS_YOU, last=E.PERMISSION_REQUEST)
    feed.send(event(E.PERMISSION_REQUEST, message="Bash: ls"), working(), waiting)
    feed.send(
        event(E.NOTIFICATION, at=T0 + timedelta(seconds=1), notification_type="permission_prompt"),
        waiting,
        waiting,
    )
    feed.tick(T0 + timedelta(seconds=10))
    assert len(feed.alerts) == 1
    # A second permission request right after the first (no answer event between them) is a new prompt.
    feed.send(
        event(E.PERMISSION_REQUEST, at=T0 + timedelta(seconds=20), message="Bash: make"), waiting, waiting
    )
    feed.tick(T0 + timedelta(seconds=30))
    assert [a.body for a in feed.alerts] == ["Bash: ls", "Bash: make"]


def test_an_idle_prompt_does_not_ping() -> None:
    feed = Feed()
    idle = track(SessionState.IDLE, last=E.STOP)
    feed.send(
        event(E.NOTIFICATION, notification_type="idle_prompt", message="Claude is waiting for your input"),
        idle,
        track(SessionState.NEEDS_YOU),
    )
    feed.tick(T0 + timedelta(seconds=10))
    assert feed.alerts == []


def test_finished_only_after_the_minimum_turn_length() -> None:
    feed = Feed(replace(CFG, finished_min_seconds=60))
    idle = track(SessionState.IDLE, last=E.STOP)
    feed.send(event(E.STOP, "quick"), working("quick", T0 - timedelta(seconds=59)), idle)
    feed.send(event(E.STOP, "unknown"), track(SessionState.WORKING, "unknown"), idle)  # turn start not seen
    feed.send(event(E.STOP, "nothing"), None, idle)
    feed.tick(T0 + timedelta(seconds=10))
    assert feed.alerts == []
    feed.send(
        event(E.STOP, "long", at=T0 + timedelta(seconds=20)),
        working("long", T0 - timedelta(seconds=41)),
        idle,
    )
    feed.tick(T0 + timedelta(seconds=30))
    assert len(feed.alerts) == 1
    assert feed.alerts[0].kind is AlertKind.SESSION_FINISHED
    assert feed.alerts[0].title == "Claude finished · long-proj"
    assert feed.alerts[0].body == "The turn took 1 min."


def test_a_burst_of_ten_stop_events_gives_exactly_one_notification() -> None:
    feed = Feed()
    idle = track(SessionState.IDLE, last=E.STOP)
    for i in range(10):
        at = T0 + timedelta(milliseconds=40 * i)
        feed.send(event(E.STOP, f"p{i}", at=at), working(f"p{i}"), idle, now=at)
        feed.tick(at)
    for ms in range(0, 5000, 50):
        feed.tick(T0 + timedelta(milliseconds=ms))
    assert len(feed.alerts) == 1
    alert = feed.alerts[0]
    assert alert.kind is AlertKind.SESSION_FINISHED
    assert alert.title == "10 sessions finished: p0-proj, p1-proj, p2-proj, p3-proj +6"
    assert len(alert.body.splitlines()) == 9  # eight lines and "… and 2 more"


def test_a_steady_trickle_is_cut_after_the_maximum_gather() -> None:
    feed = Feed()
    idle = track(SessionState.IDLE, last=E.STOP)
    sent_at = []
    for i in range(60):  # one every 100 ms for 6 s: never a 150 ms gap
        at = T0 + timedelta(milliseconds=100 * i)
        feed.send(event(E.STOP, f"p{i}", at=at), working(f"p{i}"), idle, now=at)
        before = len(feed.alerts)
        feed.tick(at)
        if len(feed.alerts) > before:
            sent_at.append(at - T0)
    assert sent_at, "a trickle must not postpone notifications for ever"
    assert sent_at[0] <= MAX_GATHER
    assert all(b - a >= COOLDOWN for a, b in zip(sent_at, sent_at[1:], strict=False))


def test_mixed_bursts_are_titled_by_counts_and_take_the_most_urgent_kind() -> None:
    feed = Feed()
    feed.send(event(E.STOP, "a"), working("a"), track(SessionState.IDLE, "a"))
    feed.send(
        event(E.STOP_FAILURE, "b", message="API error: overloaded"),
        working("b"),
        track(SessionState.FAILED, "b"),
    )
    feed.send(
        event(E.PERMISSION_REQUEST, "c", message="Bash: ls"), working("c"), track(SessionState.NEEDS_YOU, "c")
    )
    feed.tick(T0 + GATHER)
    (alert,) = feed.alerts
    assert alert.kind is AlertKind.SESSION_NEEDS_YOU
    assert alert.title == "Claude: 1 needs you, 1 failed, 1 finished"
    assert "b-proj failed: API error: overloaded" in alert.body.splitlines()


def test_after_a_notification_the_next_waits_for_the_cooldown_and_then_comes_alone() -> None:
    feed = Feed()
    feed.send(event(E.STOP_FAILURE, "a"), working("a"), track(SessionState.FAILED, "a"))
    feed.tick(T0 + GATHER)
    later = T0 + GATHER + timedelta(milliseconds=500)
    feed.send(event(E.STOP_FAILURE, "b", at=later), working("b"), track(SessionState.FAILED, "b"), now=later)
    feed.tick(later + GATHER)
    assert len(feed.alerts) == 1  # held by the cooldown
    feed.tick(T0 + GATHER + COOLDOWN)
    assert [a.title for a in feed.alerts] == ["Claude failed · a-proj", "Claude failed · b-proj"]


def test_quiet_hours_and_pause_hold_notices_and_drop_them() -> None:
    quiet = Feed(replace(CFG, quiet_hours=(time(11, 0), time(13, 0))))
    quiet.send(event(E.PERMISSION_REQUEST), working(), track(SessionState.NEEDS_YOU))
    quiet.tick(T0 + timedelta(hours=2))
    assert quiet.alerts == []
    paused = Feed(replace(CFG, paused_until=T0 + timedelta(minutes=30)))
    paused.send(event(E.PERMISSION_REQUEST), working(), track(SessionState.NEEDS_YOU))
    paused.tick(T0 + timedelta(hours=1))
    assert paused.alerts == []  # not delivered after the pause either
    after = T0 + timedelta(hours=1)
    paused.send(event(E.STOP_FAILURE, at=after), working(), track(SessionState.FAILED), now=after)
    paused.tick(after + GATHER)
    assert len(paused.alerts) == 1
    off = Feed(replace(CFG, enabled=False))
    off.send(event(E.STOP_FAILURE), working(), track(SessionState.FAILED))
    off.tick(T0 + timedelta(minutes=1))
    assert off.alerts == []


def test_new_session_is_off_by_default_and_only_for_a_real_start() -> None:
    default = Feed()
    default.send(event(E.SESSION_START, source="startup"), None, track(SessionState.IDLE))
    default.tick(T0 + timedelta(seconds=5))
    assert default.alerts == []
    on = Feed(replace(CFG, new_session=True))
    on.send(event(E.SESSION_START, "b", source="compact"), None, track(SessionState.IDLE, "b"))
    on.send(event(E.SESSION_START, "a", source="startup"), None, track(SessionState.IDLE, "a"))
    on.tick(T0 + timedelta(seconds=5))
    assert [(a.kind, a.title) for a in on.alerts] == [
        (AlertKind.SESSION_STARTED, "New Claude session · a-proj")
    ]


def test_each_kind_can_be_switched_off() -> None:
    feed = Feed(replace(CFG, needs_you=False, finished=False, failed=False))
    feed.send(event(E.PERMISSION_REQUEST, "a"), working("a"), track(SessionState.NEEDS_YOU, "a"))
    feed.send(event(E.STOP, "b"), working("b"), track(SessionState.IDLE, "b"))
    feed.send(event(E.STOP_FAILURE, "c"), working("c"), track(SessionState.FAILED, "c"))
    feed.tick(T0 + timedelta(seconds=5))
    assert feed.alerts == []


def test_remembered_keys_are_forgotten_after_a_day() -> None:
    feed = Feed()
    feed.send(event(E.STOP_FAILURE), working(), track(SessionState.FAILED))
    assert len(feed.memory.decided) == 1
    later = T0 + FORGET_AFTER + timedelta(seconds=1)
    feed.send(event(E.SUBAGENT_STOP, at=later), None, track(SessionState.WORKING), now=later)
    assert feed.memory.decided == {}


def test_first_line_skips_blank_lines_and_cuts_long_ones() -> None:
    assert first_line("\n  \n  hello   world \nmore") == "hello world"
    assert first_line("   ") is None
    assert first_line(None) is None
    cut = first_line("x" * 500, limit=20)
    assert cut is not None
    assert len(cut) == 20
    assert cut.endswith("…")


def test_an_agent_run_says_only_needs_you_here_its_end_and_failure_are_the_agents_notices() -> None:
    feed = Feed()
    idle = track(SessionState.IDLE, last=E.STOP)

    def send(ev: HookEvent, previous: HookTrack | None, new: HookTrack, elsewhere: bool) -> None:
        at = ev.received_at
        feed.memory = decide(
            ev, previous, new, None, feed.config, feed.memory, at, tz=UTC, announced_elsewhere=elsewhere
        )

    send(event(E.STOP, "agent"), working("agent"), idle, True)
    send(event(E.STOP_FAILURE, "agent", at=T0 + timedelta(seconds=1)), working("agent"), idle, True)
    feed.tick(T0 + timedelta(seconds=10))
    assert feed.alerts == []  # "Agent done" / "Agent failed" say it
    asks = event(E.PERMISSION_REQUEST, "agent", at=T0 + timedelta(seconds=20), message="Bash: make")
    send(asks, working("agent"), track(SessionState.NEEDS_YOU, "agent"), True)
    feed.tick(T0 + timedelta(seconds=30))
    assert [(a.kind, a.extra["session_id"]) for a in feed.alerts] == [(AlertKind.SESSION_NEEDS_YOU, "agent")]
    send(event(E.STOP, "mine", at=T0 + timedelta(seconds=40)), working("mine"), idle, False)
    feed.tick(T0 + timedelta(seconds=50))
    assert [(a.kind, a.extra["session_id"]) for a in feed.alerts][1:] == [
        (AlertKind.SESSION_FINISHED, "mine")
    ]
