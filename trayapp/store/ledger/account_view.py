"""One account's part of the ledger, as a ledger of its own (``report --account LABEL``).

The ledger keeps no account column: a transcript file's account is its root (see
:func:`trayapp.core.accounts.file_account`), so adding or removing an account never rewrites a
row. For an account's report, the entries whose file (for a request seen in several files, the
first that holds it, as :meth:`~trayapp.store.ledger.query.LedgerQueries.file_totals` counts) is
one of the account's are copied into an in-memory ledger, its 15-minute buckets summed, and every
report runs on that copy unchanged. Blocking: the copy reads the account's entries once.
"""

from __future__ import annotations

from trayapp.store.db import open_in_memory
from trayapp.store.ledger import LedgerRepo
from trayapp.store.ledger.query import FILE_OWNER
from trayapp.store.ledger.schema import ENTRY_ALL, MIGRATIONS, fill_buckets

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable


def files(source: LedgerRepo) -> list[tuple[int, str]]:
    """Every transcript file the ledger knows: ``(id, path)``."""
    return [(int(r[0]), str(r[1])) for r in source.conn.execute("SELECT id, path FROM files")]


def account_ledger(source: LedgerRepo, owned: Callable[[str], bool]) -> LedgerRepo:
    """An in-memory ledger with the entries of the files whose path ``owned`` accepts."""
    wanted = {fid for fid, path in files(source) if owned(path)}
    view = LedgerRepo(open_in_memory(MIGRATIONS))
    cols = ", ".join(f"e.{c.strip()}" for c in ENTRY_ALL.split(","))
    rows = [
        r[1:] for r in source.conn.execute(f"SELECT {FILE_OWNER}, {cols} FROM entries e") if r[0] in wanted
    ]
    marks = ", ".join("?" * len(ENTRY_ALL.split(",")))
    conn = view.conn
    conn.execute("BEGIN")
    conn.executemany(f"INSERT INTO entries ({ENTRY_ALL}) VALUES ({marks})", rows)
    conn.execute(fill_buckets())
    conn.execute("COMMIT")
    return view
