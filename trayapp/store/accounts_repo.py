"""The accounts file, ``config/accounts.json``: which Claude Code config folders are accounts.

Format (version 1)::

    {"version": 1, "default_label": "Personal",
     "accounts": [{"label": "Work", "config_dir": "/home/me/.claude-work", "key": "Work"}]}

The default account (``$CLAUDE_CONFIG_DIR``'s first folder, or ``~/.claude``) is never stored as
a folder: it follows the environment, and only its label is kept. No tokens, no identities: only
labels and folders (everything else is read from the folders when needed).

Parsing is strict (size cap, every field checked, one bad entry refuses the file: a half-read
accounts list would silently drop an account's polling). A refused file is left in place for the
user to fix; :meth:`AccountsRepo.load_or_last` then answers the last good list (the copy
``accounts.json.last-good`` written with every save, else the default account alone). Writes are
atomic, mode 0600.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from trayapp import paths
from trayapp.core import accounts as ac
from trayapp.core.accounts import Account, AccountError
from trayapp.store.files import atomic_write, read_capped

log = logging.getLogger(__name__)

VERSION = 1
MAX_BYTES = 64 * 1024


class AccountsFileError(ValueError):
    """The accounts file exists but cannot be trusted (the message names the problem)."""


def accounts_file() -> Path:
    return paths.accounts_file()


def default_config_dir() -> Path:
    """The default account's folder: the first of ``CLAUDE_CONFIG_DIR``, else ``~/.claude``."""
    return _norm(paths.claude_config_dirs()[0])


def _norm(path: Path) -> Path:
    """Absolute, ``~`` expanded, not resolved through symlinks (the folder as the user names it,
    which is also what Claude Code hashes for its Keychain item)."""
    return Path(path).expanduser().absolute()


def parse(raw: bytes, default_dir: Path) -> list[Account]:
    """The accounts in ``raw`` (the default first), or :class:`AccountsFileError`."""
    try:
        data: Any = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise AccountsFileError(f"not JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("version") != VERSION:
        raise AccountsFileError(f"not a version {VERSION} accounts file")
    entries = data.get("accounts", [])
    if not isinstance(entries, list):
        raise AccountsFileError("'accounts' is not a list")
    label = data.get("default_label", ac.DEFAULT_LABEL)
    try:
        out = [Account(ac.validate_label(label), default_dir, ac.DEFAULT_KEY)]
    except AccountError as exc:
        raise AccountsFileError(f"default_label: {exc}") from None
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise AccountsFileError(f"account {i} is not an object")
        folder, key = entry.get("config_dir"), entry.get("key")
        if not isinstance(folder, str) or not folder or "\x00" in folder or not isinstance(key, str):
            raise AccountsFileError(f"account {i}: config_dir and key must be strings")
        try:
            name = ac.validate_label(entry.get("label"))  # type: ignore[arg-type]
            ac.validate_label(key)
        except AccountError as exc:
            raise AccountsFileError(f"account {i}: {exc}") from None
        folder_path = _norm(Path(folder))
        if key == ac.DEFAULT_KEY or any(ac.same_label(a.key, key) for a in out):
            raise AccountsFileError(f"account {i}: key {key!r} is used twice")
        if ac.find(out, name) is not None or any(a.config_dir == folder_path for a in out):
            raise AccountsFileError(f"account {i}: {name!r} or its folder is listed twice")
        out.append(Account(name, folder_path, key))
    return out


def dump(accounts: list[Account]) -> str:
    default = accounts[0]
    data = {
        "version": VERSION,
        "default_label": default.label,
        "accounts": [{"label": a.label, "config_dir": str(a.config_dir), "key": a.key} for a in accounts[1:]],
    }
    return json.dumps(data, indent=1, ensure_ascii=False) + "\n"


class AccountsRepo:
    """Load and change the accounts list. Blocking (small file reads and writes)."""

    def __init__(self, path: Path | None = None, default_dir: Path | None = None) -> None:
        self.path = path or accounts_file()
        self._default_dir = default_dir

    @property
    def backup(self) -> Path:
        return self.path.with_name(self.path.name + ".last-good")

    def default_dir(self) -> Path:
        return _norm(self._default_dir) if self._default_dir is not None else default_config_dir()

    def load(self) -> list[Account]:
        """The accounts, default first; :class:`AccountsFileError` when the file is refused."""
        return self._load(self.path)

    def _load(self, path: Path) -> list[Account]:
        try:
            raw = read_capped(path, MAX_BYTES)
        except FileNotFoundError:
            return [Account(ac.DEFAULT_LABEL, self.default_dir(), ac.DEFAULT_KEY)]
        except OSError as exc:
            raise AccountsFileError(f"{path}: {exc}") from None
        try:
            return parse(raw, self.default_dir())
        except AccountsFileError as exc:
            raise AccountsFileError(f"{path}: {exc}") from None

    def load_or_last(self) -> list[Account]:
        """:meth:`load`, or the last good list when the file is refused (never raises)."""
        try:
            return self.load()
        except AccountsFileError as exc:
            log.warning("accounts file refused (%s); using the last good list", exc)
        try:
            if self.backup.exists():
                return self._load(self.backup)
        except AccountsFileError as exc:
            log.warning("last good accounts list refused too (%s)", exc)
        return [Account(ac.DEFAULT_LABEL, self.default_dir(), ac.DEFAULT_KEY)]

    def save(self, accounts: list[Account]) -> None:
        text = dump(accounts)
        atomic_write(self.path, text, 0o600)
        atomic_write(self.backup, text, 0o600)

    # --- changes (each loads strictly first: a refused file is never overwritten) ----------

    def add(self, label: str, config_dir: Path) -> Account:
        accounts = self.load()
        folder = _norm(config_dir)
        name = ac.check_new(accounts, label, folder)
        account = Account(name, folder, name)
        self.save([*accounts, account])
        return account

    def remove(self, label: str) -> Account:
        """Forget an account (its history stays in the stores, filed under its key)."""
        accounts = self.load()
        account = ac.find(accounts, label)
        if account is None:
            raise AccountError(f"no account named {label!r}")
        if account.is_default:
            raise AccountError("the default account cannot be removed (rename it instead)")
        self.save([a for a in accounts if a is not account])
        return account

    def rename(self, label: str, new_label: str) -> Account:
        """A new label; the key (what the stores file its rows under) stays."""
        accounts = self.load()
        account = ac.find(accounts, label)
        if account is None:
            raise AccountError(f"no account named {label!r}")
        name = ac.validate_label(new_label)
        other = ac.find(accounts, name)
        if other is not None and other is not account:
            raise AccountError(f"there is already an account named {name!r}")
        renamed = Account(name, account.config_dir, account.key)
        self.save([renamed if a is account else a for a in accounts])
        return renamed


def account_transcript_roots(known: list[Path], path: Path | None = None) -> list[Path]:
    """The ``projects/`` folders of the added accounts that ``known`` (the roots Claude Code's own
    lookup finds) lacks, existing ones only: the ledger scans each account's transcripts once.
    Never raises (a refused accounts file: the last good list)."""
    seen = set()
    for root in known:
        try:
            seen.add(root.resolve())
        except OSError:
            continue
    out: list[Path] = []
    for account in AccountsRepo(path).load_or_last()[1:]:
        root = account.config_dir / "projects"
        try:
            resolved = root.resolve()
            if resolved in seen or not root.is_dir():
                continue
        except OSError:
            continue
        seen.add(resolved)
        out.append(root)
    return out
