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

Every call is appended to the file named by ``FAKE_CLAUDE_CALLS`` (one JSON line: argv,
``CLAUDE_CONFIG_DIR`` and the pid). Unknown commands print to stderr and exit 2.

Extending (the agents issue): add a handler to :data:`COMMANDS`, keyed by the first argument
(``-p`` for headless stream-json runs goes there), taking ``(args, script)`` and returning the
exit status. Handlers print with :func:`_out`.
"""

from __future__ import annotations

import json
import os
import stat
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
    _out(json.dumps(rows) + "\n")
    return 0


# First argument -> handler. The extension point for later commands (``-p`` stream-json, ...).
COMMANDS: dict[str, Handler] = {"--version": _version, "-v": _version, "agents": _agents}


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    script_path = os.environ.get(SCRIPT_ENV)
    script: dict[str, Any] = json.loads(Path(script_path).read_text()) if script_path else {}
    calls = os.environ.get(CALLS_ENV)
    if calls:
        with open(calls, "a", encoding="utf-8") as fh:
            record = {"argv": args, "config_dir": os.environ.get("CLAUDE_CONFIG_DIR"), "pid": os.getpid()}
            fh.write(json.dumps(record) + "\n")
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
