"""What the settings.json installers' commands share (``hooks``, ``telemetry``): the
``--install | --uninstall | --status [--settings PATH] [--json]`` options and how a result is
printed (the message on stdout, or stderr on failure; ``--json``: one object)."""

from __future__ import annotations

import argparse

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (every command loads this)
if TYPE_CHECKING:
    from typing import Any


def add_actions(p: argparse.ArgumentParser) -> None:
    action = p.add_mutually_exclusive_group(required=True)
    action.add_argument("--install", action="store_const", const="install", dest="action")
    action.add_argument("--uninstall", action="store_const", const="uninstall", dest="action")
    action.add_argument("--status", action="store_const", const="status", dest="action")
    p.add_argument(
        "--settings",
        metavar="PATH",
        help="Claude Code settings file (default: settings.json in CLAUDE_CONFIG_DIR or ~/.claude)",
    )


def add_json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="machine-readable output")


def report(args: argparse.Namespace, settings: object, result: Any) -> int:
    """Print an installer's ``Result`` (code, message, changed, installed, backup, details)."""
    import json
    import sys

    if args.json:
        out = {
            "ok": result.code == 0,
            "action": args.action,
            "settings": str(settings),
            "changed": result.changed,
            "installed": result.installed,
            "backup": str(result.backup) if result.backup else None,
            "message": result.message,
            **result.details,
        }
        print(json.dumps(out, indent=2))
    else:
        print(result.message, file=sys.stdout if result.code == 0 else sys.stderr)
    return int(result.code)
