"""How the ledger changes: file bookkeeping, then occurrences merged into entries and buckets.

Two ways in, each one transaction, so a scan killed midway leaves a consistent ledger and the next
scan continues from there: :meth:`LedgerWriter.apply` merges one batch of an incremental scan into
what is stored, and :class:`ColdLoad` is the first load of an empty ledger, built for speed. Both
apply the de-duplication rules of :mod:`trayapp.core.ledger` and keep ``occ``, ``entries``,
``buckets``, the file bookkeeping and the generation (which voids ``query_cache``) in step. A file
that disappears keeps its rows; a file that shrank or was replaced has its rows removed (a batch's
``resets``) and is read again.

Every stored count, cost and time is within the per-line limits of :mod:`trayapp.core.ledger` (the
decoder never yields a row outside them, and migration 4 removed those older versions stored), so
the SQL sums cannot overflow.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Sequence
from itertools import chain
from operator import itemgetter

from trayapp.core.ledger import (
    CWD,
    E_GKEY,
    E_REQ,
    E_TS,
    FILE,
    GKEY,
    REQ,
    TS,
    EntryRow,
    Row,
    merge_into,
    row_from_entry,
    row_key,
    single_entry,
    split_groups,
    winner_rows,
)
from trayapp.store.db import rollback
from trayapp.store.ledger.schema import ENTRIES_KEY, ENTRY_ALL, OCC_COLS, SLOT_MS, fill_buckets

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (warm-start cost)
if TYPE_CHECKING:
    from typing import Any

# B-tree inserts in key order are cheaper. The leading column of the primary keys of occ (gkey, req,
# side, file_id) and entries (ts, gkey, req) nearly is that order, and sorts three times faster than
# the whole key (one C-level comparison instead of a tuple's).
_OCC_ORDER = itemgetter(GKEY)
_ENTRY_ORDER = itemgetter(E_TS)
_GKEY = itemgetter(GKEY)
_CWD = itemgetter(CWD)
_ROWS_PER_INSERT = 100


class FileRow:
    """What the ledger remembers about one transcript file."""

    __slots__ = ("id", "path", "project_hint", "session_hint", "dev", "ino", "size", "mtime_ns", "offset",
                 "malformed", "missing")  # fmt: skip

    def __init__(
        self, id: int, path: str, project_hint: str, session_hint: str, dev: int, ino: int, size: int,
        mtime_ns: int, offset: int, malformed: int, missing: bool,
    ) -> None:  # fmt: skip
        self.id, self.path, self.project_hint, self.session_hint = id, path, project_hint, session_hint
        self.dev, self.ino, self.size, self.mtime_ns = dev, ino, size, mtime_ns
        self.offset, self.malformed, self.missing = offset, malformed, missing


class FileState:
    """New bookkeeping for a file after a read (``malformed`` is added to the stored count)."""

    __slots__ = ("file_id", "dev", "ino", "size", "mtime_ns", "offset", "malformed")

    def __init__(
        self, file_id: int, dev: int, ino: int, size: int, mtime_ns: int, offset: int, malformed: int
    ) -> None:
        self.file_id, self.dev, self.ino, self.size = file_id, dev, ino, size
        self.mtime_ns, self.offset, self.malformed = mtime_ns, offset, malformed


class Batch:
    """One transaction's worth of scan results."""

    __slots__ = ("resets", "rows", "states", "missing")

    def __init__(self, missing: list[int] | None = None) -> None:
        self.resets: list[int] = []  # files whose old rows are dropped first
        self.rows: list[Row] = []  # new occurrences
        self.states: list[FileState] = []
        self.missing: list[int] = missing or []  # files that vanished


# A file name that is not valid UTF-8 reaches Python as text with lone surrogates (PEP 383), which
# SQLite's TEXT cannot hold ("surrogates not allowed" stopped every report). Such a path is stored
# as its bytes in hex behind a prefix no absolute path starts with, and read back exactly; hints
# (names shown to the user) get U+FFFD for the bytes that are not text.
_FS_BYTES = "fsbytes:"


def path_to_db(path: str) -> str:
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return _FS_BYTES + os.fsencode(path).hex()
    return path


def path_from_db(stored: str) -> str:
    if stored.startswith(_FS_BYTES):
        try:
            return os.fsdecode(bytes.fromhex(stored[len(_FS_BYTES) :]))
        except ValueError:
            return stored
    return stored


