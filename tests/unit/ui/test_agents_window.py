"""The Agents window: stream-json lines as people read them, the tail following a real log file as
it grows (read through the feature's reader on the io lane), a rotated log starting over, at most
MAX_TAIL_LINES kept, the actions' intents, and Stop on a session we did not start asking first."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.helpers.async_wait import until
from trayapp import runtime
from trayapp.core.agents import Task, TaskSpec, TaskState
from trayapp.core.clock import FakeClock
from trayapp.features.agents_data import FIRST_TAIL, read_chunk
from trayapp.ui.agents_rows import item_for
from trayapp.ui.agents_window import MAX_TAIL_LINES, AgentsWindow, TailChunk, readable

NOW = datetime(2026, 12, 3, 14, 0, tzinfo=UTC)


def task(tid: str, state: TaskState = TaskState.RUNNING, **kw) -> Task:
    spec = TaskSpec(prompt=f"do {tid}", folder="/work/p")
    return Task(tid, spec, state=state, started_at=NOW - timedelta(minutes=3), session_id=f"s-{tid}", **kw)


def assistant(text: str = "", tool: tuple[str, dict] | None = None) -> str:
    content: list[dict] = [{"type": "text", "text": text}] if text else []
    if tool:
        content.append({"type": "tool_use", "id": "tu1", "name": tool[0], "input": tool[1]})
    return json.dumps({"type": "assistant", "message": {"content": content}})


def test_readable_lines():
    assert readable(assistant("Looking at the tests.\nThen fixing.")) == "Looking at the tests. Then fixing."
    assert readable(assistant(tool=("Bash", {"command": "pytest -q"}))) == "→ Bash(pytest -q)"
    init = json.dumps({"type": "system", "subtype": "init", "model": "claude-opus-4-8", "session_id": "s"})
    assert readable(init) == "▶ started (claude-opus-4-8)"
    result = json.dumps(
        {"type": "result", "subtype": "success", "is_error": False, "total_cost_usd": 0.1234, "num_turns": 4}
    )
    assert readable(result) == "■ done · 4 turns · $0.12"
    assert readable(json.dumps({"type": "stream_event"})) is None
    assert readable("plain text from a background log") == "plain text from a background log"
    assert readable("") is None
    assert readable('{"type": "assistant", "message": 5}') is None  # malformed JSON events: skipped
    limit = {"type": "rate_limit_event", "rate_limit_info": {"status": "rejected", "resetsAt": 1796400000}}
    assert readable(json.dumps(limit)) == "! rate limit: rejected"


def test_read_chunk_whole_lines_offsets_first_look_and_rotation(tmp_path: Path):
    log = tmp_path / "t.log"
    log.write_bytes(b"one\ntwo\npart")
    chunk = read_chunk(log, 0)
    assert chunk.lines == ("one", "two")
    assert chunk.offset == 8  # the partial line waits for its end
    with log.open("ab") as fh:
        fh.write(b"ial\nthree\n")
    chunk = read_chunk(log, chunk.offset)
    assert chunk.lines == ("partial", "three")
    log.write_bytes(b"new\n")  # rotated: shorter than where we were
    again = read_chunk(log, chunk.offset)
    assert again.reset
    assert again.lines == ("new",)
    big = tmp_path / "big.log"
    big.write_bytes(b"x" * 10 + b"\n" + b"y\n" * FIRST_TAIL)
    first = read_chunk(big, 0)
    assert set(first.lines) == {"y"}  # the end only; the cut line is dropped
    assert first.offset == big.stat().st_size
    assert read_chunk(tmp_path / "missing.log", 5) == TailChunk((), 5)


@pytest.mark.qt_loop
async def test_the_tail_follows_a_growing_log(qapp, tmp_path: Path):
    log = tmp_path / "t-1.log"
    log.write_text(assistant("first") + "\n")

    async def reader(task_id: str, offset: int) -> TailChunk | None:
        return await runtime.run_blocking(read_chunk, tmp_path / f"{task_id}.log", offset, lane="io")

    window = AgentsWindow(reader, FakeClock(NOW))
    window.set_items([item_for(task("t-1"))])
    window.show()
    try:
        window.select("t-1")
        assert await until(lambda: window.tail.toPlainText() == "first", 5)
        with log.open("a") as fh:
            fh.write(assistant(tool=("Edit", {"file_path": "app.py"})) + "\n")
        assert await until(lambda: window.tail.toPlainText() == "first\n→ Edit(app.py)", 5)
        window.select(None)
        assert window.tail.toPlainText() == ""
    finally:
        window.hide()
        window.deleteLater()


def test_the_tail_keeps_at_most_max_lines(qapp):
    window = AgentsWindow(None, FakeClock(NOW))
    window.append_chunk(TailChunk(tuple(f"line {n}" for n in range(MAX_TAIL_LINES + 500)), 1))
    assert window.tail.document().blockCount() == MAX_TAIL_LINES
    assert window.tail.toPlainText().endswith(f"line {MAX_TAIL_LINES + 499}")
    window.append_chunk(TailChunk(("after rotation",), 2, reset=True))
    assert window.tail.toPlainText() == "after rotation"


def test_actions_emit_the_selected_task(qapp):
    window = AgentsWindow(None, FakeClock(NOW))
    done = task("t-2", TaskState.DONE, finished_at=NOW)
    window.set_items([item_for(task("t-1")), item_for(done)])
    got: list[tuple[str, str]] = []
    for name in ("stop", "restart", "open_log", "open_folder"):
        getattr(window, f"{name}_requested").connect(lambda tid, name=name: got.append((name, tid)))
    assert not window.stop_button.isEnabled()  # nothing selected
    window.select("t-1")
    assert not window.restart_button.isEnabled()  # running: stop it first
    window.stop_button.click()
    window.log_button.click()
    window.select("t-2")
    assert not window.stop_button.isEnabled()
    window.restart_button.click()
    window.folder_button.click()
    assert got == [("stop", "t-1"), ("open_log", "t-1"), ("restart", "t-2"), ("open_folder", "t-2")]
    assert window.title.text().endswith("— Done")


def test_stopping_a_session_not_started_here_asks_first(qapp):
    window = AgentsWindow(None, FakeClock(NOW))
    foreign = task("session:abc", ours=False)
    window.set_items([item_for(foreign)])
    asked: list[str] = []
    answer = [False]

    def confirm(_parent, item) -> bool:
        asked.append(item.id)
        return answer[0]

    window.confirm = confirm
    stopped: list[str] = []
    window.stop_requested.connect(stopped.append)
    window.select("session:abc")
    assert not window.log_button.isEnabled()  # not ours: no log of ours
    window.stop_button.click()
    assert asked == ["session:abc"]
    assert stopped == []
    answer[0] = True
    window.stop_button.click()
    assert stopped == ["session:abc"]
    ours = AgentsWindow(None, FakeClock(NOW))
    ours.set_items([item_for(task("t-1"))])
    ours.confirm = confirm
    ours.stop_requested.connect(stopped.append)
    ours.select("t-1")
    ours.stop_button.click()
    assert asked == ["session:abc", "session:abc"]  # ours: no question
    assert stopped[-1] == "t-1"


def test_the_confirmation_names_that_it_was_not_started_here(qapp, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    from trayapp.ui import agents_window

    seen: list[str] = []

    def question(_parent, title, text, *_args):
        seen.append(f"{title}|{text}")
        return QMessageBox.StandardButton.No

    monkeypatch.setattr(QMessageBox, "question", question)
    window = AgentsWindow(None, FakeClock(NOW))
    item = item_for(task("session:abc", ours=False))
    assert agents_window.confirm_foreign_stop(window, item) is False
    assert "was not started by Claude Watch" in seen[0]
