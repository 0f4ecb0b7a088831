"""The agents queue's pure decision (priority, FIFO, caps, pinned slots, holds near the limit and
release after the reset) and the cost estimate from past results."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from trayapp.core.agents import (
    LimitView,
    QueuePolicy,
    Slot,
    Task,
    TaskSpec,
    TaskState,
    decide,
    estimate_cost,
)

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
LOCAL = [Slot("local", cap=2)]
POLICY = QueuePolicy()


def task(
    tid: str,
    *,
    minutes: int = 0,
    priority: int = 0,
    state: TaskState = TaskState.QUEUED,
    slot: str | None = None,
    pin: str | None = None,
    folder: str = "/p",
    cost: float | None = None,
) -> Task:
    spec = TaskSpec(prompt="x", folder=folder, priority=priority, slot=pin)
    return Task(
        id=tid, spec=spec, state=state, created_at=NOW + timedelta(minutes=minutes), slot=slot, cost_usd=cost
    )


def test_three_tasks_cap_two_runs_the_first_two_fifo() -> None:
    tasks = [task("c", minutes=2), task("a", minutes=0), task("b", minutes=1)]
    d = decide(tasks, LOCAL, LimitView(), POLICY, NOW)
    assert d.start == (("a", "local"), ("b", "local"))
    assert d.hold == ()
    assert d.wake_at is None


def test_active_tasks_count_against_the_cap() -> None:
    tasks = [task("r", state=TaskState.RUNNING, slot="local"), task("a"), task("b", minutes=1)]
    assert decide(tasks, LOCAL, LimitView(), POLICY, NOW).start == (("a", "local"),)
    done = [replace(tasks[0], state=TaskState.DONE), *tasks[1:]]
    assert len(decide(done, LOCAL, LimitView(), POLICY, NOW).start) == 2


def test_priority_before_fifo() -> None:
    tasks = [task("old"), task("urgent", minutes=5, priority=3)]
    d = decide(tasks, [Slot("local", cap=1)], LimitView(), POLICY, NOW)
    assert d.start == (("urgent", "local"),)


def test_pinned_task_waits_for_its_slot_others_use_free_ones() -> None:
    slots = [Slot("local", cap=1), Slot("docker:a", cap=1)]
    tasks = [
        task("busy", state=TaskState.RUNNING, slot="docker:a"),
        task("pinned", pin="docker:a"),
        task("free", minutes=1),
        task("next", minutes=2),
        task("nowhere", minutes=3, pin="docker:zz"),
    ]
    d = decide(tasks, slots, LimitView(), POLICY, NOW)
    assert d.start == (("free", "local"),)
    assert any("docker:zz" in n for n in d.notes)


def test_held_above_threshold_until_the_reset_then_released() -> None:
    reset = NOW + timedelta(hours=1)
    limits = LimitView(binding_utilization=90.0, binding_resets_at=reset, binding_label="5-hour")
    tasks = [task("a"), task("b", minutes=1)]
    d = decide(tasks, LOCAL, limits, POLICY, NOW)
    assert d.start == ()
    assert [h[0] for h in d.hold] == ["a", "b"]
    assert d.hold[0][1] == "5-hour at 90% (holds above 85%)"
    assert d.hold[0][2] == reset
    assert d.wake_at == reset
    held = [replace(t, state=TaskState.HELD) for t in tasks]
    after = decide(held, LOCAL, limits, POLICY, reset)
    assert after.start == (("a", "local"), ("b", "local"))


def test_at_threshold_does_not_hold() -> None:
    limits = LimitView(binding_utilization=85.0, binding_resets_at=NOW + timedelta(hours=1))
    assert decide([task("a")], LOCAL, limits, POLICY, NOW).start == (("a", "local"),)


def test_rate_limit_status_not_allowed_holds_without_utilization() -> None:
    reset = NOW + timedelta(minutes=30)
    limits = LimitView(rate_limit_status="rejected", rate_limit_resets_at=reset)
    d = decide([task("a")], LOCAL, limits, POLICY, NOW)
    assert d.hold == (("a", "Claude Code reports rate limit rejected", reset),)
    ok = replace(limits, rate_limit_status="allowed")
    assert decide([task("a")], LOCAL, ok, POLICY, NOW).start == (("a", "local"),)
    unknown_reset = LimitView(rate_limit_status="rejected")
    d2 = decide([task("a")], LOCAL, unknown_reset, POLICY, NOW + timedelta(days=3))
    assert d2.hold
    assert d2.wake_at is None


def test_nothing_waiting_is_an_empty_decision() -> None:
    d = decide(
        [task("r", state=TaskState.RUNNING, slot="local")],
        LOCAL,
        LimitView(binding_utilization=99.0),
        POLICY,
        NOW,
    )
    assert d.start == ()
    assert d.hold == ()


def test_estimate_cost_same_project_then_all_then_none() -> None:
    hist = [
        task("1", state=TaskState.DONE, folder="/a", cost=1.0),
        task("2", state=TaskState.DONE, folder="/a", cost=3.0),
        task("3", state=TaskState.FAILED, folder="/b", cost=10.0),
        task("4", state=TaskState.RUNNING, folder="/a", cost=50.0),
    ]
    assert estimate_cost(hist, "/a") == 2.0
    assert estimate_cost(hist, "/c") == 3.0
    assert estimate_cost(hist[:2], "/c") is None
    assert estimate_cost(hist[1:3], "/a") is None


def test_apply_event_init_assistant_tool_result() -> None:
    from trayapp.core.agents import apply_event
    from trayapp.core.stream_json import (
        AssistantEvent,
        ResultEvent,
        SystemEvent,
        TextBlock,
        ToolUse,
        Unknown,
        Usage,
    )

    t = task("a", state=TaskState.RUNNING)
    t = apply_event(t, SystemEvent("init", "sid-1", "claude-opus-4-5"))
    assert (t.session_id, t.model) == ("sid-1", "claude-opus-4-5")
    assert apply_event(t, SystemEvent("compact_boundary", "other")) is t
    t = apply_event(
        t, AssistantEvent("sid-1", None, (TextBlock("\n  Reading files  \nmore"),), Usage(5, 2, 1, 3))
    )
    assert t.last_line == "Reading files"
    assert (t.input_tokens, t.output_tokens, t.cache_creation_tokens, t.cache_read_tokens) == (5, 2, 1, 3)
    tool = ToolUse("x", "Edit", {"file_path": "src/app.py", "old_string": "a"})
    t = apply_event(t, AssistantEvent("sid-1", None, (tool,), Usage(1, 1)))
    assert t.last_line == "Edit: src/app.py"
    assert t.output_tokens == 3
    assert apply_event(t, Unknown("stream_event")) is t
    done = apply_event(t, ResultEvent("success", False, "sid-1", "ok", Usage(100, 50), 0.3, 900, 4))
    assert (done.state, done.cost_usd, done.turns, done.input_tokens, done.output_tokens) == (
        TaskState.DONE,
        0.3,
        4,
        100,
        50,
    )
    failed = apply_event(t, ResultEvent("error_max_turns", True, "sid-1", None))
    assert failed.state is TaskState.FAILED
    assert failed.error == "error_max_turns"


def test_tool_line_is_one_short_line() -> None:
    from trayapp.core.agents import LINE_MAX, tool_line
    from trayapp.core.stream_json import ToolUse

    assert tool_line(ToolUse("1", "Bash", {"command": "npm test\nnpm run lint"})) == "Bash: npm test"
    assert tool_line(ToolUse("1", "TodoWrite", {"todos": []})) == "TodoWrite"
    assert len(tool_line(ToolUse("1", "Bash", {"command": "x" * 1000}))) == LINE_MAX
