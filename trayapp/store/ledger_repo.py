"""The token ledger: its own SQLite file (``data_dir()/ledger.sqlite3``) holding what the transcript
scanner has seen, so rescans read only appended bytes and history outlives deleted transcripts.

Tables: ``files`` (per transcript: device, inode, size, mtime and the offset just past the last
complete line), ``occ`` (one row per file x dedup group x request x sidechain, kept for groups seen
more than once, see :mod:`trayapp.core.ledger`), ``entries`` (the de-duplicated requests that
reports count), ``buckets`` (their token sums per 15-minute UTC slot, which day and month reports
read) and ``query_cache`` (query results valid for one ledger generation). All of them change
together in one transaction: a batch of an incremental scan (:meth:`LedgerRepo.apply`) or the whole
first load of an empty ledger (:class:`ColdLoad`), so a scan killed midway leaves a consistent
ledger and the next scan continues from there. A file that disappears keeps its rows; a file that
shrank or was replaced has its rows removed and is read again.

Every stored count, cost and time is within the per-line limits of :mod:`trayapp.core.ledger` (the
decoder never yields a row outside them, and migration 4 removed those older versions stored), so
the SQL sums here cannot overflow.
"""

from __future__ import annotations

import marshal
import sqlite3
from collections.abc import Iterable, Sequence
from itertools import chain
from operator import itemgetter
from pathlib import Path

from trayapp import paths
from trayapp.core.aggregate import BUCKET_MS, GroupRow
from trayapp.core.ledger import (
    LONG_CONTEXT_THRESHOLD,
    MAX_COST_USD,
    MAX_TOKENS,
    MAX_TS_MS,
    Entry,
    EntryRow,
    Row,
    merge_into,
    row_from_entry,
    single_entry,
    split_groups,
    winner_rows,
)
from trayapp.store.db import open_database

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (warm-start cost)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

LEDGER_FILENAME = "ledger.sqlite3"

SLOT_MS = BUCKET_MS  # one bucket: 15 minutes (every real UTC offset is a multiple)
_BUCKET_SUMS = (
    f"ts / {SLOT_MS}, model, fast, (inp + cc5 + cc1 + cr > {LONG_CONTEXT_THRESHOLD}), cost IS NOT NULL,"
    " SUM(inp), SUM(outp), SUM(cc5), SUM(cc1), SUM(cr), TOTAL(cost), COUNT(*), MIN(ts), MAX(ts)"
)
# A stored row (entries or occ) outside the per-line limits: only older versions wrote such rows.
_IMPLAUSIBLE = (
    "NOT ("
    + " AND ".join(
        [f"{c} BETWEEN 0 AND {MAX_TOKENS}" for c in ("inp", "outp", "cc5", "cc1", "cr")]
        + [f"ts BETWEEN 0 AND {MAX_TS_MS - 1}", f"(cost IS NULL OR cost BETWEEN 0 AND {MAX_COST_USD!r})"]
    )
    + ")"
)

