"""The agents' rows and the popup's Agents section: the words and details per state (held with its
reason and resume time, queued with its estimate, a foreign session marked), the merge of ours
with Claude Code sessions (ours listed once), the order, "n more…", and the coalescing that bounds
repaints whatever the change rate."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from trayapp.core.agents import Task, TaskSpec, TaskState
from trayapp.core.clock import FakeClock
from trayapp.core.sessions import Session, SessionState
from trayapp.ui.agents_panel import MAX_ROWS, AgentsPanel, heading_text
from trayapp.ui.agents_rows import (
    STATE_WORDS,
    AgentRow,
    agent_items,
    detail_text,
    item_for,
    state_colour,
)
from trayapp.ui.theme import DARK, LIGHT

NOW = datetime(2026, 12, 3, 14, 0, tzinfo=UTC)


def task(tid: str, state: TaskState = TaskState.RUNNING, **kw) -> Task:
    values = {
        "spec": TaskSpec(prompt=f"Fix the tests in {tid}\nand more", folder=f"/work/{tid}"),
        "created_at": NOW - timedelta(minutes=30),
        "started_at": NOW - timedelta(minutes=12)
        if state not in (TaskState.QUEUED, TaskState.HELD)
        else None,
    }
    values.update(kw)
    return Task(tid, state=state, **values)


def test_every_state_has_its_word_and_colour(qapp):
    assert set(STATE_WORDS) == set(TaskState)
    assert STATE_WORDS[TaskState.HELD] == "Held: near limit"
    for state in TaskState:
        row = AgentRow(item_for(task("t-1", state)), NOW)
        row.set_theme(DARK)
        assert row.chip.text() == STATE_WORDS[state]
        assert state_colour(DARK, state) in row.chip.styleSheet()
    assert state_colour(LIGHT, TaskState.FAILED) != state_colour(LIGHT, TaskState.DONE)


def test_details_running_held_queued_done():
    running = task(
        "t-1", input_tokens=40_000, output_tokens=5_100, cost_usd=0.4213, last_line="Editing app.py"
    )
    assert detail_text(item_for(running), NOW) == "for 12 min · 45.1k tokens · $0.42"
    held = task(
        "t-2",
        TaskState.HELD,
        held_reason="5-hour at 91% (holds above 85%)",
        resume_at=NOW + timedelta(hours=1, minutes=3),
    )
    assert (
        detail_text(item_for(held, 0.4), NOW)
        == "5-hour at 91% (holds above 85%) · resumes 15:03 · est. $0.40"
    )
    queued = task("t-3", TaskState.QUEUED)
    assert detail_text(item_for(queued, 1.5), NOW) == "waiting 30 min · est. $1.50"
    done = task("t-4", TaskState.DONE, finished_at=NOW - timedelta(minutes=2), cost_usd=2.0)
    assert detail_text(item_for(done, 9.0), NOW) == "ran 10 min · $2.00"  # no estimate once it ran


def test_failed_row_shows_the_error_in_red(qapp):
    failed = task("t-1", TaskState.FAILED, error="claude exited with status 1", last_line="x")
    row = AgentRow(item_for(failed), NOW)
    row.set_theme(LIGHT)
    assert row.activity.text() == "claude exited with status 1"
    assert LIGHT.levels["at_limit"] in row.activity.styleSheet()


def test_merge_lists_ours_once_marks_foreign_and_orders():
    ours_bg = task("t-bg", TaskState.RUNNING, session_id="s-ours", started_at=NOW - timedelta(minutes=1))
    sessions = [
        Session("s-ours", SessionState.WORKING, "mine"),
        Session("s-other", SessionState.IDLE, "other", project_dir="/work/other", started_at=NOW),
        Session("s-ask", SessionState.NEEDS_YOU, "asker", needs_you_reason="Allow Bash(rm)?"),
    ]
    tasks = [
        task("t-done", TaskState.DONE, finished_at=NOW - timedelta(minutes=1)),
        task("t-q2", TaskState.QUEUED, created_at=NOW - timedelta(minutes=5)),
        task("t-q1", TaskState.QUEUED, created_at=NOW - timedelta(minutes=9)),
        ours_bg,
    ]
    items = agent_items(tasks, sessions, lambda t: 0.25)
    ids = [i.id for i in items]
    assert ids == ["session:s-ask", "t-bg", "session:s-other", "t-q1", "t-q2", "t-done"]
    other = items[2]
    assert not other.ours
    assert other.word == "Idle"
    assert detail_text(other, NOW).endswith("not started here")
    assert items[0].task.last_line == "Allow Bash(rm)?"
    assert items[3].estimate == 0.25
    assert items[1].estimate is None


def test_panel_shows_the_first_few_and_n_more(qapp):
    panel = AgentsPanel(FakeClock(NOW))
    items = agent_items([task(f"t-{i}", created_at=NOW - timedelta(minutes=i)) for i in range(7)])
    panel.set_items(items)
    assert len(panel.rows) == MAX_ROWS
    assert panel.more.isVisibleTo(panel)
    assert panel.more.text() == f"{7 - MAX_ROWS} more…"
    assert panel.heading.text() == "Agents (7) · 7 running"
    assert not panel.empty.isVisibleTo(panel)
    opened: list[str] = []
    panel.open_requested.connect(opened.append)
    panel.rows[0].open_button.click()
    panel.more.click()
    assert opened == [panel.rows[0].item.id, ""]


def test_panel_empty_and_heading_words(qapp):
    panel = AgentsPanel(FakeClock(NOW))
    panel.set_items([])
    assert panel.empty.isVisibleTo(panel)
    assert not panel.more.isVisibleTo(panel)
    items = agent_items([task("a"), task("b", TaskState.HELD), task("c", TaskState.DONE)])
    assert heading_text(items) == "Agents (3) · 1 running · 1 waiting"


def test_a_thousand_changes_cost_a_bounded_number_of_repaints(qapp, qtbot):
    panel = AgentsPanel(FakeClock(NOW))
    panel.show()  # the popup open (closed, it catches up every 2 s: the next test)
    base = task("t-1", output_tokens=0)
    for n in range(1000):
        panel.set_items([item_for(replace(base, output_tokens=n, last_line=f"line {n}"))])
    assert panel.renders == 1  # the first at once, the rest wait for the interval
    qtbot.waitUntil(lambda: panel.renders == 2, timeout=2000)
    qtbot.wait(450)
    assert panel.renders == 2  # one more with the latest, then quiet
    assert panel.rows[0].activity.text() == "line 999"
    assert "999 tokens" in panel.rows[0].detail.text()
    panel.hide()


def test_rows_are_reused_for_the_same_tasks(qapp):
    panel = AgentsPanel(FakeClock(NOW))
    panel.set_items(agent_items([task("a"), task("b")]))
    first = list(panel.rows)
    panel.coalescer.flush()
    panel.set_items(agent_items([task("a", last_line="new"), task("b")]))
    panel.coalescer.flush()
    assert panel.rows == first  # same widgets, new text
    assert [r.activity.text() for r in panel.rows] == ["new", ""]


def test_a_hidden_panel_catches_up_rarely_and_at_once_when_shown(qapp, qtbot):
    panel = AgentsPanel(clock=FakeClock(NOW))
    assert not panel.isVisible()
    for n in range(1, 11):  # a flood of changes while the popup is closed
        panel.set_items(agent_items([task(f"t-{k}") for k in range(n)], []))
    qtbot.wait(700)  # more than 3 intervals of an open popup's 200 ms
    assert panel.coalescer.delivered == 1  # the first at once, the rest wait (2 s while hidden)
    assert len(panel.items) == 1
    panel.show()
    assert panel.coalescer.delivered == 2  # shown: what waited shows at once
    assert len(panel.items) == 10
    panel.hide()
