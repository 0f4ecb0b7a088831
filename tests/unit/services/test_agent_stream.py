"""The queue's per-line bookkeeping: the budget check priced from tokens, the limits after a
rate-limit event (with and without utilization), and how a run's exit reads."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from trayapp.core.agents import LimitView, Task, TaskSpec, TaskState
from trayapp.core.stream_json import RateLimitEvent
from trayapp.services.agent_stream import (
    StreamState,
    exit_state,
    fold_line,
    limits_after,
    over_budget,
    settle,
)
from trayapp.services.ledger_service import default_price_table

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def running(budget: float | None = None) -> Task:
    spec = TaskSpec("p", "/p", budget_usd=budget)
    return Task("t-1", spec, TaskState.RUNNING, model="claude-sonnet-4-5")


def test_over_budget_from_priced_tokens_or_the_reported_cost() -> None:
    prices = default_price_table()
    t = replace(running(budget=0.10), output_tokens=1_000)
    assert over_budget(t, prices) is False
    assert over_budget(replace(t, output_tokens=1_000_000), prices) is True
    assert over_budget(replace(t, output_tokens=1_000_000), None) is False  # no prices: only a cost
    assert over_budget(replace(t, cost_usd=0.11), None) is True
    assert over_budget(replace(running(), output_tokens=10**9), prices) is False  # no budget


def test_fold_line_reports_budget_and_counts_bad_lines() -> None:
    prices = default_price_table()
    state = StreamState()
    t = running(budget=0.01)
    message = {"content": [{"type": "text", "text": "hi"}], "usage": {"output_tokens": 5000}}
    line = json.dumps({"type": "assistant", "message": message}).encode()
    out = fold_line(state, t, line, prices)
    assert (out.task, out.human, out.unsettled) == (t, "hi", True)  # tallied, not applied yet
    settled = settle(state, t, prices)
    assert (settled.task.output_tokens, settled.task.last_line, settled.over_budget) == (5000, "hi", True)
    assert settle(state, settled.task, prices).task is settled.task  # nothing left to apply
    assert fold_line(state, t, b"{oops", prices).task is t
    assert fold_line(state, t, b'{"type":"control_request"}', prices).task is t
    assert (state.lines, state.bad_lines, state.unknown) == (3, 1, 1)
    result = b'{"type":"result","subtype":"success","is_error":false,"total_cost_usd":0.001}'
    after = fold_line(state, settled.task, result, prices)
    assert after.task.state is TaskState.RUNNING  # done only once the child has exited
    assert state.result is TaskState.DONE


def test_limits_after_rate_limit_events() -> None:
    reset = NOW + timedelta(hours=1)
    plain = limits_after(LimitView(binding_utilization=40.0), RateLimitEvent("rejected", "five_hour", reset))
    assert (plain.rate_limit_status, plain.rate_limit_resets_at, plain.binding_utilization) == (
        "rejected",
        reset,
        40.0,
    )
    high = limits_after(
        LimitView(binding_utilization=40.0), RateLimitEvent("allowed", "seven_day", reset, utilization=88.0)
    )
    assert (high.binding_utilization, high.binding_label, high.binding_resets_at) == (88.0, "Weekly", reset)
    lower = limits_after(high, RateLimitEvent("allowed", "five_hour", reset, utilization=10.0))
    assert lower.binding_utilization == 88.0


def test_exit_state() -> None:
    t = running()
    assert exit_state(t, -15, "", True, None).state is TaskState.STOPPED
    assert exit_state(t, 0, "", False, TaskState.DONE).state is TaskState.DONE
    bare = exit_state(t, 0, "", False, None)
    assert (bare.state, bare.error) == (TaskState.FAILED, "claude ended without a result")
    crashed = exit_state(t, 2, "trace\nError: not logged in\n", False, None)
    assert crashed.error == "claude exited with status 2: Error: not logged in"