def displayable(text: str) -> str:
    """``text`` with every byte that is not UTF-8 shown as U+FFFD (safe to store and print)."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


class LedgerWriter:
    """The write side of :class:`~trayapp.store.ledger.LedgerRepo` (which creates the temporary
    tables ``touched`` and ``slots`` used here)."""

    conn: sqlite3.Connection

    # --- files
    def files(self) -> dict[str, FileRow]:
        rows = self.conn.execute(
            "SELECT id, path, project_hint, session_hint, dev, ino, size, mtime_ns, offset, malformed,"
            " missing FROM files"
        ).fetchall()
        out: dict[str, FileRow] = {}
        for r in rows:
            i, stored, ph, sh, dev, ino, size, mtime, off, bad, missing = r
            path = path_from_db(stored)
            out[path] = FileRow(i, path, ph, sh, dev, ino, size, mtime, off, bad, bool(missing))
        return out

    def add_files(self, items: Sequence[tuple[str, str, str]]) -> dict[str, int]:
        """Register (path, project_hint, session_hint) triples; returns path -> id."""
        with _Transaction(self.conn):
            self.conn.executemany(
                "INSERT OR IGNORE INTO files (path, project_hint, session_hint) VALUES (?, ?, ?)",
                [(path_to_db(p), displayable(ph), displayable(sh)) for p, ph, sh in items],
            )
        wanted = {p for p, _, _ in items}
        found = ((path_from_db(r[1]), r[0]) for r in self.conn.execute("SELECT id, path FROM files"))
        return {path: file_id for path, file_id in found if path in wanted}

    def write_states(self, batch: Batch) -> None:
        """The file bookkeeping of ``batch`` (call inside the writing transaction)."""
        self.conn.executemany(
            "UPDATE files SET dev=?, ino=?, size=?, mtime_ns=?, offset=?,"
            " malformed=malformed+?, missing=0 WHERE id=?",
            ((s.dev, s.ino, s.size, s.mtime_ns, s.offset, s.malformed, s.file_id) for s in batch.states),
        )
        self.conn.executemany("UPDATE files SET missing=1 WHERE id=?", ((fid,) for fid in batch.missing))

    def project_hints(self, rows: Iterable[Row]) -> dict[int, str]:
        """Project folder names for the files of rows without ``cwd`` (rare: old or odd lines)."""
        files = {r[FILE] for r in rows if not r[CWD]}
        if not files:
            return {}
        return {r[0]: r[1] for r in self.conn.execute("SELECT id, project_hint FROM files") if r[0] in files}

    # --- the merge
    def is_empty(self) -> bool:
        return self.conn.execute("SELECT 1 FROM entries LIMIT 1").fetchone() is None

    def apply(self, batch: Batch, may_exist: set[str] | None = None) -> int:
        """Apply one batch atomically; returns the number of dedup groups touched.

        ``may_exist`` (an optimisation for cold scans) is the set of groups that can already be in
        the ledger; groups outside it are known to be new and are not looked up. None: look up all.
        """
        conn = self.conn
        with _Transaction(conn):
            conn.execute(ENTRIES_KEY)  # after a cold load (see ENTRIES_KEY); else a no-op
            resets = set(batch.resets)
            reset_groups: set[str] = set()
            for fid in resets:
                for sql in (
                    "SELECT gkey FROM occ WHERE file_id = ?",
                    "SELECT gkey FROM entries WHERE file_id = ?",
                ):
                    reset_groups.update(r[0] for r in conn.execute(sql, (fid,)))
            touched = {r[GKEY] for r in batch.rows} | reset_groups
            lookup = touched if may_exist is None else (touched & may_exist) | reset_groups
            table: dict[tuple[int, str, str, int], Row] = {}
            slots: set[int] = set()  # 15-minute buckets whose sums change
            if lookup:
                table = self._load_groups(lookup, resets, slots)
            for row in batch.rows:
                merge_into(table, row)
            groups = split_groups(table.values())
            multi = [r for g in groups.values() if len(g) > 1 for r in g]
            multi.sort(key=_OCC_ORDER)
            _insert(conn, "occ", OCC_COLS, multi)
            entries = winner_rows(groups.values(), self.project_hints(table.values()))
            entries.sort(key=_ENTRY_ORDER)
            _insert(conn, "entries", ENTRY_ALL, entries)
            slots.update(e[E_TS] // SLOT_MS for e in entries)
            self.refresh_buckets(slots)
            self.write_states(batch)
            if batch.rows or batch.resets:
                self.new_generation()
        return len(touched)

    def cold_load(self) -> ColdLoad:
        """Start the first load of an empty ledger (see :class:`ColdLoad`)."""
        return ColdLoad(self)

    def new_generation(self) -> None:
        """Entries changed (call inside the writing transaction): cached query results are void."""
        self.conn.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'")
        self.conn.execute("DELETE FROM query_cache")

    def refresh_buckets(self, slots: set[int]) -> None:
        """Sum the given 15-minute buckets again from ``entries``."""
        if not slots:
            return
        conn = self.conn
        conn.execute("DELETE FROM temp.slots")
        conn.executemany("INSERT OR IGNORE INTO temp.slots VALUES (?)", ((b,) for b in slots))
        conn.execute("DELETE FROM buckets WHERE b IN (SELECT b FROM temp.slots)")
        conn.execute(fill_buckets("temp.slots"))
        conn.execute("DELETE FROM temp.slots")

    def rebuild_buckets(self) -> None:
        """Sum every bucket again from ``entries`` (inside the writing transaction)."""
        self.conn.execute("DELETE FROM buckets")
        self.conn.execute(fill_buckets())

    def _load_groups(
        self, gkeys: set[str], drop_files: set[int], slots: set[int]
    ) -> dict[tuple[int, str, str, int], Row]:
        """All occurrences of ``gkeys`` (from ``occ``, or rebuilt from ``entries`` for groups seen once),
        minus those of ``drop_files``; the groups' rows are removed from both tables (the caller
        writes them back) and the buckets of the removed entries are added to ``slots``."""
        conn = self.conn
        conn.execute("DELETE FROM temp.touched")
        conn.executemany("INSERT INTO temp.touched VALUES (?)", ((g,) for g in gkeys))
        table: dict[tuple[int, str, str, int], Row] = {}
        multi: set[str] = set()
        for r in conn.execute(f"SELECT {OCC_COLS} FROM occ WHERE gkey IN (SELECT gkey FROM temp.touched)"):
            multi.add(r[GKEY])
            if r[FILE] not in drop_files:
                table[row_key(r)] = tuple(r)
        for e in conn.execute(
            f"SELECT {ENTRY_ALL} FROM entries WHERE gkey IN (SELECT gkey FROM temp.touched)"
        ):
            slots.add(e[E_TS] // SLOT_MS)
            if e[E_GKEY] not in multi:
                row = row_from_entry(tuple(e))
                if row[FILE] not in drop_files:
                    table[row_key(row)] = row
        conn.execute("DELETE FROM occ WHERE gkey IN (SELECT gkey FROM temp.touched)")
        conn.execute("DELETE FROM entries WHERE gkey IN (SELECT gkey FROM temp.touched)")
        conn.execute("DELETE FROM temp.touched")
        return table


class ColdLoad:
    """The first load of an empty ledger (a cold scan), fed while the scan runs.

    Same result as :meth:`LedgerWriter.apply`, built for speed: everything happens in ONE transaction
    (a scan killed midway leaves the ledger as it was) and rows are kept in memory by dedup group.
    While the workers are still reading, :meth:`flush` writes the entries of every group as it
    stands (provisional: a group that gets more copies later has its entries deleted and written
    again at the next flush) and the occurrences of repeated groups (final: rows arrive a whole file
    at a time). :meth:`finish` flushes what is left and builds the 15-minute buckets once, so
    little work remains after the last file.
    """

    def __init__(self, repo: LedgerWriter) -> None:
        self.repo = repo
        self.groups: dict[str, list[Row]] = {}
        self.rows = 0
        # Since the last flush: rows that opened a group, and groups that got another row.
        self._fresh: list[Row] = []
        self._grown: dict[str, None] = {}  # an ordered set
        # What the ledger holds for each group: the entry of its only row (the first in groups[k]),
        # or the (ts, req) keys of the entries written for a repeated group.
        self._single: set[str] = set()
        self._written: dict[str, list[tuple[int, str]]] = {}
        self._in_occ: dict[str, int] = {}  # repeated groups -> how many of their rows are in occ
        self._open = False

    def add(self, rows: Iterable[Row]) -> None:
        """Add the rows of whole files (copies of one line within a file already collapsed)."""
        groups, fresh, grown = self.groups, self._fresh, self._grown
        n = 0
        for r in rows:
            g = groups.get(r[GKEY])
            if g is None:
                groups[r[GKEY]] = [r]
                fresh.append(r)
            else:
                g.append(r)
                grown[r[GKEY]] = None
            n += 1
        self.rows += n

    @property
    def pending(self) -> int:
        return len(self._fresh) + len(self._grown)

    def flush(self) -> None:
        """Write the entries of the groups that changed since the last flush (replacing what was
        written for them before) and the new occurrences of repeated groups."""
        conn, single = self.repo.conn, self._single
        if not self._open:
            conn.execute("BEGIN IMMEDIATE")
            self._open = True
            if not self.repo.is_empty():
                self.abort()
                raise RuntimeError("a cold load needs an empty ledger")
            # Rows arrive in no useful order for the (gkey, req) index: building it once later is
            # several times cheaper than keeping it up to date (the deletes use the primary key);
            # the next incremental merge builds it (see ENTRIES_KEY).
            conn.execute("DROP INDEX IF EXISTS entries_key")
        fresh, grown = self._fresh, self._grown
        self._fresh, self._grown = [], {}
        if grown:
            fresh = [r for r in fresh if r[GKEY] not in grown]  # opened and grown since: repeated
        # Groups seen once so far, most of them: their entry is their row, reordered in C.
        if all(map(_CWD, fresh)):
            entries = list(map(single_entry, fresh))
        else:  # lines without cwd take their file's project folder name
            entries = winner_rows([[r] for r in fresh], self.repo.project_hints(fresh))
        single.update(map(_GKEY, fresh))
        if grown:
            self._flush_repeated(list(grown), entries)
        entries.sort(key=_ENTRY_ORDER)
        _insert(conn, "entries", ENTRY_ALL, entries)

    def _flush_repeated(self, keys: list[str], entries: list[EntryRow]) -> None:
        """Replace the entries of repeated groups (appended to ``entries``) and write their new
        occurrences."""
        groups, single, written, in_occ = self.groups, self._single, self._written, self._in_occ
        stale: list[tuple[int, str, str]] = []
        occ: list[Row] = []
        for k in keys:
            rows = groups[k]
            if k in single:  # written while it had one row: that row's entry
                single.discard(k)
                stale.append((rows[0][TS], k, rows[0][REQ]))
            else:
                stale.extend((ts, k, req) for ts, req in written.get(k, ()))
            occ.extend(rows[in_occ.get(k, 0) :])
            in_occ[k] = len(rows)
        conn = self.repo.conn
        conn.executemany("DELETE FROM entries WHERE ts = ? AND gkey = ? AND req = ?", stale)
        occ.sort(key=_OCC_ORDER)
        _insert(conn, "occ", OCC_COLS, occ)
        batch = [groups[k] for k in keys]
        repeated = winner_rows(batch, self.repo.project_hints(r for g in batch for r in g))
        for k in keys:
            written[k] = []
        for e in repeated:
            written[e[E_GKEY]].append((e[E_TS], e[E_REQ]))
        entries.extend(repeated)

    def finish(self, batch: Batch) -> int:
        """Complete the load (plus the file bookkeeping in ``batch``) and commit; returns the number
        of dedup groups."""
        try:
            self.flush()
            self.repo.rebuild_buckets()
            self.repo.write_states(batch)
            self.repo.new_generation()
        except BaseException:
            self.abort()
            raise
        self.repo.conn.execute("COMMIT")
        self._open = False
        return len(self.groups)

    def abort(self) -> None:
        if self._open:
            self._open = False
            rollback(self.repo.conn)  # SQLite may have rolled back already (a full disk)


class _Transaction:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.conn.execute("COMMIT")
        else:
            rollback(self.conn)


def _insert(conn: sqlite3.Connection, table: str, columns: str, rows: Sequence[tuple[Any, ...]]) -> None:
    """INSERT ``rows`` (tuples in ``columns`` order) with one statement per hundred rows: about a
    quarter cheaper than one statement per row (executemany) for the tens of thousands of rows of
    a cold scan."""
    if not rows:
        return
    width = columns.count(",") + 1
    one = "(" + ",".join("?" * width) + ")"
    head = f"INSERT INTO {table} ({columns}) VALUES "
    n = _ROWS_PER_INSERT
    full = len(rows) - len(rows) % n
    if full:
        sql = head + ",".join([one] * n)
        for k in range(0, full, n):
            conn.execute(sql, list(chain.from_iterable(rows[k : k + n])))
    if full < len(rows):
        conn.execute(head + ",".join([one] * (len(rows) - full)), list(chain.from_iterable(rows[full:])))
