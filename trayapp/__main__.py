"""Command-line entry point: ``claude-watch [COMMAND]``; with no command it starts the tray app.

Each subcommand lives in ``trayapp/cli/<name>.py`` and exposes ``register(subparsers)`` (adds
its parser and sets ``func``) . Those modules import only argparse-level things at the top;
heavy work is imported inside the handler. When the first argument names a known command only
that command's module is imported and registered (a warm ``report`` must start fast); with no
command, ``--help`` or anything else every command is registered, so the overview and the
"invalid choice" message list them all. ``statusline`` bypasses argparse entirely because Claude
Code runs it several times a second.
"""

from __future__ import annotations

import os
import sys
from importlib import import_module

# Command name -> module. Modules that do not exist yet are skipped.
COMMANDS: dict[str, str] = {
    "status": "trayapp.cli.status",
    "doctor": "trayapp.cli.doctor",
    "config": "trayapp.cli.config",
    "report": "trayapp.cli.report",
    "export": "trayapp.cli.export",
    "statusline": "trayapp.cli.statusline",
    "secrets": "trayapp.cli.secrets",
    "telegram": "trayapp.cli.telegram",
    "notify": "trayapp.cli.notify",
    "hooks": "trayapp.cli.hooks",
    "telemetry": "trayapp.cli.telemetry",
    "sessions": "trayapp.cli.sessions",
    "serve": "trayapp.cli.serve",
    "login": "trayapp.cli.login",
    "achievements": "trayapp.cli.achievements",
    "schedule": "trayapp.cli.schedule",
    "window": "trayapp.cli.window",
    "agents": "trayapp.cli.agents",
    "accounts": "trayapp.cli.accounts",
}


def _command_in(args: list[str]) -> str | None:
    """Which command's module the parser needs: the named one; ``""`` (none) for the tray app, whose
    arguments are all options (importing every command there costs the resident app memory);
    None (all of them) for help and for anything to be reported as an invalid choice."""
    words = [a for a in args if not a.startswith("-")]  # the top-level options take no values
    if words:
        return words[0] if words[0] in COMMANDS else None
    return None if {"-h", "--help"} & set(args) else ""


def _build_parser(only: str | None = None):  # type: ignore[no-untyped-def]
    """The argument parser; with ``only`` (a key of COMMANDS) just that command is registered."""
    import argparse  # already imported by cli._parser

    from trayapp.cli._parser import Parser  # argparse without its shutil import

    class _VersionAction(argparse.Action):
        """``--version`` reads the package metadata only when asked (its import costs every run)."""

        def __init__(self, option_strings: list[str], dest: str, **kwargs: object) -> None:
            super().__init__(option_strings, dest, nargs=0, **kwargs)  # type: ignore[arg-type]

        def __call__(self, parser, namespace, values, option_string=None):  # type: ignore[no-untyped-def]
            from trayapp import version

            print(f"claude-watch {version()}")
            parser.exit()

    parser = Parser(
        prog="claude-watch",
        description=(
            "Claude Watch: your Claude Pro/Max limits in the tray. Run with no command to start the app."
        ),
    )
    parser.add_argument("--version", action=_VersionAction, help="show the version and exit")
    parser.add_argument(
        "--demo", action="store_true", help="use a simulated account (no Claude login needed)"
    )
    parser.add_argument(
        "--no-color", action="store_true", help="no colours in any command's output (or set NO_COLOR)"
    )
    parser.add_argument(
        "--self-test", action="store_true", help="start, check the essentials, exit (packaging)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    wanted = [] if only == "" else [COMMANDS[only]] if only in COMMANDS else COMMANDS.values()
    for module_name in wanted:
        try:
            module = import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; a reader that closes the pipe early (``| head``) ends it quietly."""
    try:
        code = _main(argv)
        sys.stdout.flush()  # a closed pipe shows up here for short outputs
    except BrokenPipeError:
        return _closed_pipe()
    return code


def _closed_pipe() -> int:
    """The reader went away: silence the interpreter's own flush at exit (it would print "Exception
    ignored ... BrokenPipeError") and exit as a process killed by SIGPIPE would, 128 + 13."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real stdout (a test's capture): nothing to silence
        pass
    return 141


def _main(argv: list[str] | None) -> int:
    if hasattr(os, "umask"):
        # Everything this process creates is private (usage history, project paths, costs, logs):
        # SQLite, the log handlers and mkdir take their modes from the umask. Files written for
        # the user elsewhere (autostart entry, Claude Code's settings) set their modes explicitly.
        os.umask(0o077)
    if getattr(sys, "frozen", False):
        # A frozen app re-runs this entry point for transcript-scan worker processes.
        import multiprocessing

        multiprocessing.freeze_support()
    args_list = sys.argv[1:] if argv is None else list(argv)
    if "--no-color" in args_list and args_list[:1] != ["statusline"]:
        # Global, and accepted anywhere on the line (`claude-watch status --no-color`).
        from trayapp.cli.term import disable_colour

        disable_colour()
        args_list = [a for a in args_list if a != "--no-color"]
    if args_list[:1] == ["statusline"]:
        from trayapp.cli.statusline import main as statusline_main

        return statusline_main(args_list[1:])
    parser = _build_parser(_command_in(args_list))
    args = parser.parse_args(args_list)
    if args.command is None:
        from trayapp.app import run_app

        return run_app(demo=args.demo, self_test=args.self_test)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
