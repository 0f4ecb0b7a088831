"""The ledger database's tables, their numbered migrations, and the SQL that sums entries.

The columns (the row fields they hold are described in :mod:`trayapp.core.ledger`):

* ``files``, one row per transcript file ever seen: ``id``, ``path``; ``project_hint`` (the
  project folder name, the project of lines without a cwd) and ``session_hint`` (the session of
  lines without a sessionId); ``dev``, ``ino``, ``size``, ``mtime_ns`` as stat'ed at the last
  read; ``offset`` (just past the last complete line read); ``malformed`` (lines skipped so far);
  ``missing`` (1 once the file has vanished: its rows stay).
* ``occ``, the occurrences of dedup groups seen more than once, in :data:`~trayapp.core.ledger.Row`
  order: ``file_id, gkey, req, side, ts, session, cwd, model, inp, outp, cc5, cc1, cr, fast, cost``.
* ``entries``, the de-duplicated requests that reports count, in
  :data:`~trayapp.core.ledger.EntryRow` order: ``gkey, req, ts, session, project, model, inp, outp,
  cc5, cc1, cr, fast, cost``, then ``file_id, side, cwd`` of the winning copy.
* ``buckets``, the entries summed per 15-minute UTC slot and group: ``b`` (the slot,
  ``ts / SLOT_MS``), ``model``, ``fast``, ``lg`` (long context: ``inp + cc5 + cc1 + cr`` above
  200k tokens), ``hc`` (has cost: ``costUSD`` was recorded), the sums ``inp, outp, cc5, cc1, cr``,
  ``cost`` (the total of recorded costs, 0.0 when none), ``n`` (entries), ``first_ts``, ``last_ts``.
  Day and month reports read these (every real UTC offset is a multiple of 15 minutes).
* ``query_cache`` (``key, gen, data``: a marshalled result valid for generation ``gen``) and
  ``meta`` (``key, value``; ``generation`` is bumped by every change to the entries).

A group of entries is always summed by :func:`sums` (a :class:`~trayapp.core.aggregate.GroupRow`'s
fields, which are also the ``buckets`` columns), so the buckets, the grouped reports and their
fallbacks cannot disagree on what a group is.
"""

from __future__ import annotations

from trayapp import paths
from trayapp.core.aggregate import BUCKET_MS
from trayapp.core.ledger import LONG_CONTEXT_THRESHOLD, MAX_COST_USD, MAX_TOKENS, MAX_TS_MS

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (warm-start cost)
if TYPE_CHECKING:
    from pathlib import Path

LEDGER_FILENAME = "ledger.sqlite3"
SLOT_MS = BUCKET_MS  # one bucket: 15 minutes (every real UTC offset is a multiple)
SLOT = f"ts / {SLOT_MS}"  # an entry's bucket

OCC_COLS = "file_id, gkey, req, side, ts, session, cwd, model, inp, outp, cc5, cc1, cr, fast, cost"
ENTRY_COLS = "gkey, req, ts, session, project, model, inp, outp, cc5, cc1, cr, fast, cost"
ENTRY_ALL = ENTRY_COLS + ", file_id, side, cwd"
GROUPED = "GROUP BY 1, 2, 3, 4, 5"  # the key and the group of :func:`sums`


def ledger_file() -> Path:
    return paths.data_dir() / LEDGER_FILENAME


def sums(key: str) -> str:
    """The select list that sums a group of entries: ``key``, the group (model, fast, long context,
    has cost), the token sums, the cost total, the count, the first and last time. Use with
    :data:`GROUPED`."""
    return (
        f"{key}, model, fast, (inp + cc5 + cc1 + cr > {LONG_CONTEXT_THRESHOLD}), cost IS NOT NULL,"
        " SUM(inp), SUM(outp), SUM(cc5), SUM(cc1), SUM(cr), TOTAL(cost), COUNT(*), MIN(ts), MAX(ts)"
    )


def fill_buckets(slots: str | None = None) -> str:
    """The INSERT that sums the ``buckets`` rows of the slots listed in table ``slots`` (column
    ``b``; every slot when None) from the entries. Their old rows must be deleted first."""
    if slots is None:
        return f"INSERT INTO buckets SELECT {sums(SLOT)} FROM entries {GROUPED}"
    return (
        f"INSERT INTO buckets SELECT {sums(SLOT)} FROM {slots} s JOIN entries"
        f" ON ts >= s.b * {SLOT_MS} AND ts < (s.b + 1) * {SLOT_MS} {GROUPED}"
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

# Dropped by a cold load and built again by the next incremental merge, the first statement that needs
# it: the cold scan's report never looks entries up by group, and the build (about 40 ms per 60k
# entries) would otherwise be on the path between the last file read and the first figure shown.
ENTRIES_KEY = "CREATE UNIQUE INDEX IF NOT EXISTS entries_key ON entries (gkey, req)"

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
    {fill_buckets()}
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
        SELECT {SLOT} FROM entries WHERE gkey IN (SELECT gkey FROM temp.bad_groups);
    DELETE FROM occ WHERE gkey IN (SELECT gkey FROM temp.bad_groups);
    DELETE FROM entries WHERE gkey IN (SELECT gkey FROM temp.bad_groups);
    DELETE FROM buckets WHERE b IN (SELECT b FROM temp.bad_slots);
    {fill_buckets("temp.bad_slots")};
    UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation';
    DELETE FROM query_cache;
    DROP TABLE temp.bad_groups;
    DROP TABLE temp.bad_slots
    """,
)
