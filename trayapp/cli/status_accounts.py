"""``claude-watch status --account LABEL`` and ``status --all``: one account's limits, or every one's.

Each account is polled through its own engine (its folder's credentials, its own poll policy: a
429 cooldown or a fetch less than 30 s ago shows the stored reading instead), one after another,
never two at once. ``--json`` prints the same document as plain ``status --json`` plus an
``account_label`` key (``account`` is already the login's identity); ``--all --json`` prints
``{"schema_version": 1, "accounts": [...]}`` in account order. Exit codes as ``status``: 0 all
fresh, 1 no numbers at all, 3 some numbers stale or missing; 2 for a label no account has.

Also ``report --account LABEL``'s pieces: the account by its label, and a tracker over its part of
the ledger (:mod:`trayapp.store.ledger.account_view`).
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from trayapp.core.accounts import Account

SCHEMA_VERSION = 1


def show_accounts(label: str | None, fmt: str) -> int:
    import asyncio
    import json

    from trayapp.cli.status import EXIT_NO_DATA, EXIT_OK, EXIT_STALE, render, to_json
    from trayapp.core import accounts as ac
    from trayapp.store.accounts_repo import AccountsRepo

    accounts = AccountsRepo().load_or_last()
    chosen = accounts
    if label is not None:
        found = ac.find(accounts, label)
        if found is None:
            names = ", ".join(a.label for a in accounts)
            print(f"claude-watch status: no account named {label!r} (accounts: {names})", file=sys.stderr)
            return 2
        chosen = [found]
    results = asyncio.run(_poll_all(accounts, chosen))
    docs: list[Any] = []
    for account, (state, now) in results:
        if fmt == "json":
            docs.append({**to_json(state, now), "account_label": account.label})
        else:
            head = f"── {account.label} ({account.config_dir})"
            docs.append(head + "\n" + render(state, now))
    if fmt == "json":
        out: Any = docs[0] if label is not None else {"schema_version": SCHEMA_VERSION, "accounts": docs}
        print(json.dumps(out, indent=2), flush=True)
    else:
        print("\n\n".join(docs), flush=True)
    states = [state for _, (state, _) in results]
    if all(s.snapshot is None for s in states):
        return EXIT_NO_DATA
    if any(s.snapshot is None or s.stale for s in states):
        return EXIT_STALE
    return EXIT_OK


async def _poll_all(accounts: list[Account], chosen: list[Account]) -> list[tuple[Account, Any]]:
    from trayapp.runtime import run_blocking
    from trayapp.services.usage_accounts import account_engine, scope_default_captures
    from trayapp.services.usage_engine import create_engine

    base = await run_blocking(create_engine)
    scope_default_captures(base, accounts)
    out = []
    try:
        for account in chosen:  # one after another: never two accounts' requests at once
            engine = (
                base if account.is_default else await run_blocking(account_engine, account, accounts, base)
            )
            try:
                state = await engine.poll(manual=True)
                out.append((account, (state, engine.clock.now())))
            finally:
                if engine is not base:
                    await engine.aclose()
    finally:
        await base.aclose()
    return out


def find_account(label: str) -> Account:
    """The account named ``label`` (case-blind), or ValueError naming the accounts there are."""
    from trayapp.core import accounts as ac
    from trayapp.store.accounts_repo import AccountsRepo

    accounts = AccountsRepo().load_or_last()
    found = ac.find(accounts, label)
    if found is None:
        names = ", ".join(a.label for a in accounts)
        raise ValueError(f"no account named {label!r} (accounts: {names})")
    return found


def account_tracker(tracker: Any, account: Account) -> Any:
    """A tracker like ``tracker`` over ``account``'s transcripts alone (its files by their root)."""
    from pathlib import Path

    from trayapp.core.accounts import file_account
    from trayapp.services.ledger_service import Tracker
    from trayapp.sources.transcripts.discovery import transcript_roots
    from trayapp.store.accounts_repo import AccountsRepo
    from trayapp.store.ledger.account_view import account_ledger

    accounts = AccountsRepo().load_or_last()
    roots = transcript_roots()

    def owned(path: str) -> bool:
        return file_account(accounts, roots, Path(path)) == account.key

    view = account_ledger(tracker.repo, owned)
    return Tracker(view, table=tracker.table, tz=tracker.tz, cost_mode=tracker.cost_mode)
