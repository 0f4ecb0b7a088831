"""``claude-watch login status [--json]`` and ``claude-watch login open``.

``status`` reads Claude Code's login read-only (the credentials file, or the macOS Keychain) and says
whether it is signed in and when the login lapses: the deadline is ``refreshTokenExpiresAt``, 27-30
days after sign-in, which no refresh extends (the short-lived access token is Claude Code's own
business and is only mentioned). Exit status 0 when signed in with time left, 1 when signed out or
lapsed. ``open`` opens a terminal running ``claude auth login`` (exit 1 when no terminal is found).

JSON (``--json``): ``{"schema_version": 1, "account": "default", "signed_in": bool, "ok": bool,
"deadline": ISO|null, "days_left": int|null, "text": str, "reason": str, "source": str|null}``.
"""

from __future__ import annotations

import argparse

SCHEMA_VERSION = 1


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "login",
        help="when Claude Code's login lapses; open a terminal to sign in (status/open)",
        description="Claude Code's login deadline, read-only, and a way back when it lapsed.",
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    st = actions.add_parser("status", help="signed in or out, days left, deadline (exit 0 ok, 1 not)")
    st.add_argument("--json", action="store_true", help="machine-readable output")
    st.set_defaults(func=run_status)
    op = actions.add_parser("open", help="open a terminal running `claude auth login`")
    op.set_defaults(func=run_open)


def run_status(args: argparse.Namespace) -> int:
    import json
    from datetime import UTC, datetime

    from trayapp.core import login_freshness as lf
    from trayapp.services.login_watch import status_from_report
    from trayapp.sources.credentials import load_credentials

    now = datetime.now(UTC)
    report = load_credentials(now)
    status = status_from_report(report, lf.DEFAULT_ACCOUNT, now)
    creds = report.credentials
    if args.json:
        out = {
            "schema_version": SCHEMA_VERSION,
            "account": status.account,
            "signed_in": status.signed_in,
            "ok": status.ok,
            "deadline": status.deadline.isoformat() if status.deadline else None,
            "days_left": status.days_left,
            "text": lf.status_text(status),
            "reason": status.reason,
            "source": creds.origin if creds is not None else None,
        }
        print(json.dumps(out, indent=2), flush=True)
        return 0 if status.ok else 1
    lines = [lf.status_text(status)]
    if not status.signed_in and status.reason:
        lines.append(status.reason)
    if creds is not None and status.signed_in:
        lines.append(f"From: {creds.origin}")
        lines.append("The access token (hours) is refreshed by Claude Code itself on its next request.")
    print("\n".join(lines), flush=True)
    return 0 if status.ok else 1


def run_open(args: argparse.Namespace) -> int:
    import sys

    from trayapp.platform.terminal import open_terminal

    try:
        launch = open_terminal(("claude", "auth", "login"))
    except OSError as exc:
        print(f"Cannot open a terminal: {exc}. Run `claude auth login` yourself.", file=sys.stderr)
        return 1
    print(f"Opened {launch.argv[0]} running `claude auth login`.", flush=True)
    return 0
