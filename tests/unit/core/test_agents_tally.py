"""Assistant events tallied and applied to a task at once equal the same events applied one by one
(the queue folds a read round's assistant lines that way: one copy of the task per round)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from trayapp.core.agents import AssistantTally, Task, TaskSpec, TaskState, apply_event
from trayapp.core.stream_json import AssistantEvent, TextBlock, ToolUse, Usage

texts = st.sampled_from(["", "  ", "Looking at it\nmore", "done", "x" * 300])
blocks = st.one_of(
    st.builds(TextBlock, texts),
    st.builds(
        ToolUse,
        st.just("t1"),
        st.sampled_from(["Bash", "Edit", ""]),
        st.sampled_from([{}, {"command": "npm test"}, {"file_path": "src/app.py"}, {"command": " "}]),
    ),
)
usages = st.one_of(st.none(), st.builds(Usage, *(st.integers(0, 10**6) for _ in range(4))))
events = st.builds(
    AssistantEvent,
    st.none(),
    st.sampled_from([None, "", "claude-sonnet-4-5", "claude-opus-4-1"]),
    st.lists(blocks, max_size=4).map(tuple),
    usages,
)
tasks = st.builds(
    lambda line, model, out: Task(
        "t-1", TaskSpec("p", "/p"), TaskState.RUNNING, last_line=line, model=model, output_tokens=out
    ),
    st.sampled_from(["", "earlier line"]),
    st.sampled_from([None, "claude-haiku-4-5"]),
    st.integers(0, 1000),
)


@given(tasks, st.lists(events, max_size=12))
def test_a_tally_applied_once_equals_the_events_applied_one_by_one(
    task: Task, burst: list[AssistantEvent]
) -> None:
    one_by_one = task
    for event in burst:
        one_by_one = apply_event(one_by_one, event)
    tally = AssistantTally(task.last_line, task.model)
    for event in burst:
        tally.add(event)
    assert tally.applied_to(task) == one_by_one


def test_tokens_add_to_the_task_and_the_first_model_stays() -> None:
    task = Task("t-1", TaskSpec("p", "/p"), TaskState.RUNNING, input_tokens=5)
    tally = AssistantTally(task.last_line, task.model)
    tally.add(AssistantEvent(None, "claude-sonnet-4-5", (TextBlock("first"),), Usage(10, 2, 3, 4)))
    tally.add(AssistantEvent(None, "claude-opus-4-1", (TextBlock(""),), Usage(1, 1, 1, 1)))
    out = tally.applied_to(task)
    assert (out.input_tokens, out.output_tokens, out.cache_creation_tokens, out.cache_read_tokens) == (
        16,
        3,
        4,
        5,
    )
    assert (out.model, out.last_line) == ("claude-sonnet-4-5", "first")
