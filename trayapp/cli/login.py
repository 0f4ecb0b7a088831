"""``claude-watch login status [--json] [--account LABEL]`` and ``claude-watch login open [--account LABEL]``.

``status`` reads each account's Claude Code login read-only (the default's credentials file or the
macOS Keychain; an added account's from its own folder only) and says whether it is signed in and
when the login lapses: the deadline is ``refreshTokenExpiresAt``, 27-30 days after sign-in, which
no refresh extends (the short-lived access token is Claude Code's own business and is only
mentioned). Every account is listed (``--account`` picks one). Exit status 0 when every login
shown is signed in with time left, 1 otherwise. ``open`` opens a terminal running ``claude auth
login`` (for an added account with its folder as ``CLAUDE_CONFIG_DIR``; exit 1 when no terminal is
found).

JSON (``--json``): the first account's fields at the top (``--account``: that account's), as in
schema 1, plus ``accounts``, one object per account listed::

    {"schema_version": 1, "account": "default", "key": "default", "config_dir": str,
     "signed_in": bool, "ok": bool, "deadline": ISO|null, "days_left": int|null, "text": str,
     "reason": str, "source": str|null, "sign_in": str, "accounts": [{...same fields}]}
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from trayapp.core.accounts import Account

SCHEMA_VERSION = 1


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "login",
        help="when each Claude Code login lapses; open a terminal to sign in (status/open)",
        description="Claude Code's login deadlines, read-only, and a way back when one lapsed.",
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    st = actions.add_parser("status", help="signed in or out, days left, deadline (exit 0 ok, 1 not)")
    st.add_argument("--json", action="store_true", help="machine-readable output")
    st.add_argument("--account", metavar="LABEL", help="only this account (default: every account)")
    st.set_defaults(func=run_status)
    op = actions.add_parser("open", help="open a terminal running `claude auth login`")
    op.add_argument("--account", metavar="LABEL", help="sign in this account (default: the default login)")
    op.set_defaults(func=run_open)


def _accounts(label: str | None) -> list[Account]:
    """Every account, or the one named ``label`` (SystemExit 2 with a message when none is)."""
    import sys

    from trayapp.core.accounts import find
    from trayapp.store.accounts_repo import AccountsRepo

    accounts = AccountsRepo().load_or_last()
    if label is None:
        return accounts
    account = find(accounts, label)
    if account is None:
        names = ", ".join(a.label for a in accounts)
        print(f"No account named {label!r} (accounts: {names}).", file=sys.stderr)
        raise SystemExit(2)
    return [account]


def _status(account: Account, several: bool) -> dict[str, Any]:
    from dataclasses import replace
    from datetime import UTC, datetime

    from trayapp.core import login_freshness as lf
    from trayapp.services.login_watch import account_loader, command_for, status_from_report

    now = datetime.now(UTC)
    report = account_loader(account)(now)
    status = replace(
        status_from_report(report, account.key, now),
        label=account.label,
        several=several,
        command=command_for(account),
    )
    creds = report.credentials
    return {
        "schema_version": SCHEMA_VERSION,
        "account": account.label,
        "key": account.key,
        "config_dir": str(account.config_dir),
        "signed_in": status.signed_in,
        "ok": status.ok,
        "deadline": status.deadline.isoformat() if status.deadline else None,
        "days_left": status.days_left,
        "text": lf.status_text(status),
        "reason": status.reason,
        "source": creds.origin if creds is not None else None,
        "sign_in": status.command,
    }


def run_status(args: argparse.Namespace) -> int:
    import json

    accounts = _accounts(args.account)
    several = len(accounts) > 1
    found = [_status(a, several) for a in accounts]
    ok = all(f["ok"] for f in found)
    if args.json:
        out = {**found[0], "accounts": found}
        print(json.dumps(out, indent=2), flush=True)
        return 0 if ok else 1
    blocks = []
    for f in found:
        lines = [f["text"]]
        if not f["signed_in"] and f["reason"]:
            lines.append(f["reason"])
        if f["source"] is not None and f["signed_in"]:
            lines.append(f"From: {f['source']}")
        blocks.append("\n".join(lines))
    if any(f["signed_in"] for f in found):
        blocks.append("The access token (hours) is refreshed by Claude Code itself on its next request.")
    print("\n\n".join(blocks) if several else "\n".join(blocks), flush=True)
    return 0 if ok else 1


def run_open(args: argparse.Namespace) -> int:
    import sys

    from trayapp.core import login_freshness as lf
    from trayapp.platform.terminal import open_terminal

    account = _accounts(args.account)[0]
    folder = None if account.is_default else str(account.config_dir)
    command = lf.sign_in_text(folder)
    try:
        launch = open_terminal(("claude", "auth", "login"), command_env=lf.sign_in_env(folder))
    except OSError as exc:
        print(f"Cannot open a terminal: {exc}. Run `{command}` yourself.", file=sys.stderr)
        return 1
    print(f"Opened {launch.argv[0]} running `{command}`.", flush=True)
    return 0
