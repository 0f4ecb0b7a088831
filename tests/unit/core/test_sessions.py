"""The hook fold (apply_hook: transitions, ordering, turn length) and the session merge's rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trayapp.core.session_merge import merge_sessions, needs_you_count, project_name
from trayapp.core.sessions import (
    HookEvent,
    HookEventName,
    HookTrack,
    JobRecord,
    RegistryRecord,
    SessionState,
    apply_hook,
)

T0 = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
E = HookEventName
S = SessionState


def ev(name: HookEventName, sec: float, sid: str = "s1", **kw: str | None) -> HookEvent:
    return HookEvent(event=name, session_id=sid, received_at=T0 + timedelta(seconds=sec), **kw)  # type: ignore[arg-type]


def fold(*events: HookEvent) -> HookTrack:
    track: HookTrack | None = None
    for event in events:
        track = apply_hook(track, event)
    assert track is not None
    return track


# -- apply_hook ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("names", "state"),
    [
        ([E.SESSION_START], S.IDLE),
        ([E.SESSION_START, E.USER_PROMPT_SUBMIT], S.WORKING),
        ([E.USER_PROMPT_SUBMIT, E.PERMISSION_REQUEST], S.NEEDS_YOU),
        ([E.USER_PROMPT_SUBMIT, E.NOTIFICATION], S.NEEDS_YOU),
        ([E.USER_PROMPT_SUBMIT, E.PERMISSION_REQUEST, E.POST_TOOL_USE], S.WORKING),
        ([E.USER_PROMPT_SUBMIT, E.NOTIFICATION, E.SUBAGENT_START], S.WORKING),
        ([E.STOP, E.TASK_CREATED], S.WORKING),
        ([E.STOP, E.PRE_COMPACT], S.WORKING),
        ([E.USER_PROMPT_SUBMIT, E.STOP], S.IDLE),
        ([E.USER_PROMPT_SUBMIT, E.STOP_FAILURE], S.FAILED),
        ([E.USER_PROMPT_SUBMIT, E.SESSION_END], S.DONE),
        ([E.SESSION_END, E.POST_TOOL_USE, E.NOTIFICATION], S.DONE),  # an ended session stays ended
        ([E.SESSION_END, E.SESSION_START], S.IDLE),  # ... until it starts again (resume)
        ([E.SESSION_END, E.USER_PROMPT_SUBMIT], S.WORKING),
        ([E.USER_PROMPT_SUBMIT, E.SESSION_START], S.IDLE),  # /clear: a fresh start
    ],
)
def test_transitions(names: list[HookEventName], state: SessionState) -> None:
    assert fold(*(ev(n, i) for i, n in enumerate(names))).state is state


def test_idle_prompt_notification_needs_you_but_auth_success_does_not() -> None:
    idle = fold(ev(E.STOP, 0), ev(E.NOTIFICATION, 60, notification_type="idle_prompt", message="waiting"))
    assert (idle.state, idle.needs_you_reason) == (S.NEEDS_YOU, "waiting")
    auth = fold(ev(E.STOP, 0), ev(E.NOTIFICATION, 1, notification_type="auth_success", message="ok"))
    assert auth.state is S.IDLE


def test_needs_you_reason_set_and_cleared() -> None:
    track = fold(ev(E.USER_PROMPT_SUBMIT, 0), ev(E.PERMISSION_REQUEST, 1, message="Bash: rm -rf build"))
    assert track.needs_you_reason == "Bash: rm -rf build"
    assert fold(ev(E.PERMISSION_REQUEST, 1, message="x"), ev(E.POST_TOOL_USE, 2)).needs_you_reason is None
    assert (
        fold(ev(E.PERMISSION_REQUEST, 1, message="x"), ev(E.USER_PROMPT_SUBMIT, 2)).needs_you_reason is None
    )


def test_compaction_inside_a_turn_keeps_it_running() -> None:
    track = fold(ev(E.USER_PROMPT_SUBMIT, 0), ev(E.PRE_COMPACT, 5), ev(E.SESSION_START, 6, source="compact"))
    assert track.state is S.WORKING
    assert track.turn_started_at == T0
    assert fold(ev(E.STOP, 0), ev(E.SESSION_START, 1, source="compact")).state is S.IDLE
    assert fold(ev(E.USER_PROMPT_SUBMIT, 0), ev(E.SESSION_START, 1, source="resume")).state is S.IDLE


def test_stop_keeps_the_turn_start_for_the_turn_length() -> None:
    track = fold(ev(E.USER_PROMPT_SUBMIT, 10), ev(E.POST_TOOL_USE, 50), ev(E.STOP, 100))
    assert track.state is S.IDLE
    assert track.last_event_at - track.turn_started_at == timedelta(seconds=90)  # type: ignore[operator]
    assert fold(
        ev(E.USER_PROMPT_SUBMIT, 10), ev(E.STOP, 20), ev(E.USER_PROMPT_SUBMIT, 30)
    ).turn_started_at == (T0 + timedelta(seconds=30))
    assert fold(ev(E.USER_PROMPT_SUBMIT, 10), ev(E.SESSION_START, 20)).turn_started_at is None


def test_state_since_moves_only_when_the_state_changes() -> None:
    track = fold(ev(E.USER_PROMPT_SUBMIT, 0), ev(E.POST_TOOL_USE, 5), ev(E.SUBAGENT_START, 9))
    assert (track.state_since, track.last_event_at) == (T0, T0 + timedelta(seconds=9))
    assert fold(ev(E.USER_PROMPT_SUBMIT, 0), ev(E.STOP, 7)).state_since == T0 + timedelta(seconds=7)


def test_subagents_counted_and_never_negative() -> None:
    track = fold(ev(E.SUBAGENT_START, 0), ev(E.SUBAGENT_START, 1), ev(E.SUBAGENT_STOP, 2))
    assert track.subagents == 1
    assert fold(ev(E.SUBAGENT_STOP, 0), ev(E.SUBAGENT_STOP, 1)).subagents == 0
    assert fold(ev(E.SUBAGENT_START, 0), ev(E.SESSION_END, 1)).subagents == 0


def test_out_of_order_event_does_not_move_the_state_back() -> None:
    track = fold(ev(E.USER_PROMPT_SUBMIT, 0), ev(E.STOP, 10))
    late = apply_hook(track, ev(E.PERMISSION_REQUEST, 5, message="late"))
    assert late == track
    # ... but fills a cwd nothing else gave
    assert apply_hook(track, ev(E.POST_TOOL_USE, 5, cwd="/w/p")).cwd == "/w/p"
    assert apply_hook(fold(ev(E.STOP, 10, cwd="/a")), ev(E.POST_TOOL_USE, 5, cwd="/b")).cwd == "/a"


def test_cwd_is_the_latest_given() -> None:
    track = fold(ev(E.SESSION_START, 0, cwd="/a"), ev(E.USER_PROMPT_SUBMIT, 1), ev(E.STOP, 2, cwd="/b"))
    assert track.cwd == "/b"
    assert fold(ev(E.SESSION_START, 0, cwd="/a"), ev(E.STOP, 1)).cwd == "/a"


_names = st.sampled_from(list(HookEventName))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_names, st.integers(0, 50)), min_size=1, max_size=12), st.data())
def test_any_shuffle_ends_where_the_sorted_sequence_ends(
    pairs: list[tuple[HookEventName, int]], data
) -> None:
    """Delivered in any order, the newest event decides the state: late events change nothing."""
    events = [ev(n, sec) for n, sec in pairs]
    in_order = fold(*sorted(events, key=lambda e: e.received_at))
    shuffled = fold(*data.draw(st.permutations(events)))
    newest = max(e.received_at for e in events)
    assert shuffled.last_event_at == newest
    last_wins = [e for e in events if e.received_at == newest]
    if len(last_wins) == 1 and last_wins[0].event in (
        E.USER_PROMPT_SUBMIT,
        E.STOP,
        E.SESSION_END,
        E.STOP_FAILURE,
    ):
        assert shuffled.state is in_order.state
    assert shuffled.state_since <= shuffled.last_event_at
    assert shuffled.subagents >= 0


# -- merge_sessions -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Cap:
    session_id: str
    captured_at: datetime
    project_dir: str | None = "/home/u/capproj"
    model: str | None = "Opus"
    context_percent: float | None = 42.0
    cost_usd: float | None = 1.25
    session_name: str | None = None


NOW = T0 + timedelta(hours=1)


def rec(pid: int, sid: str | None, **kw) -> RegistryRecord:
    kw.setdefault("cwd", f"/home/u/proj{pid}")
    kw.setdefault("started_at", T0)
    return RegistryRecord(pid=pid, config_dir="/c", path=f"/c/sessions/{pid}.json", session_id=sid, **kw)


def track(sid: str, state: SessionState, ago: timedelta, **kw) -> HookTrack:
    at = NOW - ago
    return HookTrack(session_id=sid, state=state, state_since=at, last_event=E.STOP, last_event_at=at, **kw)


def merge(registry=(), jobs=(), tracks=None, captures=(), **kw):
    return merge_sessions(registry=registry, jobs=jobs, tracks=tracks or {}, captures=captures, now=NOW, **kw)


def test_registry_is_the_backbone() -> None:
    (session,) = merge([rec(11, "a", name="fix-bug", kind="interactive", entrypoint="cli")])
    assert (session.session_id, session.pid, session.project, session.name) == ("a", 11, "proj11", "fix-bug")
    assert (session.state, session.sources, session.config_dir) == (S.IDLE, ("registry",), "/c")
    assert session.state_since == T0


def test_registry_status_when_nothing_better() -> None:
    (busy,) = merge([rec(1, "a", status="busy", updated_at=NOW - timedelta(seconds=3))])
    assert busy.state is S.WORKING
    (hooked,) = merge(
        [rec(1, "a", status="busy", updated_at=NOW)],
        tracks={"a": track("a", S.NEEDS_YOU, timedelta(minutes=5))},
    )
    assert hooked.state is S.NEEDS_YOU


def test_parked_record_defers_to_its_job() -> None:
    job = JobRecord(job_id="j1", config_dir="/c", session_id="bg-sess", state="working", cwd="/w/api", pid=99)
    sessions = merge([rec(11, "a", parked_job_id="j1"), rec(12, "b")], [job])
    assert [s.session_id for s in sessions] == ["bg-sess", "b"]
    assert (sessions[0].kind, sessions[0].job_id, sessions[0].sources) == ("bg", "j1", ("job",))
    # a parked record whose job is not listed is still a live process: shown
    assert {s.session_id for s in merge([rec(11, "a", parked_job_id="gone")])} == {"a"}


@pytest.mark.parametrize(
    ("state", "status", "expected"),
    [
        ("working", None, S.WORKING),
        ("blocked", "waiting", S.NEEDS_YOU),
        ("failed", None, S.FAILED),
        ("error", None, S.FAILED),
        (None, "waiting", S.NEEDS_YOU),
        (None, "busy", S.WORKING),
        (None, None, S.IDLE),
        ("weird", "idle", S.IDLE),
    ],
)
def test_job_states(state: str | None, status: str | None, expected: SessionState) -> None:
    (session,) = merge(
        jobs=[JobRecord(job_id="j", config_dir="/c", state=state, status=status, detail="Allow Bash?")]
    )
    assert (session.state, session.session_id) == (expected, "job:j")
    assert session.needs_you_reason == ("Allow Bash?" if expected is S.NEEDS_YOU else None)


@pytest.mark.parametrize("state", ["done", "stopped"])
def test_finished_jobs_only_with_include_done(state: str) -> None:
    job = JobRecord(job_id="j", config_dir="/c", session_id="x", state=state)
    assert merge(jobs=[job]) == []
    assert [s.state for s in merge(jobs=[job], include_done=True)] == [S.DONE]


def test_job_joins_the_registry_session_with_its_session_id() -> None:
    job = JobRecord(job_id="j", config_dir="/c", session_id="a", state="blocked", updated_at=NOW)
    (session,) = merge([rec(1, "a")], [job])
    assert (session.state, session.job_id, session.pid, session.sources) == (
        S.NEEDS_YOU,
        "j",
        1,
        ("registry", "job"),
    )


def test_hooks_win_only_when_fresher_than_the_job() -> None:
    job = JobRecord(
        job_id="j", config_dir="/c", session_id="a", state="working", updated_at=NOW - timedelta(minutes=1)
    )
    older = {"a": track("a", S.IDLE, timedelta(minutes=2))}
    newer = {"a": track("a", S.NEEDS_YOU, timedelta(seconds=5), needs_you_reason="Allow?")}
    assert merge(jobs=[job], tracks=older)[0].state is S.WORKING
    (session,) = merge(jobs=[job], tracks=newer)
    assert (session.state, session.needs_you_reason) == (S.NEEDS_YOU, "Allow?")
    assert session.sources == ("job", "hooks")
    assert session.state_since == NOW - timedelta(seconds=5)


def test_hook_state_on_a_registry_session() -> None:
    tracks = {"a": track("a", S.WORKING, timedelta(minutes=50), cwd="/else/where")}  # old but the only word
    (session,) = merge([rec(1, "a")], tracks=tracks)
    assert (session.state, session.project) == (S.WORKING, "proj1")
    assert session.last_activity == NOW - timedelta(minutes=50)


def test_hook_only_sessions_and_their_ttls() -> None:
    tracks = {
        "fresh": track("fresh", S.WORKING, timedelta(minutes=29), cwd="/w/fresh"),
        "stale": track("stale", S.IDLE, timedelta(minutes=31)),
        "failed": track("failed", S.FAILED, timedelta(minutes=9)),
        "old-failed": track("old-failed", S.FAILED, timedelta(minutes=11)),
        "ended": track("ended", S.DONE, timedelta(minutes=9)),
        "old-ended": track("old-ended", S.DONE, timedelta(minutes=11)),
    }
    assert [s.session_id for s in merge(tracks=tracks)] == ["fresh", "failed"]
    assert [s.session_id for s in merge(tracks=tracks, include_done=True)] == ["fresh", "failed", "ended"]
    assert merge(tracks=tracks)[0].project == "fresh"
    assert [s.session_id for s in merge(tracks=tracks, hook_ttl=timedelta(hours=1))] == [
        "fresh",
        "stale",
        "failed",
    ]


def test_captures_add_details_and_capture_only_sessions() -> None:
    caps = [
        Cap("a", NOW - timedelta(minutes=2), model="Sonnet"),
        Cap("busy", NOW - timedelta(seconds=59)),
        Cap("quiet", NOW - timedelta(seconds=61), project_dir=None),
        Cap("gone", NOW - timedelta(minutes=5)),
        Cap("busy", NOW - timedelta(minutes=3), model="older"),  # an older capture of the same session
    ]
    sessions = {s.session_id: s for s in merge([rec(1, "a")], captures=caps)}
    assert set(sessions) == {"a", "busy", "quiet"}
    a = sessions["a"]
    assert (a.model, a.context_percent, a.cost_usd, a.project, a.state) == (
        "Sonnet",
        42.0,
        1.25,
        "proj1",
        S.IDLE,
    )
    assert a.sources == ("registry", "statusline")
    assert (sessions["busy"].state, sessions["busy"].model) == (S.WORKING, "Opus")
    assert (sessions["quiet"].state, sessions["quiet"].project) == (S.IDLE, "?")


def test_a_capture_does_not_override_a_known_state() -> None:
    cap = [Cap("a", NOW - timedelta(seconds=5))]
    assert merge([rec(1, "a")], captures=cap)[0].state is S.WORKING  # nothing else knows: captures guess
    tracks = {"a": track("a", S.NEEDS_YOU, timedelta(minutes=3))}
    assert merge([rec(1, "a")], tracks=tracks, captures=cap)[0].state is S.NEEDS_YOU


def test_sort_needs_you_first_then_most_recent() -> None:
    tracks = {
        "w-old": track("w-old", S.WORKING, timedelta(minutes=9)),
        "idle": track("idle", S.IDLE, timedelta(minutes=1)),
        "w-new": track("w-new", S.WORKING, timedelta(minutes=2)),
        "needs": track("needs", S.NEEDS_YOU, timedelta(minutes=20)),
        "failed": track("failed", S.FAILED, timedelta(minutes=1)),
        "done": track("done", S.DONE, timedelta(minutes=1)),
    }
    sessions = merge(tracks=tracks, include_done=True)
    assert [s.session_id for s in sessions] == ["needs", "w-new", "w-old", "idle", "failed", "done"]
    assert needs_you_count(sessions) == 1


def test_record_without_session_id_and_project_names() -> None:
    (session,) = merge([rec(7, None, cwd=None)])
    assert (session.session_id, session.project) == ("pid:7", "?")
    assert project_name("C:\\Users\\me\\repo\\") == "repo"
    assert project_name("/") == "?"
