"""What reports read from the ledger: grouped token sums, single entries and counts.

Grouped sums come from the 15-minute ``buckets`` when the asked range lies on slot boundaries
(every real time zone's days and months do), else from the entries, and are remembered in
``query_cache`` for the ledger's current generation (every change to the entries bumps it): asking
again before anything changed, a warm rerun, costs two lookups. Every grouped result is a list of
:class:`~trayapp.core.aggregate.GroupRow` built by :func:`group_rows`.
"""

from __future__ import annotations

import marshal
import sqlite3

from trayapp.core.aggregate import GroupRow
from trayapp.core.ledger import Entry
from trayapp.store.ledger.schema import ENTRY_COLS, GROUPED, SLOT, SLOT_MS, sums

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (warm-start cost)
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence
    from typing import Any

_GROUP_KEYS = {"bucket": SLOT, "session": "session", "project": "project", "all": "''"}
# The sums of ``buckets`` rows (each already a sum of entries) per group, labelled like sums("?").
_BUCKET_TOTALS = (
    "SELECT ?, model, fast, lg, hc, SUM(inp), SUM(outp), SUM(cc5), SUM(cc1), SUM(cr), TOTAL(cost), SUM(n),"
    f" MIN(first_ts), MAX(last_ts) FROM buckets WHERE b >= ? AND b < ? {GROUPED}"
)
# The file an entry ``e`` counts for: its own, or for a request seen in several files (file_id -1,
# its copies in ``occ``) the first file that holds it.
FILE_OWNER = (
    "CASE WHEN e.file_id >= 0 THEN e.file_id ELSE"
    " (SELECT MIN(o.file_id) FROM occ o WHERE o.gkey = e.gkey AND o.req = e.req) END"
)
_ENTRY_TOTALS = f"SELECT {sums('?')} FROM entries WHERE ts >= ? AND ts < ? {GROUPED}"


def group_rows(raw: Iterable[Sequence[Any]]) -> list[GroupRow]:
    """GroupRows from rows in :func:`~trayapp.store.ledger.schema.sums` order (flags stored as 0/1)."""
    return [GroupRow(r[0], r[1], bool(r[2]), bool(r[3]), bool(r[4]), *r[5:]) for r in raw]


class LedgerQueries:
    """The read side of :class:`~trayapp.store.ledger.LedgerRepo`."""

    conn: sqlite3.Connection

    def grouped(self, by: str, since_ms: int | None = None, until_ms: int | None = None) -> list[GroupRow]:
        """Token sums grouped by ``bucket`` (15-minute UTC buckets), ``session``, ``project`` or ``all``
        (remembered for the ledger's generation, like :meth:`grouped_ranges`)."""
        if by == "bucket" and all(t is None or t % SLOT_MS == 0 for t in (since_ms, until_ms)):
            # Exactly the rows of the 15-minute buckets table: read them instead of every entry.
            lo = 0 if since_ms is None else since_ms // SLOT_MS
            hi = (1 << 62) if until_ms is None else until_ms // SLOT_MS
            return group_rows(self.conn.execute("SELECT * FROM buckets WHERE b >= ? AND b < ?", (lo, hi)))
        where, params = _range(since_ms, until_ms)
        sql = f"SELECT {sums(_GROUP_KEYS[by])} FROM entries {where} {GROUPED}"
        return group_rows(
            self._memo(
                f"grouped:{by}:{since_ms}:{until_ms}",
                lambda: list(map(tuple, self.conn.execute(sql, params))),
            )
        )

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
        return group_rows(self._memo("ranges:" + repr(ranges), lambda: self._sum_ranges(ranges)))

    def _sum_ranges(self, ranges: list[tuple[str, int, int]]) -> list[tuple[Any, ...]]:
        conn = self.conn
        if all(lo % SLOT_MS == 0 and hi % SLOT_MS == 0 for _, lo, hi in ranges):
            # One small grouped range scan per range: cheaper than one join sorting every bucket.
            return [
                tuple(r)
                for label, lo, hi in ranges
                for r in conn.execute(_BUCKET_TOTALS, (label, lo // SLOT_MS, hi // SLOT_MS))
            ]
        return [tuple(r) for label, lo, hi in ranges for r in conn.execute(_ENTRY_TOTALS, (label, lo, hi))]

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
            pass  # locked by a writer: the next report computes it again
        finally:
            conn.execute(f"PRAGMA busy_timeout={waited}")

    def session_projects(self) -> dict[str, str]:
        """Session -> project of its earliest entry."""
        sql = "SELECT session, project, MIN(ts) FROM entries GROUP BY session"
        rows = self._memo("session_projects", lambda: [(r[0], r[1]) for r in self.conn.execute(sql)])
        return {r[0]: r[1] for r in rows}

    def entries(self, since_ms: int | None = None, until_ms: int | None = None) -> list[Entry]:
        where, params = _range(since_ms, until_ms)
        rows = self.conn.execute(f"SELECT {ENTRY_COLS} FROM entries {where} ORDER BY ts, gkey, req", params)
        return [Entry(*r) for r in rows]

    def last_entry_before(self, ts_ms: int) -> Entry | None:
        row = self.conn.execute(
            f"SELECT {ENTRY_COLS} FROM entries WHERE ts < ? ORDER BY ts DESC LIMIT 1", (ts_ms,)
        ).fetchone()
        return Entry(*row) if row else None

    def file_totals(self, since_ms: int | None = None, until_ms: int | None = None) -> list[tuple[Any, ...]]:
        """``(path, entries, tokens, cost)`` per transcript file over a range: what
        :func:`trayapp.core.accounts.ledger_by_account` attributes to accounts (a file's account is
        its root). Entries are already de-duplicated, so no request counts twice across files; a
        request seen in several files (a resumed session) goes to the first file that holds it."""
        where, params = _range(since_ms, until_ms)
        sql = (
            "SELECT f.path, COUNT(*), SUM(inp + outp + cc5 + cc1 + cr), TOTAL(cost)"
            f" FROM (SELECT {FILE_OWNER} AS fid, inp, outp, cc5, cc1, cr, cost FROM entries e {where})"
            " JOIN files f ON f.id = fid GROUP BY fid"
        )
        return [tuple(r) for r in self.conn.execute(sql, params)]

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