# B-tree inserts in key order are cheaper. The leading column of the primary keys of occ (gkey, req,
# side, file_id) and entries (ts, gkey, req) nearly is that order, and sorts three times faster than
# the whole key (one C-level comparison instead of a tuple's).
_OCC_ORDER = itemgetter(1)
_ENTRY_ORDER = itemgetter(2)
_GKEY = itemgetter(1)
_CWD = itemgetter(6)
# Dropped by a cold load and built again by the next incremental merge, the first statement that needs
# it: the cold scan's report never looks entries up by group, and the build (about 40 ms per 60k
# entries) would otherwise be on the path between the last file read and the first figure shown.
_ENTRIES_KEY = "CREATE UNIQUE INDEX IF NOT EXISTS entries_key ON entries (gkey, req)"

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE files (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL UNIQUE,
        project_hint TEXT NOT NULL DEFAULT '',
        session_hint TEXT NOT NULL DEFAULT '',
        dev INTEGER NOT NULL DEFAULT 0,
        ino INTEGER NOT NULL DEFAULT 0,
        size INTEGER NOT NULL DEFAULT 0,
        mtime_ns INTEGER NOT NULL DEFAULT 0,
        offset INTEGER NOT NULL DEFAULT 0,
        malformed INTEGER NOT NULL DEFAULT 0,
        missing INTEGER NOT NULL DEFAULT 0
    );
    -- Occurrences of groups seen more than once (a group seen once lives in entries alone).
    CREATE TABLE occ (
        file_id INTEGER NOT NULL,
        gkey TEXT NOT NULL,
        req TEXT NOT NULL,
        side INTEGER NOT NULL,
        ts INTEGER NOT NULL,
        session TEXT NOT NULL,
        cwd TEXT NOT NULL,
        model TEXT NOT NULL,
        inp INTEGER NOT NULL,
        outp INTEGER NOT NULL,
        cc5 INTEGER NOT NULL,
        cc1 INTEGER NOT NULL,
        cr INTEGER NOT NULL,
        fast INTEGER NOT NULL,
        cost REAL,
        PRIMARY KEY (gkey, req, side, file_id)
    ) WITHOUT ROWID;
    CREATE TABLE entries (
        gkey TEXT NOT NULL,
        req TEXT NOT NULL,
        ts INTEGER NOT NULL,
        session TEXT NOT NULL,
        project TEXT NOT NULL,
        model TEXT NOT NULL,
        inp INTEGER NOT NULL,
        outp INTEGER NOT NULL,
        cc5 INTEGER NOT NULL,
        cc1 INTEGER NOT NULL,
        cr INTEGER NOT NULL,
        fast INTEGER NOT NULL,
        cost REAL,
        file_id INTEGER NOT NULL,
        side INTEGER NOT NULL,
        cwd TEXT NOT NULL,
        PRIMARY KEY (ts, gkey, req)
    ) WITHOUT ROWID;
    -- Clustered by time: a day's entries are one sequential range for the reports.
    CREATE UNIQUE INDEX entries_key ON entries (gkey, req);
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)
    """,
    # 2: token sums per 15-minute UTC slot, so day and month reports read a few thousand slot rows
    # instead of every entry (every real UTC offset is a multiple of 15 minutes).
    f"""
    CREATE TABLE buckets (
        b INTEGER NOT NULL,
        model TEXT NOT NULL,
        fast INTEGER NOT NULL,
        lg INTEGER NOT NULL,
        hc INTEGER NOT NULL,
        inp INTEGER NOT NULL,
        outp INTEGER NOT NULL,
        cc5 INTEGER NOT NULL,
        cc1 INTEGER NOT NULL,
        cr INTEGER NOT NULL,
        cost REAL NOT NULL,
        n INTEGER NOT NULL,
        first_ts INTEGER NOT NULL,
        last_ts INTEGER NOT NULL,
        PRIMARY KEY (b, model, fast, lg, hc)
    ) WITHOUT ROWID;
    INSERT INTO buckets SELECT {_BUCKET_SUMS} FROM entries GROUP BY 1, 2, 3, 4, 5
    """,
    # 3: results of day/month queries, valid for one ledger generation (bumped by every change).
    """
    CREATE TABLE query_cache (key TEXT PRIMARY KEY, gen INTEGER NOT NULL, data BLOB NOT NULL);
    INSERT OR REPLACE INTO meta (key, value) VALUES ('generation', '0')
    """,
    # 4: rows older versions stored from hostile or broken lines (counts of 2**63, timestamps in
    # year 9999, huge costs) made every sum over them overflow: every later scan and report failed.
    # Their dedup groups are removed whole, and every file holding a row of such a group is marked
    # replaced (dev, ino and size 0), so the next scan drops its rows and reads it again from the
    # start: the group's good copies come back, and the bad lines are now skipped, counted and
    # named in the scan's note. The buckets of the removed entries are summed again.
    f"""
    CREATE TEMP TABLE bad_groups (gkey TEXT PRIMARY KEY) WITHOUT ROWID;
    INSERT OR IGNORE INTO temp.bad_groups SELECT gkey FROM occ WHERE {_IMPLAUSIBLE};
    INSERT OR IGNORE INTO temp.bad_groups SELECT gkey FROM entries WHERE {_IMPLAUSIBLE};
    UPDATE files SET dev = 0, ino = 0, size = 0, mtime_ns = 0, offset = 0, malformed = 0
        WHERE id IN (SELECT file_id FROM occ WHERE gkey IN (SELECT gkey FROM temp.bad_groups)
                     UNION SELECT file_id FROM entries WHERE gkey IN (SELECT gkey FROM temp.bad_groups));
    CREATE TEMP TABLE bad_slots (b INTEGER PRIMARY KEY);
    INSERT OR IGNORE INTO temp.bad_slots
        SELECT ts / {SLOT_MS} FROM entries WHERE gkey IN (SELECT gkey FROM temp.bad_groups);
    DELETE FROM occ WHERE gkey IN (SELECT gkey FROM temp.bad_groups);
    DELETE FROM entries WHERE gkey IN (SELECT gkey FROM temp.bad_groups);
    DELETE FROM buckets WHERE b IN (SELECT b FROM temp.bad_slots);
    INSERT INTO buckets SELECT {_BUCKET_SUMS} FROM temp.bad_slots s JOIN entries
        ON ts >= s.b * {SLOT_MS} AND ts < (s.b + 1) * {SLOT_MS} GROUP BY 1, 2, 3, 4, 5;
    UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation';
    DELETE FROM query_cache;
    DROP TABLE temp.bad_groups;
    DROP TABLE temp.bad_slots
    """,
)

_OCC_COLS = "file_id, gkey, req, side, ts, session, cwd, model, inp, outp, cc5, cc1, cr, fast, cost"
_ENTRY_COLS = "gkey, req, ts, session, project, model, inp, outp, cc5, cc1, cr, fast, cost"
_ENTRY_ALL = _ENTRY_COLS + ", file_id, side, cwd"
_GROUP_KEYS = {"bucket": f"ts / {SLOT_MS}", "session": "session", "project": "project", "all": "''"}


def ledger_file() -> Path:
    return paths.data_dir() / LEDGER_FILENAME


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


class LedgerRepo:
    """Repository over the ledger database. Use from one thread at a time (a worker, not the GUI)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
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
    def open(cls, path: Path | None = None, *, check_same_thread: bool = True) -> LedgerRepo:
        return cls(open_database(path or ledger_file(), MIGRATIONS, check_same_thread=check_same_thread))

    def close(self) -> None:
        self.conn.close()

    # --- files
    def files(self) -> dict[str, FileRow]:
        rows = self.conn.execute(
            "SELECT id, path, project_hint, session_hint, dev, ino, size, mtime_ns, offset, malformed,"
            " missing FROM files"
        ).fetchall()
        out: dict[str, FileRow] = {}
        for r in rows:
            i, path, ph, sh, dev, ino, size, mtime, off, bad, missing = r
            out[path] = FileRow(i, path, ph, sh, dev, ino, size, mtime, off, bad, bool(missing))
        return out

    def add_files(self, items: Sequence[tuple[str, str, str]]) -> dict[str, int]:
        """Register (path, project_hint, session_hint) triples; returns path -> id."""
        with self._tx():
            self.conn.executemany(
                "INSERT OR IGNORE INTO files (path, project_hint, session_hint) VALUES (?, ?, ?)", items
            )
        wanted = {p for p, _, _ in items}
        return {r[1]: r[0] for r in self.conn.execute("SELECT id, path FROM files") if r[1] in wanted}

    # --- the merge
    def is_empty(self) -> bool:
        return self.conn.execute("SELECT 1 FROM entries LIMIT 1").fetchone() is None

    def apply(self, batch: Batch, may_exist: set[str] | None = None) -> int:
        """Apply one batch atomically; returns the number of dedup groups touched.

        ``may_exist`` (an optimisation for cold scans) is the set of groups that can already be in
        the ledger; groups outside it are known to be new and are not looked up. None: look up all.
        """
        conn = self.conn
        with self._tx():
            conn.execute(_ENTRIES_KEY)  # after a cold load (see _ENTRIES_KEY); else a no-op
            resets = set(batch.resets)
            reset_groups: set[str] = set()
            for fid in resets:
                for sql in (
                    "SELECT gkey FROM occ WHERE file_id = ?",
                    "SELECT gkey FROM entries WHERE file_id = ?",
                ):
                    reset_groups.update(r[0] for r in conn.execute(sql, (fid,)))
            touched = {r[1] for r in batch.rows} | reset_groups
            lookup = touched if may_exist is None else (touched & may_exist) | reset_groups
            table: dict[tuple[int, str, str, int], Row] = {}
            slots: set[int] = set()  # 15-minute buckets whose sums change
            if lookup:
                table = self._load_groups(lookup, resets, slots)
            for row in batch.rows:
                merge_into(table, row)
            groups = split_groups(table.values())
            multi = [r for g in groups.values() if len(g) > 1 for r in g]
            multi.sort(key=_OCC_ORDER)  # B-tree inserts in key order are cheaper
            _insert(conn, "occ", _OCC_COLS, multi)
            entries = winner_rows(groups.values(), self._hints_for(table.values()))
            entries.sort(key=_ENTRY_ORDER)
            _insert(conn, "entries", _ENTRY_ALL, entries)
            slots.update(e[2] // SLOT_MS for e in entries)
            self._refresh_buckets(slots)
            self._write_states(batch)
            if batch.rows or batch.resets:
                self._new_generation()
        return len(touched)

    def cold_load(self) -> ColdLoad:
        """Start the first load of an empty ledger (see :class:`ColdLoad`)."""
        return ColdLoad(self)

    def _new_generation(self) -> None:
        """Entries changed (call inside the writing transaction): cached query results are void."""
        self.conn.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'")
        self.conn.execute("DELETE FROM query_cache")

    def _write_states(self, batch: Batch) -> None:
        self.conn.executemany(
            "UPDATE files SET dev=?, ino=?, size=?, mtime_ns=?, offset=?,"
            " malformed=malformed+?, missing=0 WHERE id=?",
            ((s.dev, s.ino, s.size, s.mtime_ns, s.offset, s.malformed, s.file_id) for s in batch.states),
        )
        self.conn.executemany("UPDATE files SET missing=1 WHERE id=?", ((fid,) for fid in batch.missing))

    def _hints_for(self, rows: Iterable[Row]) -> dict[int, str]:
        """Project folder names for the files of rows without ``cwd`` (rare: old or odd lines)."""
        files = {r[0] for r in rows if not r[6]}
        return self._project_hints(files) if files else {}

    def _refresh_buckets(self, slots: set[int]) -> None:
        """Recompute the sums of the given 15-minute buckets from ``entries``."""
        if not slots:
            return
        conn = self.conn
        conn.execute("DELETE FROM temp.slots")
        conn.executemany("INSERT OR IGNORE INTO temp.slots VALUES (?)", ((b,) for b in slots))
        conn.execute("DELETE FROM buckets WHERE b IN (SELECT b FROM temp.slots)")
        conn.execute(
            f"INSERT INTO buckets SELECT {_BUCKET_SUMS} FROM temp.slots s JOIN entries"
            f" ON ts >= s.b * {SLOT_MS} AND ts < (s.b + 1) * {SLOT_MS} GROUP BY 1, 2, 3, 4, 5"
        )
        conn.execute("DELETE FROM temp.slots")

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
        for r in conn.execute(f"SELECT {_OCC_COLS} FROM occ WHERE gkey IN (SELECT gkey FROM temp.touched)"):
            multi.add(r[1])
            if r[0] not in drop_files:
                table[(r[0], r[1], r[2], r[3])] = tuple(r)  # type: ignore[assignment]
        for e in conn.execute(
            f"SELECT {_ENTRY_ALL} FROM entries WHERE gkey IN (SELECT gkey FROM temp.touched)"
        ):
            slots.add(e[2] // SLOT_MS)
            if e[0] not in multi:
                row = row_from_entry(tuple(e))  # type: ignore[arg-type]
                if row[0] not in drop_files:
                    table[(row[0], row[1], row[2], row[3])] = row
        conn.execute("DELETE FROM occ WHERE gkey IN (SELECT gkey FROM temp.touched)")
        conn.execute("DELETE FROM entries WHERE gkey IN (SELECT gkey FROM temp.touched)")
        conn.execute("DELETE FROM temp.touched")
        return table

    def reset_file_state(self, file_ids: Iterable[int]) -> None:
        """Mark files as never read (their rows are dropped by the next :meth:`apply` reset)."""
        with self._tx():
            self.conn.executemany(
                "UPDATE files SET offset=0, size=0, mtime_ns=0, malformed=0 WHERE id=?",
                ((f,) for f in file_ids),
            )

    def _project_hints(self, file_ids: set[int]) -> dict[int, str]:
        if not file_ids:
            return {}
        rows = self.conn.execute("SELECT id, project_hint FROM files").fetchall()
        return {r[0]: r[1] for r in rows if r[0] in file_ids}

    # --- queries
    def grouped(self, by: str, since_ms: int | None = None, until_ms: int | None = None) -> list[GroupRow]:
        """Token sums grouped by ``bucket`` (15-minute UTC buckets), ``session``, ``project`` or ``all``
        (remembered for the ledger's generation, like :meth:`grouped_ranges`)."""
        if by == "bucket" and all(t is None or t % SLOT_MS == 0 for t in (since_ms, until_ms)):
            # Exactly the rows of the 15-minute buckets table: read them instead of every entry.
            lo = 0 if since_ms is None else since_ms // SLOT_MS
            hi = (1 << 62) if until_ms is None else until_ms // SLOT_MS
            rows = self.conn.execute("SELECT * FROM buckets WHERE b >= ? AND b < ?", (lo, hi))
            return [GroupRow(r[0], r[1], bool(r[2]), bool(r[3]), bool(r[4]), *r[5:]) for r in rows]
        key = _GROUP_KEYS[by]
        where, params = _range(since_ms, until_ms)
        sql = (
            f"SELECT {key} AS k, model, fast, (inp + cc5 + cc1 + cr > {LONG_CONTEXT_THRESHOLD}) AS lg,"
            " cost IS NOT NULL AS hc, SUM(inp), SUM(outp), SUM(cc5), SUM(cc1), SUM(cr), TOTAL(cost),"
            f" COUNT(*), MIN(ts), MAX(ts) FROM entries {where} GROUP BY k, model, fast, lg, hc"
        )
        raw = self._memo(
            f"grouped:{by}:{since_ms}:{until_ms}", lambda: list(map(tuple, self.conn.execute(sql, params)))
        )
        return [GroupRow(r[0], r[1], bool(r[2]), bool(r[3]), bool(r[4]), *r[5:]) for r in raw]

    def ts_bounds(self) -> tuple[int, int] | None:
        # Two index probes (MIN and MAX in one statement would scan the table).
        lo = self.conn.execute("SELECT ts FROM entries ORDER BY ts LIMIT 1").fetchone()
        if lo is None:
            return None
        hi = self.conn.execute("SELECT ts FROM entries ORDER BY ts DESC LIMIT 1").fetchone()
        return int(lo[0]), int(hi[0])

    def grouped_ranges(self, ranges: list[tuple[str, int, int]]) -> list[GroupRow]:
        """Token sums per labelled [start, end) time range (days or months in some zone).

        Computed in SQL from the 15-minute buckets (ranges on 15-minute boundaries, i.e. every real
        zone) or else from the entries, and remembered in ``query_cache`` for the ledger's current
        generation: asking again before anything changed (a warm rerun) costs two lookups."""
        raw = self._memo("ranges:" + repr(ranges), lambda: self._sum_ranges(ranges))
        return [GroupRow(r[0], r[1], bool(r[2]), bool(r[3]), bool(r[4]), *r[5:]) for r in raw]

    def _memo(self, key: str, compute: Callable[[], list[tuple[Any, ...]]]) -> list[tuple[Any, ...]]:
        """``compute()`` remembered in ``query_cache`` for the ledger's current generation (every
        change to the entries bumps it): asking again before anything changed costs two lookups."""
        conn = self.conn
        own_tx = not conn.in_transaction
        if own_tx:
            conn.execute("BEGIN")  # one snapshot for the generation, the cache and the query
        try:
            gen_row = conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
            gen = int(gen_row[0]) if gen_row else -1
            raw = self._cached(key, gen)
            fresh = raw is None
            if raw is None:
                raw = compute()
        finally:
            if own_tx:
                conn.execute("COMMIT")
        if fresh and gen >= 0:
            self._remember(key, gen, raw)
        return raw

    def _cached(self, key: str, gen: int) -> list[tuple[Any, ...]] | None:
        hit = self.conn.execute(
            "SELECT data FROM query_cache WHERE key = ? AND gen = ?", (key, gen)
        ).fetchone()
        if hit is None:
            return None
        try:
            data = marshal.loads(hit[0])
        except (ValueError, EOFError, TypeError):
            return None  # unreadable (another Python version wrote it): computed again
        return data if isinstance(data, list) else None

    def _remember(self, key: str, gen: int, raw: list[tuple[Any, ...]]) -> None:
        """Store a result computed for generation ``gen``; a result computed before a change is
        stored under its old generation and never served. Skipped when another process is writing
        (a report never waits for a cache)."""
        conn = self.conn
        waited = int(conn.execute("PRAGMA busy_timeout").fetchone()[0])  # the connection's own setting
        conn.execute("PRAGMA busy_timeout=0")
        try:
            conn.execute(
                "INSERT OR REPLACE INTO query_cache VALUES (?, ?, ?)", (key, gen, marshal.dumps(raw))
            )
        except sqlite3.OperationalError:
            pass
        finally:
            conn.execute(f"PRAGMA busy_timeout={waited}")

    def _sum_ranges(self, ranges: list[tuple[str, int, int]]) -> list[tuple[Any, ...]]:
        conn = self.conn
        if all(lo % SLOT_MS == 0 and hi % SLOT_MS == 0 for _, lo, hi in ranges):
            # One small grouped range scan per range: cheaper than one join sorting every bucket.
            sql = (
                "SELECT model, fast, lg, hc, SUM(inp), SUM(outp), SUM(cc5), SUM(cc1), SUM(cr), TOTAL(cost),"
                " SUM(n), MIN(first_ts), MAX(last_ts) FROM buckets WHERE b >= ? AND b < ?"
                " GROUP BY model, fast, lg, hc"
            )
            return [
                (label, *r)
                for label, lo, hi in ranges
                for r in conn.execute(sql, (lo // SLOT_MS, hi // SLOT_MS))
            ]
        sql = (
            f"SELECT model, fast, (inp + cc5 + cc1 + cr > {LONG_CONTEXT_THRESHOLD}) AS lg,"
            " cost IS NOT NULL AS hc, SUM(inp), SUM(outp), SUM(cc5), SUM(cc1), SUM(cr), TOTAL(cost),"
            " COUNT(*), MIN(ts), MAX(ts) FROM entries WHERE ts >= ? AND ts < ? GROUP BY model, fast, lg, hc"
        )
        return [(label, *r) for label, lo, hi in ranges for r in conn.execute(sql, (lo, hi))]

    def session_projects(self) -> dict[str, str]:
        """Session -> project of its earliest entry."""
        sql = "SELECT session, project, MIN(ts) FROM entries GROUP BY session"
        rows = self._memo("session_projects", lambda: [(r[0], r[1]) for r in self.conn.execute(sql)])
        return {r[0]: r[1] for r in rows}

    def entries(self, since_ms: int | None = None, until_ms: int | None = None) -> list[Entry]:
        where, params = _range(since_ms, until_ms)
        rows = self.conn.execute(f"SELECT {_ENTRY_COLS} FROM entries {where} ORDER BY ts, gkey, req", params)
        return [Entry(*r) for r in rows]

    def last_entry_before(self, ts_ms: int) -> Entry | None:
        row = self.conn.execute(
            f"SELECT {_ENTRY_COLS} FROM entries WHERE ts < ? ORDER BY ts DESC LIMIT 1", (ts_ms,)
        ).fetchone()
        return Entry(*row) if row else None

    def counts(self) -> dict[str, int]:
        c = self.conn
        return {
            "files": int(c.execute("SELECT COUNT(*) FROM files").fetchone()[0]),
            "missing_files": int(c.execute("SELECT COUNT(*) FROM files WHERE missing").fetchone()[0]),
            "occurrences": int(c.execute("SELECT COUNT(*) FROM occ").fetchone()[0]),
            "entries": int(c.execute("SELECT COUNT(*) FROM entries").fetchone()[0]),
            "malformed_lines": int(c.execute("SELECT TOTAL(malformed) FROM files").fetchone()[0]),
        }

    def utc_days(self) -> set[str]:
        """UTC dates (YYYY-MM-DD) that have at least one entry (for the stats-cache fallback)."""
        rows = self.conn.execute(f"SELECT DISTINCT b / {86_400_000 // SLOT_MS} FROM buckets")
        from datetime import UTC, datetime

        return {datetime.fromtimestamp(r[0] * 86400, UTC).strftime("%Y-%m-%d") for r in rows}

    def _tx(self) -> _Transaction:
        return _Transaction(self.conn)


class ColdLoad:
    """The first load of an empty ledger (a cold scan), fed while the scan runs.

    Same result as :meth:`LedgerRepo.apply`, built for speed: everything happens in ONE transaction
    (a scan killed midway leaves the ledger as it was) and rows are kept in memory by dedup group.
    While the workers are still reading, :meth:`flush` writes the entries of every group as it
    stands (provisional: a group that gets more copies later has its entries deleted and written
    again at the next flush) and the occurrences of repeated groups (final: rows arrive a whole file
    at a time). :meth:`finish` flushes what is left and builds the 15-minute buckets once, so
    little work remains after the last file.
    """

    def __init__(self, repo: LedgerRepo) -> None:
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
            g = groups.get(r[1])
            if g is None:
                groups[r[1]] = [r]
                fresh.append(r)
            else:
                g.append(r)
                grown[r[1]] = None
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
            if conn.execute("SELECT 1 FROM entries LIMIT 1").fetchone() is not None:
                self.abort()
                raise RuntimeError("a cold load needs an empty ledger")
            # Rows arrive in no useful order for the (gkey, req) index: building it once later is
            # several times cheaper than keeping it up to date (the deletes use the primary key);
            # the next incremental merge builds it (see _ENTRIES_KEY).
            conn.execute("DROP INDEX IF EXISTS entries_key")
        fresh, grown = self._fresh, self._grown
        self._fresh, self._grown = [], {}
        if grown:
            fresh = [r for r in fresh if r[1] not in grown]  # opened and grown since: repeated
        # Groups seen once so far, most of them: their entry is their row, reordered in C.
        if all(map(_CWD, fresh)):
            entries = list(map(single_entry, fresh))
        else:  # lines without cwd take their file's project folder name
            entries = winner_rows([[r] for r in fresh], self.repo._hints_for(fresh))
        single.update(map(_GKEY, fresh))
        if grown:
            self._flush_repeated(list(grown), entries)
        entries.sort(key=_ENTRY_ORDER)
        _insert(conn, "entries", _ENTRY_ALL, entries)

    def _flush_repeated(self, keys: list[str], entries: list[EntryRow]) -> None:
        """Replace the entries of repeated groups (appended to ``entries``) and write their new
        occurrences."""
        conn, groups, single, written, in_occ = (
            self.repo.conn,
            self.groups,
            self._single,
            self._written,
            self._in_occ,
        )
        stale: list[tuple[int, str, str]] = []
        occ: list[Row] = []
        for k in keys:
            rows = groups[k]
            if k in single:  # written while it had one row: that row's entry
                single.discard(k)
                stale.append((rows[0][4], k, rows[0][2]))
            else:
                stale.extend((ts, k, req) for ts, req in written.get(k, ()))
            occ.extend(rows[in_occ.get(k, 0) :])
            in_occ[k] = len(rows)
        conn.executemany("DELETE FROM entries WHERE ts = ? AND gkey = ? AND req = ?", stale)
        occ.sort(key=_OCC_ORDER)
        _insert(conn, "occ", _OCC_COLS, occ)
        batch = [groups[k] for k in keys]
        repeated = winner_rows(batch, self.repo._hints_for(r for g in batch for r in g))
        for k in keys:
            written[k] = []
        for e in repeated:
            written[e[0]].append((e[2], e[1]))
        entries.extend(repeated)

    def finish(self, batch: Batch) -> int:
        """Complete the load (plus the file bookkeeping in ``batch``) and commit; returns the number
        of dedup groups."""
        conn = self.repo.conn
        try:
            self.flush()
            conn.execute("DELETE FROM buckets")
            conn.execute(f"INSERT INTO buckets SELECT {_BUCKET_SUMS} FROM entries GROUP BY 1, 2, 3, 4, 5")
            self.repo._write_states(batch)
            self.repo._new_generation()
        except BaseException:
            self.abort()
            raise
        conn.execute("COMMIT")
        self._open = False
        return len(self.groups)

    def abort(self) -> None:
        if self._open:
            self.repo.conn.execute("ROLLBACK")
            self._open = False


class _Transaction:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.conn.execute("COMMIT" if exc_type is None else "ROLLBACK")


_ROWS_PER_INSERT = 100


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


def _range(since_ms: int | None, until_ms: int | None) -> tuple[str, tuple[int, ...]]:
    clauses: list[str] = []
    params: list[int] = []
    if since_ms is not None:
        clauses.append("ts >= ?")
        params.append(since_ms)
    if until_ms is not None:
        clauses.append("ts < ?")
        params.append(until_ms)
    return ("WHERE " + " AND ".join(clauses) if clauses else ""), tuple(params)
