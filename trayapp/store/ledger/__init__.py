"""The token ledger: its own SQLite file (``data_dir()/ledger.sqlite3``) holding what the transcript
scan has seen, so rescans read only appended bytes and history outlives deleted transcripts.

:class:`LedgerRepo` is the one object callers hold; its parts live in three modules:
:mod:`~trayapp.store.ledger.schema` (tables, migrations, the column glossary and the SQL that sums
entries), :mod:`~trayapp.store.ledger.write` (file bookkeeping, :meth:`~LedgerRepo.apply` of an
incremental batch and :class:`~trayapp.store.ledger.write.ColdLoad`, the first load) and
:mod:`~trayapp.store.ledger.query` (grouped sums, the query cache, entries). Only the scan
(:mod:`trayapp.services.ledger_writer`) writes; reports only read.
"""

from __future__ import annotations

from trayapp.store.db import open_database, open_in_memory, open_read_only
from trayapp.store.errors import DiskFull
from trayapp.store.ledger.query import LedgerQueries
from trayapp.store.ledger.schema import LEDGER_FILENAME, MIGRATIONS, ledger_file
from trayapp.store.ledger.write import LedgerWriter

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (warm-start cost)
if TYPE_CHECKING:
    import sqlite3
    from pathlib import Path

__all__ = ["LEDGER_FILENAME", "LedgerRepo", "ledger_file"]


class LedgerRepo(LedgerWriter, LedgerQueries):
    """Repository over the ledger database. Use from one thread at a time (a worker, not the GUI)."""

    def __init__(self, conn: sqlite3.Connection, *, read_only: bool = False) -> None:
        self.conn = conn
        # Opened on a full disk (``open(..., read_only_when_full=True)``): reports read what is
        # committed; a scan must not start (``ledger_service`` checks this).
        self.read_only = read_only
        # Temporary tables, sorters and statement journals in memory. Set first: changing it drops
        # the temporary tables. A multi-row INSERT in a transaction keeps a statement journal (the
        # pages it changes, to undo it alone if a constraint fails); on disk that was 30,000 page
        # writes to a temporary file in the first load of a 2 GiB history.
        conn.execute("PRAGMA temp_store=MEMORY")
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS touched (gkey TEXT PRIMARY KEY) WITHOUT ROWID")
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS slots (b INTEGER PRIMARY KEY)")
        # A cold scan inserts tens of thousands of rows at random places of the (gkey, req) index:
        # a page cache that holds the whole working set avoids re-reading pages (allocated lazily).
        conn.execute("PRAGMA cache_size=-65536")
        # Checkpoint the WAL in larger steps: a cold scan writes tens of MB in a few transactions.
        conn.execute("PRAGMA wal_autocheckpoint=8192")

    @classmethod
    def open(
        cls, path: Path | None = None, *, check_same_thread: bool = True, read_only_when_full: bool = False
    ) -> LedgerRepo:
        """Open (create, migrate) the ledger. On a disk too full for that, ``DiskFull``; or, with
        ``read_only_when_full``, the committed ledger read-only (an empty one when there is none)."""
        target = path or ledger_file()
        try:
            return cls(open_database(target, MIGRATIONS, check_same_thread=check_same_thread))
        except DiskFull:
            if not read_only_when_full:
                raise
        try:
            conn = open_read_only(target, check_same_thread=check_same_thread)
        except DiskFull:  # no ledger yet: an empty one in memory, until there is room
            conn = open_in_memory(MIGRATIONS)
        return cls(conn, read_only=True)

    def close(self) -> None:
        self.conn.close()
