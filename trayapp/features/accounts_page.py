"""The Settings dialog's Accounts page as a feature (listed in :mod:`trayapp.app_features`).

``attach`` registers the page (:mod:`trayapp.ui.accounts_page`). :func:`make_page` wires it:
every file read and write runs on the io lane (``runtime.run_blocking``), never the GUI thread.
The list comes from ``config/accounts.json`` through :class:`~trayapp.store.accounts_repo.
AccountsRepo` (a refused file: the last good list), each account's e-mail and login read-only
from its own folder (:func:`~trayapp.services.usage_accounts.credentials_loader`). Add, Rename and
Remove go through the repository (its checks refuse what ``core.accounts`` refuses; the message is
shown inline), then the login watch and the accounts feature (polling, tray and popup views) are
nudged to read the file at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from trayapp import runtime
from trayapp.core import login_freshness as lf

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from trayapp.app import ClaudeWatch
    from trayapp.core.accounts import Account
    from trayapp.store.accounts_repo import AccountsRepo
    from trayapp.ui.accounts_page import AccountRow, AccountsPage

log = logging.getLogger(__name__)


def describe(account: Account, now: datetime) -> AccountRow:
    """One account's row, read-only from its folder. Blocking (file reads, maybe the Keychain)."""
    from trayapp.services.login_watch import account_loader, command_for, status_from_report
    from trayapp.ui.accounts_page import AccountRow

    report = account_loader(account)(now)
    status = status_from_report(report, account.key, now)
    return AccountRow(account, report.account.email, lf.short_text(status), status.ok, command_for(account))


def rows(repo: AccountsRepo, now: datetime) -> list[AccountRow]:
    return [describe(a, now) for a in repo.load_or_last()]


def folder_note(folder: Path, now: datetime) -> str:
    """A word on a folder about to be added: not a folder, no login in it yet, or whose it is."""
    from trayapp.core.accounts import Account
    from trayapp.services.login_watch import account_loader

    if not folder.is_dir():
        return f"{folder} is not a folder yet: pick one (Claude Code creates it at its first sign-in)."
    account = Account("new", folder, "new")
    report = account_loader(account)(now)
    if report.credentials is None:
        return (
            "No Claude Code login in this folder yet: after adding it, use Open sign-in "
            f"(it runs `{lf.sign_in_text(str(folder), str(Path.home()))}`)."
        )
    who = f" as {report.account.email}" if report.account.email else ""
    return f"Signed in{who}."


def cswap_lines(rows: list[AccountRow]) -> list[str]:
    """claude-swap's slots beside the accounts here (matched by e-mail). Blocking (runs ``cswap
    --list --json`` through the read-only adapter: no shell, bounded, schema 1 only)."""
    from trayapp.sources import cswap

    try:
        slots = cswap.list_slots()
    except cswap.CswapError as exc:
        return [f"claude-swap could not be read: {exc}."]
    if not slots:
        return ["claude-swap has no slots."]
    mine = {r.email.casefold(): r.account.label for r in rows if r.email}
    lines = []
    for slot in slots:
        label = mine.get(slot.email.casefold()) if slot.email else None
        here = f"account {label}" if label is not None else "no account here: add its config folder"
        active = " (active)" if slot.active else ""
        lines.append(f"Slot {slot.number}: {slot.email or 'no e-mail'}{active}: {here}")
    return lines


def make_page(
    repo: AccountsRepo | None = None,
    *,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    changed: Callable[[], None] = lambda: None,
    sign_in: Callable[[Account], object] | None = None,
) -> AccountsPage:
    """The page wired to the accounts file (``changed``: called after each saved change)."""
    from trayapp.core.accounts import AccountError
    from trayapp.store.accounts_repo import AccountsFileError, AccountsRepo
    from trayapp.ui.accounts_page import AccountsPage

    repo = repo or AccountsRepo()
    page = AccountsPage()
    refused = (AccountError, AccountsFileError, OSError)

    async def reload() -> None:
        try:
            page.set_rows(await runtime.run_blocking(rows, repo, now(), lane="io"))
        except Exception:
            log.exception("cannot list the accounts")

    async def change(what: str, fn: Callable[..., object], *args: object) -> bool:
        try:
            await runtime.run_blocking(fn, *args, lane="io")
        except refused as exc:
            message = f"Not {what}: {exc}."
            if what == "added":
                page.show_add_error(message)
            else:
                page.show_error(message)
            return False
        page.show_error("")
        changed()
        await reload()
        return True

    async def add(label: str, folder: str) -> None:
        path = Path(folder)
        if not await runtime.run_blocking(path.is_dir, lane="io"):
            page.show_add_error(f"Not added: {path} is not a folder.")
            return
        if await change("added", repo.add, label, path):
            page.show_folder_note(await runtime.run_blocking(folder_note, path, now(), lane="io"))
            page.added()

    async def note(folder: str) -> None:
        page.show_folder_note(await runtime.run_blocking(folder_note, Path(folder), now(), lane="io"))

    def spawn(coro: object, name: str) -> None:
        runtime.try_spawn(coro, name, group=page)  # type: ignore[arg-type]

    page.add_requested.connect(lambda label, folder: spawn(add(label, folder), "add an account"))
    page.remove_requested.connect(
        lambda label: spawn(change("removed", repo.remove, label), "remove an account")
    )
    page.rename_requested.connect(
        lambda old, new: spawn(change("renamed", repo.rename, old, new), "rename an account")
    )
    page.folder_chosen.connect(lambda folder: spawn(note(folder), "look at a folder"))
    if sign_in is not None:

        def open_for(label: str) -> None:
            row = next((r for r in page.rows if r.account.label == label), None)
            if row is not None:
                sign_in(row.account)

        page.sign_in_requested.connect(open_for)
    page.refresh_requested.connect(lambda: spawn(reload(), "list the accounts"))

    async def read_cswap() -> None:
        page.show_cswap(await runtime.run_blocking(cswap_lines, list(page.rows), lane="io"))

    async def look_for_cswap() -> None:
        from trayapp.sources.cswap import executable

        page.set_cswap_available(await runtime.run_blocking(executable, lane="io") is not None)

    page.cswap_requested.connect(lambda: spawn(read_cswap(), "read claude-swap"))
    spawn(reload(), "list the accounts")
    spawn(look_for_cswap(), "look for claude-swap")
    return page


def attach(cw: ClaudeWatch) -> None:
    if cw.demo:
        return  # the demo's accounts are simulated

    def page() -> QWidget:
        from trayapp.features import accounts, login

        def sign_in(account: Account) -> None:
            runtime.try_spawn(login.open_sign_in(account), "open sign-in")

        def changed() -> None:
            login.accounts_changed(cw)  # the login lines
            accounts.nudge(cw)  # the polling, the tray and popup views

        return make_page(now=cw.clock.now, changed=changed, sign_in=sign_in)

    cw.settings_pages.append(("Accounts", page))
