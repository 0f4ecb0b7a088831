"""``claude-watch agents run|list|logs|stop|restart|queue``: Claude Code agents from the command line.

While the tray app runs, every action goes to its queue over the single-instance socket
(:mod:`trayapp.platform.ipc_client`, line-JSON; :mod:`trayapp.services.agent_ipc` serves it).
Without the app (or with its agents feature off): ``run --wait`` and ``restart --wait`` run the
task here in the foreground with the same queue and runner, recorded in the same store, and
``run --background`` starts the Claude Code background session directly; ``list``, ``logs`` and
``queue`` read the store; ``stop`` ends a foreground run through its recorded process group, a
background session with ``claude stop`` (:mod:`trayapp.cli.agents_local`).

Exit codes: 0 ok (a waited-for task finished done); 1 the waited-for task failed, was stopped or
lost; 2 a usage error, or a request refused (unknown task, a finished task restarted without a
session, the app unreachable); 130 interrupted with Ctrl+C (a foreground task is stopped first).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from datetime import datetime
    from pathlib import Path

    from trayapp.core.agents import Task, TaskSpec

EPILOG = (
    "Exit codes: 0 ok; 1 the task waited for failed or was stopped; 2 usage error or refused; "
    "130 interrupted. Without the tray app running, run/restart need --wait (the task runs here)."
)
BYPASS_WARNING = (
    "warning: --dangerously-skip-permissions lets the agent run any command and edit any file "
    "without asking. Use it only in a folder you can afford to lose (a container or a throwaway "
    "worktree)."
)


class Refused(Exception):
    """A request that cannot be done; the message is for people, exit code 2."""


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "agents",
        help="start, queue, watch, stop and restart Claude Code agents",
        description="Claude Code agents run by Claude Watch: through the tray app's queue when it "
        "runs (held near your limits, resumed after the reset), else in the foreground.",
        epilog=EPILOG,
    )
    actions = p.add_subparsers(dest="agents_command", metavar="ACTION", required=True)
    run = actions.add_parser("run", help="queue a task (or run it here with --wait)", epilog=EPILOG)
    run.add_argument("prompt", help="what the agent should do (- reads it from stdin)")
    run.add_argument("--dir", default=".", help="the project folder (default: the current one)")
    run.add_argument("--name", default="", help="a short name for lists")
    run.add_argument(
        "--background", action="store_true", help="a Claude Code background session (claude --bg)"
    )
    run.add_argument("--worktree", action="store_true", help="work in a git worktree made for it")
    run.add_argument("--model", help="the model (claude --model)")
    run.add_argument(
        "--permission-mode", choices=["default", "acceptEdits", "plan"], help="claude --permission-mode"
    )
    run.add_argument(
        "--dangerously-skip-permissions", action="store_true", help="no permission prompts (prints a warning)"
    )
    run.add_argument("--max-turns", type=int, help="stop after this many turns")
    run.add_argument("--budget", type=float, metavar="USD", help="stop when the run costs this much")
    run.add_argument("--priority", type=int, default=0, help="larger runs first (default 0)")
    run.add_argument("--slot", help='where to run: "local" or "docker:NAME" (default: any with room)')
    run.add_argument("--wait", action="store_true", help="follow its output until it ends")
    ls = actions.add_parser("list", help="the tasks (unfinished and the last 24 hours)")
    ls.add_argument("--json", action="store_true", help="print machine-readable JSON")
    ls.add_argument("--all", dest="include_all", action="store_true", help="every stored task")
    logs = actions.add_parser("logs", help="a task's output")
    logs.add_argument("id")
    logs.add_argument("-f", "--follow", action="store_true", help="keep printing until the task ends")
    logs.add_argument("--raw", action="store_true", help="the raw stream-json lines")
    stop = actions.add_parser("stop", help="stop a task (no process of it is left)")
    stop.add_argument("id")
    stop.add_argument("--force", action="store_true", help="also a session Claude Watch did not start")
    restart = actions.add_parser("restart", help="a new task resuming a finished one's session")
    restart.add_argument("id")
    restart.add_argument("--wait", action="store_true", help="follow its output until it ends")
    queue = actions.add_parser("queue", help="running per slot, queued, held (with reasons)")
    queue.add_argument("--json", action="store_true", help="print machine-readable JSON")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    handlers = {"run": _run, "list": _list, "logs": _logs, "stop": _stop, "restart": _restart}
    handlers["queue"] = _queue
    try:
        return handlers[args.agents_command](args)
    except Refused as exc:
        print(f"claude-watch agents: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\n(interrupted; a task in the tray app keeps running)", file=sys.stderr)
        return 130


def _out(text: str) -> None:
    print(text, flush=True)


def _ask(op: str, **args: Any) -> dict[str, Any] | None:
    """The app's answer to ``agents.<op>``; None when no app serves agents (not running, or its
    agents feature is off). An error answer raises :class:`Refused`."""
    from trayapp.platform.ipc_client import AppNotRunning, IpcError, request

    try:
        reply = request(f"agents.{op}", args)
    except AppNotRunning:
        return None
    except IpcError as exc:
        raise Refused(f"the tray app did not answer ({exc.message})") from None
    if reply["ok"]:
        return reply
    if reply.get("error") in ("unknown_op", "not_ready"):
        return None
    raise Refused(str(reply.get("message") or reply.get("error")))


def _task(body: Any) -> Task:
    from trayapp.services.agent_ipc_codec import task_from_json

    return task_from_json(body)


def _now() -> datetime:
    from datetime import UTC, datetime

    return datetime.now(UTC)


def _spec(args: argparse.Namespace) -> TaskSpec:
    import os

    from trayapp.core.agents import PermissionMode, RunKind, TaskSpec

    prompt = sys.stdin.read() if args.prompt == "-" else args.prompt
    if not prompt.strip():
        raise Refused("the prompt is empty")
    folder = os.path.abspath(os.path.expanduser(args.dir))
    if not os.path.isdir(folder):
        raise Refused(f"the folder {folder} does not exist")
    mode = PermissionMode(args.permission_mode or "default")
    if args.dangerously_skip_permissions:
        if args.permission_mode:
            raise Refused("--permission-mode and --dangerously-skip-permissions exclude each other")
        print(BYPASS_WARNING, file=sys.stderr)
        mode = PermissionMode.BYPASS
    for name, value in (("--max-turns", args.max_turns), ("--budget", args.budget)):
        if value is not None and not value > 0:
            raise Refused(f"{name} must be above 0")
    return TaskSpec(
        prompt=prompt,
        folder=folder,
        kind=RunKind.BACKGROUND if args.background else RunKind.HEADLESS,
        name=args.name,
        worktree=args.worktree,
        model=args.model,
        permission_mode=mode,
        max_turns=args.max_turns,
        budget_usd=args.budget,
        priority=args.priority,
        slot=args.slot,
    )


def _run(args: argparse.Namespace) -> int:
    from trayapp.services.agent_ipc_codec import spec_to_json

    if args.background and args.wait:
        raise Refused("--wait follows a headless run; a background session is Claude Code's (claude attach)")
    spec = _spec(args)
    reply = _ask("run", spec=spec_to_json(spec))
    if reply is not None:
        return _submitted(_task(reply["task"]), args.wait)
    if args.background:  # Claude Code owns it from the start: no queue needed to begin it
        from trayapp.cli.agents_local import start_background

        return start_background(spec, _out)
    if not args.wait:
        raise Refused(
            "the tray app is not running: start it (claude-watch) to queue tasks, "
            "or add --wait to run this one here in the foreground"
        )
    from trayapp.cli.agents_local import run_foreground

    return run_foreground(lambda queue: queue.submit(spec), _out)


def _submitted(task: Task, wait: bool) -> int:
    from trayapp.cli.agents_render import render_task

    _out(render_task(task, _now()))
    if not wait:
        return 0
    return _follow_app(task.id)


def _follow_app(task_id: str) -> int:
    """Follow a task the app runs until it ends; its end decides the exit code."""
    import asyncio

    from trayapp.cli.agents_local import follow
    from trayapp.cli.agents_render import human_lines, render_task
    from trayapp.core.agents import FINISHED, TaskState

    state = _Latest(task_id)

    def show(raw: bytes) -> None:
        for line in human_lines(raw):
            _out(line)

    asyncio.run(follow(state.path(), lambda: state.task().state in FINISHED, show))
    final = state.task(fresh=True)
    _out(render_task(final, _now()))
    return 0 if final.state is TaskState.DONE else 1


class _Latest:
    """A task's latest record, from the app (or the store once the app is gone), at most every
    half second."""

    def __init__(self, task_id: str) -> None:
        self.task_id = task_id
        self._task: Task | None = None
        self._at = 0.0

    def task(self, *, fresh: bool = False) -> Task:
        import time

        if self._task is None or fresh or time.monotonic() - self._at >= 0.5:
            self._at = time.monotonic()
            reply = _ask("get", id=self.task_id)
            if reply is not None:
                self._task = _task(reply["task"])
            else:
                from trayapp.cli.agents_local import get_task

                self._task = get_task(self.task_id)
            if self._task is None:
                raise Refused(f"no task {self.task_id}")
        return self._task

    def path(self) -> Path:
        from pathlib import Path

        from trayapp.cli.agents_local import log_file

        reply = _ask("logs-path", id=self.task_id)
        if reply is not None:
            return Path(reply["path"])
        self.task()  # an unknown id is refused
        return log_file(self.task_id)


def _tasks(include_all: bool) -> tuple[list[Task], str]:
    reply = _ask("list", all=include_all)
    if reply is not None:
        return [_task(t) for t in reply["tasks"]], "app"
    from trayapp.cli.agents_local import load_tasks
    from trayapp.services.agent_ipc_codec import visible

    return visible(load_tasks(), _now(), include_all=include_all), "store"


def _json(doc: dict[str, Any]) -> None:
    import json

    _out(json.dumps({"schema_version": 1, **doc}, indent=2))


def _list(args: argparse.Namespace) -> int:
    from trayapp.cli.agents_render import render_tasks
    from trayapp.services.agent_ipc_codec import task_to_json

    tasks, source = _tasks(args.include_all)
    if args.json:
        _json({"source": source, "tasks": [task_to_json(t) for t in tasks]})
        return 0
    note = "" if source == "app" else "the tray app is not running: states as last recorded"
    _out(render_tasks(tasks, _now(), note=note))
    return 0


def _queue(args: argparse.Namespace) -> int:
    from trayapp.cli.agents_render import render_queue
    from trayapp.core.agents import FINISHED
    from trayapp.services.agent_ipc_codec import task_to_json

    reply = _ask("queue")
    if reply is not None:
        tasks, slots, source = [_task(t) for t in reply["tasks"]], reply.get("slots") or [], "app"
    else:
        every, _source = _tasks(False)
        tasks, slots, source = [t for t in every if t.state not in FINISHED], [], "store"
    if args.json:
        _json({"source": source, "slots": slots, "tasks": [task_to_json(t) for t in tasks]})
        return 0
    _out(render_queue(tasks, slots, _now()))
    if source == "store":
        _out("(the tray app is not running: nothing queued starts until it does)")
    return 0


def _logs(args: argparse.Namespace) -> int:
    import asyncio

    from trayapp.cli.agents_local import follow
    from trayapp.cli.agents_render import human_lines
    from trayapp.core.agents import FINISHED

    state = _Latest(args.id)
    path = state.path()

    def show(raw: bytes) -> None:
        if args.raw:
            _out(raw.decode("utf-8", "replace"))
            return
        for line in human_lines(raw):
            _out(line)

    if not args.follow:
        for part in (path.with_name(path.name + ".1"), path):
            try:
                with open(part, "rb") as fh:
                    for raw in fh:
                        show(raw.rstrip(b"\n"))
            except FileNotFoundError:
                continue
        return 0
    asyncio.run(follow(path, lambda: state.task().state in FINISHED, show))
    return 0


def _stop(args: argparse.Namespace) -> int:
    from trayapp.cli.agents_render import render_task

    reply = _ask("stop", id=args.id, force=args.force)
    if reply is not None:
        _out(render_task(_task(reply["task"]), _now()))
        return 0
    from trayapp.cli.agents_local import get_task, stop_by_group

    task = get_task(args.id)
    if task is None:
        raise Refused(f"no task {args.id}")
    code, message = stop_by_group(task, force=args.force)
    print(message, file=sys.stderr if code else sys.stdout, flush=True)
    return code


def _restart(args: argparse.Namespace) -> int:
    reply = _ask("restart", id=args.id)
    if reply is not None:
        return _submitted(_task(reply["task"]), args.wait)
    if not args.wait:
        raise Refused("the tray app is not running: start it (claude-watch), or add --wait to resume it here")
    from trayapp.cli.agents_local import get_task, run_foreground

    task = get_task(args.id)
    if task is None:
        raise Refused(f"no task {args.id}")
    return run_foreground(lambda queue: queue.restart(task.id), _out, known=[task])
