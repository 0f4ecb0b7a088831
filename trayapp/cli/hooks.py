"""``claude-watch hooks --install | --uninstall | --status [--settings PATH] [--json]``.

Subscribes Claude Code to the tray app's hook receiver (``services/hooks_install``): every
session's events (started, prompt, needs you, finished, failed...) are POSTed to the app on
loopback. ``--install`` creates the app's port and token if the app has never run; ``--status``
compares what the settings say with the app's current port and token and asks the app whether
it is listening. Exit status 2 when the settings file cannot be read as JSON (it is left
untouched).
"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "hooks",
        help="send Claude Code's session events to the app (--install/--uninstall/--status)",
        description=(
            "Add Claude Watch's HTTP hooks to Claude Code's settings.json, so the app sees every "
            "session and can tell you when one needs you. Other tools' hooks are left alone."
        ),
    )
    action = p.add_mutually_exclusive_group(required=True)
    action.add_argument("--install", action="store_const", const="install", dest="action")
    action.add_argument("--uninstall", action="store_const", const="uninstall", dest="action")
    action.add_argument("--status", action="store_const", const="status", dest="action")
    p.add_argument(
        "--settings",
        metavar="PATH",
        help="Claude Code settings file (default: settings.json in CLAUDE_CONFIG_DIR or ~/.claude)",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import json
    import sys

    from trayapp.services import hooks_install
    from trayapp.store import claude_settings, local_endpoint

    path = claude_settings.settings_path(args.settings)
    if args.action == "install":
        result = hooks_install.install(path, local_endpoint.load_or_create())
    elif args.action == "uninstall":
        result = hooks_install.uninstall(path)
    else:
        result = hooks_install.status(path, local_endpoint.load())
    if args.json:
        out = {
            "ok": result.code == 0,
            "action": args.action,
            "settings": str(path),
            "changed": result.changed,
            "installed": result.installed,
            "backup": str(result.backup) if result.backup else None,
            "message": result.message,
            **result.details,
        }
        print(json.dumps(out, indent=2))
    else:
        print(result.message, file=sys.stdout if result.code == 0 else sys.stderr)
    return result.code
