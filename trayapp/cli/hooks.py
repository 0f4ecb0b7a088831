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

from trayapp.cli import _installer


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "hooks",
        help="send Claude Code's session events to the app (--install/--uninstall/--status)",
        description=(
            "Add Claude Watch's HTTP hooks to Claude Code's settings.json, so the app sees every "
            "session and can tell you when one needs you. Other tools' hooks are left alone."
        ),
    )
    _installer.add_actions(p)
    _installer.add_json(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from trayapp.services import hooks_install
    from trayapp.store import claude_settings, local_endpoint

    path = claude_settings.settings_path(args.settings)
    if args.action == "install":
        result = hooks_install.install(path, local_endpoint.load_or_create())
    elif args.action == "uninstall":
        result = hooks_install.uninstall(path)
    else:
        result = hooks_install.status(path, local_endpoint.load())
    return _installer.report(args, path, result)
