"""``claude-watch accounts list|add|remove|rename``: several Claude Code logins side by side.

An account is a Claude Code config folder with a label (``accounts add Work ~/.claude-work``); the
default folder (``$CLAUDE_CONFIG_DIR`` or ``~/.claude``) is always the first account. ``list``
reads each folder read-only: who is signed in (``.claude.json``), whether its credentials can be
read, and when its login lapses. Tokens are never printed, stored or copied.

JSON (``list --json``): ``{"schema_version": 1, "accounts": [{"label", "key", "config_dir",
"default": bool, "email": str|null, "organization": str|null, "credentials": "ok"|"missing"|...,
"readable": bool, "login_deadline": ISO|null, "days_left": int|null}]}``.
"""

from __future__ import annotations

import argparse
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from datetime import datetime
    from typing import Any

    from trayapp.core.accounts import Account

SCHEMA_VERSION = 1


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "accounts",
        help="several Claude Code logins: list, add, remove, rename (config folders)",
        description="Accounts are Claude Code config folders; Claude Watch reads each one read-only.",
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    ls = actions.add_parser("list", help="every account: identity, credentials, login deadline")
    ls.add_argument("--json", action="store_true", help="machine-readable output")
    ls.set_defaults(func=run_list)
    add = actions.add_parser("add", help="add a Claude Code config folder as an account")
    add.add_argument("label", help="a short name (Work, Personal)")
    add.add_argument("config_dir", help="the folder Claude Code runs with (its CLAUDE_CONFIG_DIR)")
    add.set_defaults(func=run_add)
    rm = actions.add_parser("remove", help="forget an account (its history is kept)")
    rm.add_argument("label")
    rm.set_defaults(func=run_remove)
    mv = actions.add_parser("rename", help="give an account a new label (its history follows)")
    mv.add_argument("label")
    mv.add_argument("new_label")
    mv.set_defaults(func=run_rename)
    sw = actions.add_parser(
        "switch", help="make LABEL Claude Code's active login through claude-swap (cswap), if it has a slot"
    )
    sw.add_argument("label")
    sw.set_defaults(func=run_switch)
    cs = actions.add_parser("cswap", help="claude-swap's slots, read-only (cswap --list --json)")
    cs.add_argument("--json", action="store_true", help="machine-readable output")
    cs.set_defaults(func=run_cswap)


def _fail(message: str) -> int:
    print(f"claude-watch accounts: {message}", file=sys.stderr)
    return 2


def run_add(args: argparse.Namespace) -> int:
    from pathlib import Path

    from trayapp.core.accounts import AccountError
    from trayapp.store.accounts_repo import AccountsFileError, AccountsRepo

    folder = Path(args.config_dir).expanduser()
    if not folder.is_dir():
        return _fail(f"{folder} is not a folder (sign in there first: CLAUDE_CONFIG_DIR={folder} claude)")
    try:
        account = AccountsRepo().add(args.label, folder)
    except (AccountError, AccountsFileError) as exc:
        return _fail(str(exc))
    print(f"Added {account.label}: {account.config_dir}")
    return 0


def _change(args: argparse.Namespace, what: str) -> int:
    """``remove`` or ``rename`` through the repository; a refused file or label exits 2."""
    from trayapp.core.accounts import AccountError
    from trayapp.store.accounts_repo import AccountsFileError, AccountsRepo

    repo = AccountsRepo()
    try:
        if what == "remove":
            account = repo.remove(args.label)
            print(
                f"Removed {account.label} (its readings and ledger rows are kept: add it again to see them)."
            )
        else:
            print(f"Renamed to {repo.rename(args.label, args.new_label).label}")
    except (AccountError, AccountsFileError) as exc:
        return _fail(str(exc))
    return 0


def run_remove(args: argparse.Namespace) -> int:
    return _change(args, "remove")


def run_rename(args: argparse.Namespace) -> int:
    return _change(args, "rename")


