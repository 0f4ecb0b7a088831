"""What ``claude-watch agents`` prints: the task table, the queue by slot, one task's summary, and
the human lines of a task's output log (assistant text, tool uses, the result).

The log holds the raw stream-json lines of the run (:mod:`trayapp.services.agent_logs`); each is
parsed with :func:`trayapp.core.stream_json.parse_line` (strict, never raising) and turned into
zero or more lines for people. A malformed line and event types with nothing to say print nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from trayapp.core.agents import Task

STATE_WORDS = {
    "queued": "Queued",
    "held": "Held: near limit",
    "starting": "Starting",
    "running": "Running",
    "needs_you": "Needs you",
    "done": "Done",
    "failed": "Failed",
    "stopped": "Stopped",
    "lost": "Lost",
}
_LEVELS = {"Needs you": "warning", "Running": "ok", "Failed": "at_limit", "Lost": "at_limit"}


def label(task: Task) -> str:
    """The task's name, else the first line of its prompt."""
    from trayapp.core.agents import one_line

    return task.spec.name or one_line(task.spec.prompt, 60)


def _row(task: Task, now: datetime) -> list[str]:
    from trayapp.core.humanize import format_duration, format_money

    since = task.started_at or task.created_at
    end = task.finished_at or now
    detail = task.held_reason if task.state.value == "held" else task.error or task.last_line
    return [
        task.id,
        STATE_WORDS.get(task.state.value, task.state.value),
        label(task),
        os.path.basename(task.spec.folder.rstrip("/\\")) or task.spec.folder,
        format_duration(end - since) if since is not None else "—",
        format_money(task.cost_usd) if task.cost_usd is not None else "—",
        detail,
    ]


def render_tasks(tasks: Sequence[Task], now: datetime, *, note: str = "") -> str:
    """The ``agents list`` table, oldest first; ``note`` says where the list came from."""
    from trayapp.cli.term import HEADER, Painter, table, terminal_width

    if not tasks:
        return "No agent tasks." + (f" {note}" if note else "")
    paint = Painter()

    def style(n: int, column: int, text: str) -> str:
        if n == HEADER:
            return paint.bold(text)
        return paint.level(text, _LEVELS[text]) if column == 1 and text in _LEVELS else text

    out = table(
        ["ID", "STATE", "TASK", "PROJECT", "FOR", "COST", "ACTIVITY"],
        [_row(t, now) for t in tasks],
        right={4, 5},
        width=terminal_width(),
        squeeze=6,
        drop=("ACTIVITY", "PROJECT", "COST", "FOR"),
        style=style if paint.on else None,
    )
    return out + (f"\n({note})" if note else "")


def render_queue(tasks: Sequence[Task], slots: Sequence[dict[str, Any]], now: datetime) -> str:
    """``agents queue``: running per slot, then queued in order, then held with reason and resume."""
    from trayapp.core.humanize import format_clock

    by_state: dict[str, list[Task]] = {}
    for task in tasks:
        by_state.setdefault(task.state.value, []).append(task)
    running = [t for s in ("starting", "running", "needs_you") for t in by_state.get(s, [])]
    lines: list[str] = []
    names = [str(s.get("name")) for s in slots] or sorted({t.slot or "local" for t in running})
    caps = {str(s.get("name")): s.get("cap") for s in slots}
    for name in names or ["local"]:
        here = [t for t in running if (t.slot or "local") == name]
        cap = caps.get(name)
        lines.append(f"Running on {name}: {len(here)}" + (f" of {cap}" if cap is not None else ""))
        lines += [f"  {t.id}  {label(t)}" + (f"  · {t.last_line}" if t.last_line else "") for t in here]
    queued = sorted(by_state.get("queued", []), key=lambda t: (-t.spec.priority, t.created_at or now))
    lines.append(f"Queued: {len(queued)}")
    for t in queued:
        pin = f"  (slot {t.spec.slot})" if t.spec.slot else ""
        prio = f"  priority {t.spec.priority}" if t.spec.priority else ""
        lines.append(f"  {t.id}  {label(t)}{prio}{pin}")
    held = by_state.get("held", [])
    lines.append(f"Held: {len(held)}")
    for t in held:
        until = f"; resumes {format_clock(t.resume_at, now)}" if t.resume_at is not None else ""
        lines.append(f"  {t.id}  {label(t)}: {t.held_reason or 'near the limit'}{until}")
    return "\n".join(lines)


def render_task(task: Task, now: datetime) -> str:
    """One task in a few lines (after ``run``, ``stop``, ``restart``)."""
    from trayapp.core.humanize import format_money

    state = STATE_WORDS.get(task.state.value, task.state.value)
    lines = [f"{task.id}  {state}  {label(task)}  ({task.spec.folder})"]
    if task.held_reason:
        lines.append(f"  held: {task.held_reason}")
    if task.job_id:
        lines.append(f"  Claude Code background session {task.job_id} (claude attach {task.job_id})")
    if task.session_id and task.state.value in ("done", "failed", "stopped", "lost"):
        lines.append(f"  session {task.session_id}")
    if task.cost_usd is not None:
        lines.append(
            f"  cost {format_money(task.cost_usd)}" + (f", {_turns(task.turns)}" if task.turns else "")
        )
    if task.error:
        lines.append(f"  {task.error}")
    return "\n".join(lines)


def human_lines(raw: bytes | str) -> Iterator[str]:
    """The lines for people from one raw stream-json line of a run's log."""
    from trayapp.core.agents import one_line, tool_line
    from trayapp.core.stream_json import (
        AssistantEvent,
        RateLimitEvent,
        ResultEvent,
        SystemEvent,
        ToolUse,
        parse_line,
    )

    event = parse_line(raw)
    if isinstance(event, AssistantEvent):
        for block in event.blocks:
            if isinstance(block, ToolUse):
                yield f"→ {tool_line(block)}"
            else:
                yield from (line for line in block.text.splitlines() if line.strip())
    elif isinstance(event, SystemEvent) and event.subtype == "init":
        yield f"· session {event.session_id or '?'}" + (f" ({event.model})" if event.model else "")
    elif isinstance(event, ResultEvent):
        yield _result_line(event, one_line)
    elif isinstance(event, RateLimitEvent) and not event.allowed:
        when = f", resets {event.resets_at:%H:%M %Z}" if event.resets_at is not None else ""
        yield f"! rate limit {event.status} ({event.rate_limit_type or 'limit'}){when}"


def _result_line(event: Any, one_line: Any) -> str:
    from trayapp.core.humanize import format_money

    bits = []
    if event.num_turns is not None:
        bits.append(_turns(event.num_turns))
    if event.duration_ms is not None:
        bits.append(f"{event.duration_ms / 1000:.1f} s")
    if event.total_cost_usd is not None:
        bits.append(format_money(event.total_cost_usd))
    facts = f" ({', '.join(bits)})" if bits else ""
    if event.is_error:
        return f"✗ failed: {event.subtype}{facts}" + (f": {one_line(event.result)}" if event.result else "")
    return f"✓ done{facts}"


def _turns(count: int) -> str:
    return f"{count} turn" if count == 1 else f"{count} turns"
