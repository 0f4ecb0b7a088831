"""One usage engine per account: each reads its own config folder, files its rows under its key.

An account's engine is the default engine's sibling: the same database (seen through
:meth:`~trayapp.store.usage_repo.UsageRepo.for_account`), the same interval, retention and
endpoint setting, but its own credentials loader (its folder's ``.credentials.json``, or on macOS
the Keychain item named for that folder, never the default login's), its own poll policy
(cooldowns and backoff per token) and its own status line captures (those whose ``config_dir``
is its folder). Nothing here stores a token or touches the user's active login.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from functools import partial
from pathlib import Path

from trayapp.core.accounts import Account
from trayapp.services.usage_engine import LocalSource, UsageEngine
from trayapp.sources.credentials import KEYCHAIN_SERVICE, CredentialsReport, load_credentials, read_keychain
from trayapp.sources.usage_api import UsageClient


def scoped_keychain(service: str) -> str | None:
    """The Keychain reader for an added account: only the item named for its folder, never the
    bare ``Claude Code-credentials`` (that is the default login's)."""
    return None if service == KEYCHAIN_SERVICE else read_keychain(service)


def credentials_loader(account: Account) -> Callable[[datetime], CredentialsReport]:
    """Read-only credentials of ``account``: the default follows Claude Code's own lookup (the
    environment), an added account only its folder."""
    if account.is_default:
        return lambda now: load_credentials(now)
    folder = account.config_dir
    return partial(load_credentials, config_dirs=[folder], home=folder, keychain_reader=scoped_keychain)


def capture_filter(account: Account, accounts: Sequence[Account]) -> Callable[[str | None], bool]:
    """Whether a status line capture (by the ``config_dir`` its session ran with) is ``account``'s.

    A capture without a folder came from the default ``~/.claude``; one from a folder no account
    names is nobody's (it would otherwise show a stranger's limits as the default's)."""
    folders = {a.config_dir: a.key for a in accounts}

    def belongs(config_dir: str | None) -> bool:
        if not config_dir:
            return account.is_default
        try:
            folder = Path(config_dir).expanduser().absolute()
        except (OSError, RuntimeError, ValueError):
            return False
        return folders.get(folder) == account.key

    return belongs


def capture_source(account: Account, accounts: Sequence[Account]) -> LocalSource:
    from trayapp.sources.statusline_capture import STALE_LIMIT, local_source

    return local_source(STALE_LIMIT, belongs=capture_filter(account, accounts))


def account_engine(
    account: Account,
    accounts: Sequence[Account],
    base: UsageEngine,
    *,
    client: UsageClient | None = None,
    loader: Callable[[datetime], CredentialsReport] | None = None,
) -> UsageEngine:
    """An engine for ``account`` next to ``base`` (the default account's). Blocking (reads the
    account's last reading from the database): call it from a worker thread."""
    engine = UsageEngine(
        base.repo.for_account(account.key),
        clock=base.clock,
        client=client or UsageClient(),
        interval=base.interval,
        retention_days=base.retention_days,
        local_sources=[capture_source(account, accounts)] if base.local_sources else (),
        credentials_loader=loader or credentials_loader(account),
        probe_version=False,
        label=account.label,
    )
    engine.use_endpoint = base.use_endpoint
    return engine


def scope_default_captures(base: UsageEngine, accounts: Sequence[Account]) -> None:
    """With several accounts, the default engine takes only its own captures (not a work
    session's). Only when it reads the standard captures (not the demo, not a test's source)."""
    if len(accounts) > 1 and base.local_sources and getattr(base, "standard_captures", False):
        base.local_sources = [capture_source(accounts[0], accounts)]