def describe(account: Account, now: datetime) -> dict[str, object]:
    """One account's line of ``list``, read-only (credentials parsed, never shown)."""
    from trayapp.services.usage_accounts import credentials_loader

    report = credentials_loader(account)(now)
    deadline = report.account.login_expires_at
    days = None if deadline is None else int((deadline - now).total_seconds() // 86400)
    return {
        "label": account.label,
        "key": account.key,
        "config_dir": str(account.config_dir),
        "default": account.is_default,
        "email": report.account.email,
        "organization": report.account.organization,
        "credentials": str(report.status),
        "readable": report.credentials is not None,
        "login_deadline": deadline.isoformat() if deadline else None,
        "days_left": days,
    }


def run_list(args: argparse.Namespace) -> int:
    import json
    from datetime import UTC, datetime

    from trayapp.store.accounts_repo import AccountsFileError, AccountsRepo

    repo = AccountsRepo()
    try:
        accounts = repo.load()
    except AccountsFileError as exc:
        print(f"claude-watch accounts: {exc}; showing the last good list", file=sys.stderr)
        accounts = repo.load_or_last()
    now = datetime.now(UTC)
    rows = [describe(a, now) for a in accounts]
    if args.json:
        print(json.dumps({"schema_version": SCHEMA_VERSION, "accounts": rows}, indent=2), flush=True)
        return 0
    for row in rows:
        who = row["email"] or "no identity"
        login = "credentials " + str(row["credentials"])
        if row["days_left"] is not None:
            login += f", login renews in {row['days_left']} days"
        mark = " (default)" if row["default"] else ""
        print(f"{row['label']}{mark}: {row['config_dir']}\n  {who}; {login}")
    return 0


def _cswap_slots() -> tuple[list[Any], str | None]:
    """cswap's slots and None, or the last good ones (``cache/cswap.json``) and what went wrong."""
    from trayapp import paths
    from trayapp.sources import cswap
    from trayapp.store.files import atomic_write, read_capped

    cache = paths.cache_dir() / "cswap.json"
    try:
        raw = cswap.list_raw()
        slots = cswap.parse_list(raw)
    except cswap.CswapError as exc:
        try:
            return cswap.parse_list(read_capped(cache, cswap.MAX_OUTPUT)), str(exc)
        except (OSError, cswap.CswapError):
            return [], str(exc)
    try:
        atomic_write(cache, raw)  # the last good list (emails and percentages, no tokens)
    except OSError:
        pass
    return slots, None


def run_cswap(args: argparse.Namespace) -> int:
    import json
    from dataclasses import asdict

    slots, problem = _cswap_slots()
    if args.json:
        out = {"schema_version": SCHEMA_VERSION, "slots": [asdict(s) for s in slots], "problem": problem}
        print(json.dumps(out, indent=2), flush=True)
    else:
        if problem:
            print(f"claude-swap: {problem}" + ("; showing the last good list" if slots else ""))
        for s in slots:
            mark = " (active)" if s.active else ""
            print(f"slot {s.number}: {s.email or 'unknown'}{mark}")
    return 0 if problem is None else 1


def run_switch(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from trayapp.core import accounts as ac
    from trayapp.sources import cswap
    from trayapp.store.accounts_repo import AccountsRepo

    account = ac.find(AccountsRepo().load_or_last(), args.label)
    if account is None:
        return _fail(f"no account named {args.label!r}")
    email = describe(account, datetime.now(UTC))["email"]
    try:
        slot = cswap.slot_for(cswap.list_slots(), email if isinstance(email, str) else None)
        if slot is None:
            return _fail(
                f"claude-swap has no slot for {account.label} ({email or 'no identity'}): add it with cswap"
            )
        cswap.switch_to(slot.number)
    except cswap.CswapError as exc:
        return _fail(str(exc))
    print(f"Claude Code now uses {account.label} (claude-swap slot {slot.number}).")
    return 0
