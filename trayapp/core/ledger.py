"""The de-duplication rule for Claude Code usage lines (claude-data-formats.md §1.8.2), as pure functions.

Every usage line becomes an *occurrence* (a :data:`Row`): its dedup group (``message.id``, or ``message.id`` +
session + timestamp when ``requestId`` is missing), its ``requestId``, whether it is a sidechain
line, when and where it was written, and its token counts. Copies of one line within one file are
collapsed first (:func:`collapse`), keeping the largest token counts and the earliest attribution,
so the store holds one occurrence per (file, group, request, sidechain). :func:`winners` then turns
all occurrences of a group into the entries that count:

* a non-sidechain copy beats a sidechain copy; when a group has any non-sidechain line, every
  sidechain line in it is dropped, which also drops side-question replays (same ``message.id``,
  other ``requestId``);
* among the copies of one request the largest ``input+output+cache_creation+cache_read`` wins
  (the final streaming snapshot);
* the entry is attributed (time, session, project) to the copy written first.

Both steps are order-independent (ties are broken on the values themselves), so a scan in any file
order, in any chunking, or resumed after a crash, yields the same entries.
"""

from __future__ import annotations

from collections.abc import Iterable
from operator import itemgetter

LONG_CONTEXT_THRESHOLD = 200_000

# What one usage line may claim; a line outside these limits is malformed (skipped and counted by
# the decoder, never stored). Real requests stay far below them: a context window is at most a few
# million tokens and one request costs dollars, not millions. The limits keep every sum finite and
# exact: the ledger sums counts with SQLite's SUM, which raises "integer overflow" past 2**63 - 1
# (about 9.2e18), and with counts of at most 10**9 a sum of one column overflows only after more than
# 9.2 billion rows (the four input-side counts of one row add up to at most 4e9); at one request per
# second that is 290 years of history. Costs (TOTAL, a float) of at most 10**6 USD a line stay finite.
MAX_TOKENS = 10**9  # per count (input, output, each cache count) per line
MAX_COST_USD = 1e6  # per line (costUSD)
MAX_TS_MS = 4_102_444_800_000  # 2100-01-01T00:00:00Z: later timestamps are malformed (as are negatives)


# An occurrence row, in the column order of the ledger's ``occ`` table. Plain tuples: a cold scan
# handles hundreds of thousands of them and tuples are what SQLite and pickling want anyway.
Row = tuple[int, str, str, int, int, str, str, str, int, int, int, int, int, int, float | None]
# Field positions.
FILE, GKEY, REQ, SIDE, TS, SESSION, CWD, MODEL, INP, OUT, CC5, CC1, CR, FAST, COST = range(15)


def row_key(r: Row) -> tuple[int, str, str, int]:
    """Identity of an occurrence: (file, group, request, sidechain)."""
    return (r[0], r[1], r[2], r[3])


def strength(r: Row) -> tuple[int, int, int, int, int, int, int, str, float]:
    """Larger is the better copy: token total first, then fast, then the values (deterministic ties)."""
    cost = r[14]
    return (r[8] + r[9] + r[10] + r[11] + r[12], r[13], r[9], r[11], r[10], r[12], r[8], r[7],
            -1.0 if cost is None else cost)  # fmt: skip


def origin(r: Row) -> tuple[int, str, str]:
    """Smaller is written earlier (ties broken on session and cwd)."""
    return (r[4], r[5], r[6])


class Entry:
    """A de-duplicated request: what reports count. (A slots class, not a dataclass or NamedTuple:
    the warm report path avoids importing dataclasses and typing.)"""

    __slots__ = ("gkey", "req", "ts", "session", "project", "model", "inp", "out", "cc5", "cc1", "cr",
                 "fast", "cost")  # fmt: skip

    def __init__(
        self, gkey: str, req: str, ts: int, session: str, project: str, model: str, inp: int, out: int,
        cc5: int, cc1: int, cr: int, fast: int, cost: float | None,
    ) -> None:  # fmt: skip
        self.gkey, self.req, self.ts, self.session, self.project, self.model = (
            gkey,
            req,
            ts,
            session,
            project,
            model,
        )
        self.inp, self.out, self.cc5, self.cc1, self.cr, self.fast, self.cost = (
            inp,
            out,
            cc5,
            cc1,
            cr,
            fast,
            cost,
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Entry) and all(getattr(self, k) == getattr(other, k) for k in self.__slots__)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return "Entry(" + ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__slots__) + ")"

    @property
    def long_context(self) -> bool:
        """Request-level input above 200k tokens (Anthropic's long-context premium trigger)."""
        return self.inp + self.cc5 + self.cc1 + self.cr > LONG_CONTEXT_THRESHOLD


