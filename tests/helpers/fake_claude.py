"""A scripted stand-in for the ``claude`` CLI, run as a real child process by the code under test.

:func:`install` writes an executable named ``claude`` into a folder (the fixture puts it first on
PATH) that runs :func:`main` here. The test scripts it through a JSON file named by the
environment variable ``FAKE_CLAUDE_SCRIPT`` (children inherit it):

``version``
    what ``--version`` prints (default ``2.1.219``; printed as ``2.1.219 (Claude Code)``).
``agents``
    the rows ``agents --json`` prints as a JSON list; ``agents_all`` the rows with ``--all``
    (default: the same); ``agents_by_config_dir`` maps a ``CLAUDE_CONFIG_DIR`` to its own rows.
``stdout``
    per command (``"agents"``, ``"--version"``): raw text printed instead (garbage output).
``exit``
    per command: the exit status (after printing).
``sleep``
    per command: seconds to sleep before answering (timeouts).

``p``
    the headless run (``-p PROMPT ... --output-format stream-json``), see :func:`_print`:
    ``events`` (a list of stream-json objects, or raw strings printed as they are), or the default
    ping stream made by :func:`ping_events` (``resets_in``: seconds from now to the 5-hour
    ``resetsAt``, default 5 h; null: no ``rate_limit_event``; ``status``: its status);
    ``delay`` (seconds before printing), ``crash`` (exit with this status after printing),
    ``hang`` (ignore SIGTERM and sleep until killed), ``grandchild`` (start a ``sleep`` in the
    same process group first, whose pid goes to the calls file as ``grandchild``).

    ``flood`` (print this many small assistant events, then the result), ``linger`` (seconds to
    wait after the events), ``stdin`` (read stdin to its end before printing, as ``claude -p``
    does since 2.1.50). A dict event whose ``session_id``
    is ``"$SID"`` gets the run's session: ``--session-id``'s or ``--resume``'s value.

``help_flags``
    the options ``--help`` lists (default none, so ``--max-budget-usd`` is not offered).
``bg``
    ``--bg -n NAME ... PROMPT`` prints ``backgrounded · <8-hex id>`` and writes
    ``$CLAUDE_CONFIG_DIR/jobs/<id>/state.json`` (state ``working``); ``bg_id`` fixes the id.
    ``stop ID`` marks that job ``stopped`` (exit 1 with a message when there is no such job).
    With ``jobs_in_agents``, ``agents --json`` also lists the jobs folder's jobs.

Every call is appended to the file named by ``FAKE_CLAUDE_CALLS`` (one JSON line: argv,
``CLAUDE_CONFIG_DIR``, the working folder, its entries and the pid). Unknown commands print to
stderr and exit 2.

Extending (the agents issue): add a handler to :data:`COMMANDS`, keyed by the first argument
(``-p`` for headless stream-json runs goes there), taking ``(args, script)`` and returning the
exit status. Handlers print with :func:`_out`.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

SCRIPT_ENV = "FAKE_CLAUDE_SCRIPT"
CALLS_ENV = "FAKE_CLAUDE_CALLS"
DEFAULT_VERSION = "2.1.219"

Handler = Callable[[list[str], dict[str, Any]], int]


def _out(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def _version(args: list[str], script: dict[str, Any]) -> int:
    _out(f"{script.get('version', DEFAULT_VERSION)} (Claude Code)\n")
    return 0


def _agents(args: list[str], script: dict[str, Any]) -> int:
    if "--json" not in args:
        sys.stderr.write("fake claude: agents needs --json (no TTY here)\n")
        return 2
    by_dir = script.get("agents_by_config_dir") or {}
    config_dir = os.environ.get("CLAUDE_CONFIG_DIR", "")
    if config_dir in by_dir:
        rows = by_dir[config_dir]
    elif "--all" in args and "agents_all" in script:
        rows = script["agents_all"]
    else:
        rows = script.get("agents", [])
    if script.get("jobs_in_agents"):
        rows = [*rows, *_job_rows()]
    _out(json.dumps(rows) + "\n")
    return 0


def ping_events(resets_in: float | None = 5 * 3600, status: str = "allowed") -> list[Any]:
    """The stream a real one-word haiku ping prints: init, assistant, rate_limit_event, result."""
    sid = "8129eebb-0f2f-4067-af9c-d189154b6617"
    events: list[Any] = [
        {
            "type": "system",
            "subtype": "init",
            "session_id": sid,
            "model": "claude-haiku-4-5-20251001",
            "cwd": os.getcwd(),
            "tools": ["Bash", "Read"],
        },
        {
            "type": "assistant",
            "session_id": sid,
            "message": {
                "model": "claude-haiku-4-5-20251001",
                "content": [{"type": "text", "text": "Hello!"}],
                "usage": {"input_tokens": 3, "output_tokens": 1},
            },
        },
    ]
    if resets_in is not None:
        info = {
            "status": status,
            "resetsAt": int(time.time() + resets_in),
            "rateLimitType": "five_hour",
            "overageStatus": "rejected",
            "isUsingOverage": False,
        }
        events.append({"type": "rate_limit_event", "rate_limit_info": info, "session_id": sid})
    events.append(
        {
            "type": "result",
            "subtype": "success",
            "is_error": False,
            "result": "Hello!",
            "session_id": sid,
            "num_turns": 1,
            "duration_ms": 900,
            "total_cost_usd": 0.0004,
            "usage": {"input_tokens": 3, "output_tokens": 5},
        }
    )
    return events


def _print(args: list[str], script: dict[str, Any]) -> int:
    """``-p PROMPT [--model M] [--no-session-persistence] --output-format stream-json --verbose``."""
    if "stream-json" not in args or "--verbose" not in args:
        sys.stderr.write("fake claude: -p needs --output-format stream-json --verbose here\n")
        return 2
    run = script.get("p") or {}
    if run.get("grandchild"):
        child = subprocess.Popen(["sleep", "600"])  # same process group as this one
        _record({"grandchild": child.pid})
    if run.get("hang"):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        _out(json.dumps(ping_events(None)[0]) + "\n")
        while True:
            time.sleep(1)
    if run.get("stdin"):
        sys.stdin.read()
    time.sleep(float(run.get("delay", 0)))
    sid = _flag(args, "--session-id") or _flag(args, "--resume") or "no-session"
    if "flood" in run:
        _flood(int(run["flood"]), sid)
        return int(run.get("crash", 0))
    if "events" in run:
        events = run["events"]
    else:
        events = ping_events(run.get("resets_in", 5 * 3600), run.get("status", "allowed"))
    for event in events:
        if isinstance(event, dict) and event.get("session_id") == "$SID":
            event = {**event, "session_id": sid}
        _out((event if isinstance(event, str) else json.dumps(event)) + "\n")
    time.sleep(float(run.get("linger", 0)))
    return int(run.get("crash", 0))


def _flag(args: list[str], name: str) -> str | None:
    return args[args.index(name) + 1] if name in args and args.index(name) + 1 < len(args) else None


def _flood(count: int, sid: str) -> None:
    line = json.dumps(
        {
            "type": "assistant",
            "session_id": sid,
            "message": {"content": [{"type": "text", "text": "line"}], "usage": {"output_tokens": 1}},
        }
    )
    block = (line + "\n") * 1000
    for _ in range(count // 1000):
        sys.stdout.write(block)
    sys.stdout.write((line + "\n") * (count % 1000))
    result = {
        "type": "result",
        "subtype": "success",
        "is_error": False,
        "session_id": sid,
        "total_cost_usd": 0.5,
        "num_turns": 1,
        "usage": {"input_tokens": 1, "output_tokens": count},
    }
    _out(json.dumps(result) + "\n")


def _jobs_dir() -> Path:
    base = os.environ.get("CLAUDE_CONFIG_DIR") or str(Path.home() / ".claude")
    return Path(base) / "jobs"


def _background(args: list[str], script: dict[str, Any]) -> int:
    """``--bg -n NAME [-w NAME] [--model M] [--permission-mode MODE] PROMPT``."""
    name = _flag(args, "-n")
    if not name or not args or args[-1].startswith("-"):
        sys.stderr.write("fake claude: --bg needs -n NAME and a prompt\n")
        return 2
    job_id = str(script.get("bg_id") or os.urandom(4).hex())
    folder = _jobs_dir() / job_id
    folder.mkdir(parents=True, exist_ok=True)
    state = {
        "state": "working",
        "name": name,
        "sessionId": f"bg-session-{job_id}",
        "cwd": os.getcwd(),
        "detail": "starting",
        "createdAt": int(time.time() * 1000),
    }
    (folder / "state.json").write_text(json.dumps(state))
    _out(f"backgrounded \u00b7 {job_id}\n")
    return 0


def _stop(args: list[str], script: dict[str, Any]) -> int:
    path = _jobs_dir() / (args[0] if args else "") / "state.json"
    if not args or not path.is_file():
        sys.stderr.write(f"fake claude: no background session {args[:1]}\n")
        return 1
    state = json.loads(path.read_text())
    state["state"] = "stopped"
    path.write_text(json.dumps(state))
    _out(f"stopped {args[0]}\n")
    return 0


def _job_rows() -> list[dict[str, Any]]:
    rows = []
    folder = _jobs_dir()
    for state_file in sorted(folder.glob("*/state.json")) if folder.is_dir() else []:
        state = json.loads(state_file.read_text())
        rows.append(
            {
                "id": state_file.parent.name,
                "name": state.get("name"),
                "state": state.get("state"),
                "sessionId": state.get("sessionId"),
                "cwd": state.get("cwd"),
                "kind": "background",
            }
        )
    return rows


def _record(record: dict[str, Any]) -> None:
    calls = os.environ.get(CALLS_ENV)
    if calls:
        with open(calls, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record) + "\n")


def calls(path: Path) -> list[dict[str, Any]]:
    """The recorded calls (grandchild records left out)."""
    if not path.exists():
        return []
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [r for r in rows if "argv" in r]


# First argument -> handler. The extension point for later commands (``-p`` stream-json, ...).
COMMANDS: dict[str, Handler] = {
    "--version": _version,
    "-v": _version,
    "agents": _agents,
    "-p": _print,
    "--bg": _background,
    "stop": _stop,
    "--help": lambda args, script: (
        _out("Usage: claude [options]\n" + "".join(f"  {f}\n" for f in script.get("help_flags", []))) or 0
    ),
}


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    script_path = os.environ.get(SCRIPT_ENV)
    script: dict[str, Any] = json.loads(Path(script_path).read_text()) if script_path else {}
    _record(
        {
            "argv": args,
            "config_dir": os.environ.get("CLAUDE_CONFIG_DIR"),
            "pid": os.getpid(),
            "cwd": os.getcwd(),
            "cwd_entries": sorted(os.listdir(".")),
        }
    )
    command = args[0] if args else ""
    handler = COMMANDS.get(command)
    if handler is None:
        sys.stderr.write(f"fake claude: unknown command {command!r}\n")
        return 2
    time.sleep(float((script.get("sleep") or {}).get(command, 0)))
    raw = (script.get("stdout") or {}).get(command)
    status = handler(args[1:], script) if raw is None else (_out(raw) or 0)
    return int((script.get("exit") or {}).get(command, status))


def install(bin_dir: Path) -> Path:
    """Write the ``claude`` executable into ``bin_dir`` (this interpreter, this module)."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    exe = bin_dir / "claude"
    root = Path(__file__).resolve().parents[2]
    exe.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        f"sys.path.insert(0, {str(root)!r})\n"
        "from tests.helpers.fake_claude import main\n"
        "sys.exit(main())\n"
    )
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return exe


if __name__ == "__main__":
    sys.exit(main())
