"""``claude-watch statusline``: the status line command Claude Code runs, and its installer.

Without options it reads Claude Code's statusline JSON on stdin, records it for the tray app and
prints the line (see ``trayapp.statusline.run``). ``--install`` / ``--uninstall`` edit Claude
Code's ``settings.json`` (``--settings PATH`` picks another file) and ``--status`` says what is
installed. ``trayapp.__main__`` routes ``statusline`` here before argparse, because argparse
and the other command modules would cost the hot path time; ``register`` exists only so
``claude-watch --help`` lists the command.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

USAGE = """\
usage: claude-watch statusline [--no-color]
       claude-watch statusline --install [--settings PATH]
       claude-watch statusline --uninstall [--settings PATH]
       claude-watch statusline --status [--settings PATH]

Without options: read Claude Code's statusline JSON on stdin, record it for the tray app and
print the status line (segments: `claude-watch config set statusline.segments ...`).

  --install     make Claude Code run this command for its status line (an existing
                statusLine command is kept: it still runs and its output is shown)
  --uninstall   remove it again and restore the previous statusLine exactly
  --status      show whether it is installed
  --settings    Claude Code settings file (default: settings.json in CLAUDE_CONFIG_DIR or ~/.claude)
  --no-color    plain text (the NO_COLOR environment variable does the same)
"""


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    import argparse  # only here: the hot path (``main``) must not pay for it

    p = sub.add_parser(
        "statusline",
        help="status line for Claude Code (reads its JSON on stdin); --install/--uninstall",
        add_help=False,
    )
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=lambda args: main(list(args.rest)))


def _admin(argv: list[str]) -> int:
    from trayapp.statusline import install

    action = next(a for a in argv if a in ("--install", "--uninstall", "--status"))
    settings_path = None
    rest = [a for a in argv if a != action]
    if rest[:1] == ["--settings"] and len(rest) >= 2:
        settings_path = rest[1]
        rest = rest[2:]
    elif rest[:1] and rest[0].startswith("--settings="):
        settings_path = rest[0].split("=", 1)[1]
        rest = rest[1:]
    if rest:
        print(f"error: unexpected argument {rest[0]!r}\n\n{USAGE}", file=sys.stderr, end="")
        return 2
    path = install.settings_path(settings_path)
    if action == "--install":
        result = install.install(path)
    elif action == "--uninstall":
        result = install.uninstall(path)
    else:
        result = install.status(path)
    print(result.message, file=sys.stdout if result.code == 0 else sys.stderr)
    return result.code


def main(argv: list[str]) -> int:
    """Entry from ``trayapp.__main__``: ``argv`` is everything after ``statusline``."""
    if "-h" in argv or "--help" in argv:
        print(USAGE, end="")
        return 0
    if any(a in ("--install", "--uninstall", "--status") for a in argv):
        return _admin(argv)
    from trayapp.statusline.run import main as run_main

    return run_main(argv)