def collapse(a: Row, b: Row) -> Row:
    """Merge two copies with the same :func:`row_key`: best tokens, earliest attribution."""
    # The first fields of strength() and origin() (token total, time) decide almost every case:
    # compared alone first, without building the tuples (this runs for every streaming copy).
    ta = a[8] + a[9] + a[10] + a[11] + a[12]
    tb = b[8] + b[9] + b[10] + b[11] + b[12]
    if ta != tb:
        best = a if ta > tb else b
    else:
        best = a if strength(a) >= strength(b) else b
    if a[4] != b[4]:
        first = a if a[4] < b[4] else b
    else:
        first = a if origin(a) <= origin(b) else b
    if best is first:
        return best
    return (best[0], best[1], best[2], best[3], first[4], first[5], first[6], *best[7:])  # type: ignore[return-value]


def merge_into(table: dict[tuple[int, str, str, int], Row], row: Row) -> bool:
    """Add ``row`` to ``table`` (keyed by :func:`row_key`); True when the table changed."""
    key = (row[0], row[1], row[2], row[3])
    old = table.get(key)
    if old is None:
        table[key] = row
        return True
    new = collapse(old, row)
    if new == old:
        return False
    table[key] = new
    return True


def _entry(best: Row, first: Row, project_of: dict[int, str] | None) -> Entry:
    project = first[6] or (project_of or {}).get(first[0], "") or "(unknown)"
    return Entry(best[1], best[2], first[4], first[5], project, best[7], best[8], best[9], best[10], best[11],
                 best[12], best[13], best[14])  # fmt: skip


def winners(rows: list[Row], project_of: dict[int, str] | None = None) -> list[Entry]:
    """The entries that count for the occurrences of ONE dedup group.

    ``project_of`` maps a file id to a fallback project name for lines without ``cwd``.
    """
    if len(rows) == 1:
        return [_entry(rows[0], rows[0], project_of)]
    main = [r for r in rows if not r[3]]
    partitions: dict[str, list[Row]] = {}
    if main:
        for r in main:
            partitions.setdefault(r[2], []).append(r)
    else:
        partitions[""] = rows
    return [_entry(max(c, key=strength), min(c, key=origin), project_of) for c in partitions.values()]


# An ``entries`` row: the Entry fields, then (file_id, side, cwd) of the winning copy, which for a
# group seen once is its only occurrence (the ledger then keeps no ``occ`` row for it).
EntryRow = tuple[str, str, int, str, str, str, int, int, int, int, int, int, float | None, int, int, str]


# The entry row of a group seen once whose line has a cwd (its project): the row's fields reordered,
# in C (a cold scan builds tens of thousands of these).
single_entry = itemgetter(1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 0, 3, 6)


def split_groups(rows: Iterable[Row]) -> dict[str, list[Row]]:
    groups: dict[str, list[Row]] = {}
    for r in rows:
        g = groups.get(r[1])
        if g is None:
            groups[r[1]] = [r]
        else:
            g.append(r)
    return groups


def winner_rows(groups: Iterable[list[Row]], project_of: dict[int, str] | None = None) -> list[EntryRow]:
    """Entry rows for each group (the hot path of a cold scan: single-copy groups, most of them,
    skip every comparison)."""
    hints = project_of or {}
    out: list[EntryRow] = []
    for g in groups:
        if len(g) == 1:
            r = g[0]
            if r[6]:
                out.append(single_entry(r))
            else:  # no cwd: the file's project folder name stands in
                proj = hints.get(r[0], "") or "(unknown)"
                out.append((r[1], r[2], r[4], r[5], proj, r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14],
                            r[0], r[3], r[6]))  # fmt: skip
        elif g:
            # Repeated groups are rebuilt from ``occ``: the trailing fields are unused (-1, 0, "").
            out.extend(
                (
                    e.gkey,
                    e.req,
                    e.ts,
                    e.session,
                    e.project,
                    e.model,
                    e.inp,
                    e.out,
                    e.cc5,
                    e.cc1,
                    e.cr,
                    e.fast,
                    e.cost,
                    -1,
                    0,
                    "",
                )  # fmt: skip
                for e in winners(g, project_of)
            )
    return out


def row_from_entry(e: EntryRow) -> Row:
    """The only occurrence of a single-copy group, rebuilt from its entry row."""
    return (e[13], e[0], e[1], e[14], e[2], e[3], e[15], e[5], e[6], e[7], e[8], e[9], e[10], e[11], e[12])


def group_winners(rows: Iterable[Row], project_of: dict[int, str] | None = None) -> list[Entry]:
    """:func:`winners` over many groups at once."""
    groups: dict[str, list[Row]] = {}
    for r in rows:
        g = groups.get(r[1])
        if g is None:
            groups[r[1]] = [r]
        else:
            g.append(r)
    result: list[Entry] = []
    for members in groups.values():
        result.extend(winners(members, project_of))
    return result
