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

Rows are plain tuples (a cold scan handles hundreds of thousands of them; tuples are what SQLite
and pickling want, and cost nothing to import). Read their fields through the position constants,
``r[INP] + r[OUT]``, never bare numbers. The columns, with their SQL names in the ledger where
they differ:

=========  ======  ==========================================================================
constant   SQL     meaning
=========  ======  ==========================================================================
FILE       file_id the ledger's id of the transcript file the line was read from
GKEY       gkey    dedup group: ``message.id`` (a line without one gets a key of its own)
REQ        req     ``requestId`` (without one: session and input-side counts, see decode)
SIDE       side    1 for a sidechain (subagent) line, else 0
TS         ts      the line's timestamp, epoch milliseconds (UTC)
SESSION    session ``sessionId`` (or the file's session folder)
CWD        cwd     the line's working directory, "" when it has none
PROJECT    project (entries only) the cwd, else the file's project folder name, else "(unknown)"
MODEL      model   ``message.model`` ("unknown" when missing)
INP        inp     ``input_tokens``
OUT        outp    ``output_tokens``
CC5        cc5     cache writes at the 5-minute rate (all cache writes when there is no split)
CC1        cc1     cache writes at the 1-hour rate
CR         cr      ``cache_read_input_tokens``
FAST       fast    1 when ``usage.speed`` is ``"fast"``
COST       cost    ``costUSD`` as recorded, None when the line has none
=========  ======  ==========================================================================

An :data:`EntryRow` (a row of the ledger's ``entries`` table) holds the same fields in another
order; its positions are the ``E_*`` constants.
"""

from __future__ import annotations

from collections.abc import Iterable
from operator import itemgetter

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (warm-start cost)
if TYPE_CHECKING:
    from typing import Final

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


# An occurrence row, in the column order of the ledger's ``occ`` table.
Row = tuple[int, str, str, int, int, str, str, str, int, int, int, int, int, int, float | None]
# Field positions (Final: mypy reads r[INP] as the int it is).
FILE: Final = 0
GKEY: Final = 1
REQ: Final = 2
SIDE: Final = 3
TS: Final = 4
SESSION: Final = 5
CWD: Final = 6
MODEL: Final = 7
INP: Final = 8
OUT: Final = 9
CC5: Final = 10
CC1: Final = 11
CR: Final = 12
FAST: Final = 13
COST: Final = 14

# An ``entries`` row: the Entry fields, then (file_id, side, cwd) of the winning copy, which for a
# group seen once is its only occurrence (the ledger then keeps no ``occ`` row for it).
EntryRow = tuple[str, str, int, str, str, str, int, int, int, int, int, int, float | None, int, int, str]
E_GKEY: Final = 0
E_REQ: Final = 1
E_TS: Final = 2
E_SESSION: Final = 3
E_PROJECT: Final = 4
E_MODEL: Final = 5
E_INP: Final = 6
E_OUT: Final = 7
E_CC5: Final = 8
E_CC1: Final = 9
E_CR: Final = 10
E_FAST: Final = 11
E_COST: Final = 12
E_FILE: Final = 13
E_SIDE: Final = 14
E_CWD: Final = 15

# Identity of an occurrence, (file, group, request, sidechain), and of the copies of one line
# within one file, (group, request, sidechain): built in C (they run for every usage line).
row_key = itemgetter(FILE, GKEY, REQ, SIDE)
copy_key = itemgetter(GKEY, REQ, SIDE)


def strength(r: Row) -> tuple[int, int, int, int, int, int, int, str, float]:
    """Larger is the better copy: token total first, then fast, then the values (deterministic ties)."""
    cost = r[COST]
    return (r[INP] + r[OUT] + r[CC5] + r[CC1] + r[CR], r[FAST], r[OUT], r[CC1], r[CC5], r[CR], r[INP],
            r[MODEL], -1.0 if cost is None else cost)  # fmt: skip


def origin(r: Row) -> tuple[int, int, str, str]:
    """Smaller is written earlier. A resumed session's file starts with verbatim copies of the
    earlier session's lines (same time, sometimes the new session's id): on a time tie the copy in
    the file the ledger registered first wins (files get their ids in the order they were last
    written), never the smaller session id; session and cwd only keep the order total."""
    return (r[TS], r[FILE], r[SESSION], r[CWD])


class Entry:
    """A de-duplicated request: what reports count. (A slots class, not a dataclass or NamedTuple:
    the warm report path avoids importing dataclasses and typing.)"""

    __slots__ = ("gkey", "req", "ts", "session", "project", "model", "inp", "out", "cc5", "cc1", "cr",
                 "fast", "cost")  # fmt: skip

    def __init__(
        self, gkey: str, req: str, ts: int, session: str, project: str, model: str, inp: int, out: int,
        cc5: int, cc1: int, cr: int, fast: int, cost: float | None,
    ) -> None:  # fmt: skip
        self.gkey, self.req, self.ts, self.session, self.project = gkey, req, ts, session, project
        self.model, self.inp, self.out, self.cc5, self.cc1, self.cr = model, inp, out, cc5, cc1, cr
        self.fast, self.cost = fast, cost

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Entry) and all(getattr(self, k) == getattr(other, k) for k in self.__slots__)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return "Entry(" + ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__slots__) + ")"

    @property
    def long_context(self) -> bool:
        """Request-level input above 200k tokens (Anthropic's long-context premium trigger)."""
        return self.inp + self.cc5 + self.cc1 + self.cr > LONG_CONTEXT_THRESHOLD

    def row(self) -> EntryRow:
        """This entry as an ``entries`` row of a repeated group (rebuilt from ``occ``, so the
        trailing file, side and cwd fields are unused: -1, 0, "")."""
        return (self.gkey, self.req, self.ts, self.session, self.project, self.model, self.inp, self.out,
                self.cc5, self.cc1, self.cr, self.fast, self.cost, -1, 0, "")  # fmt: skip


def collapse(a: Row, b: Row) -> Row:
    """Merge two copies with the same :func:`row_key`: best tokens, earliest attribution."""
    # The first fields of strength() and origin() (token total, time) decide almost every case:
    # compared alone first, without building the tuples (this runs for every streaming copy).
    ta = a[INP] + a[OUT] + a[CC5] + a[CC1] + a[CR]
    tb = b[INP] + b[OUT] + b[CC5] + b[CC1] + b[CR]
    if ta != tb:
        best = a if ta > tb else b
    else:
        best = a if strength(a) >= strength(b) else b
    if a[TS] != b[TS]:
        first = a if a[TS] < b[TS] else b
    else:
        first = a if origin(a) <= origin(b) else b
    if best is first:
        return best
    # The identity of best, the attribution (TS, SESSION, CWD) of first, the rest of best.
    return (*best[:TS], first[TS], first[SESSION], first[CWD], *best[MODEL:])


def merge_into(table: dict[tuple[int, str, str, int], Row], row: Row) -> bool:
    """Add ``row`` to ``table`` (keyed by :func:`row_key`); True when the table changed."""
    key = row_key(row)
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
    project = first[CWD] or (project_of or {}).get(first[FILE], "") or "(unknown)"
    return Entry(best[GKEY], best[REQ], first[TS], first[SESSION], project, best[MODEL], best[INP], best[OUT],
                 best[CC5], best[CC1], best[CR], best[FAST], best[COST])  # fmt: skip


def winners(rows: list[Row], project_of: dict[int, str] | None = None) -> list[Entry]:
    """The entries that count for the occurrences of ONE dedup group.

    ``project_of`` maps a file id to a fallback project name for lines without ``cwd``.
    """
    if len(rows) == 1:
        return [_entry(rows[0], rows[0], project_of)]
    main = [r for r in rows if not r[SIDE]]
    partitions: dict[str, list[Row]] = {}
    if main:
        for r in main:
            partitions.setdefault(r[REQ], []).append(r)
    else:
        partitions[""] = rows
    return [_entry(max(c, key=strength), min(c, key=origin), project_of) for c in partitions.values()]


# The entry row of a group seen once whose line has a cwd (its project): the row's fields reordered,
# in C (a cold scan builds tens of thousands of these).
single_entry = itemgetter(
    GKEY, REQ, TS, SESSION, CWD, MODEL, INP, OUT, CC5, CC1, CR, FAST, COST, FILE, SIDE, CWD
)  # fmt: skip


def split_groups(rows: Iterable[Row]) -> dict[str, list[Row]]:
    """The rows by dedup group (first appearance order)."""
    groups: dict[str, list[Row]] = {}
    for r in rows:
        g = groups.get(r[GKEY])
        if g is None:
            groups[r[GKEY]] = [r]
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
            if r[CWD]:
                out.append(single_entry(r))
            else:  # no cwd: the file's project folder name stands in
                proj = hints.get(r[FILE], "") or "(unknown)"
                out.append((r[GKEY], r[REQ], r[TS], r[SESSION], proj, r[MODEL], r[INP], r[OUT], r[CC5],
                            r[CC1], r[CR], r[FAST], r[COST], r[FILE], r[SIDE], r[CWD]))  # fmt: skip
        elif g:
            out.extend(e.row() for e in winners(g, project_of))
    return out


def row_from_entry(e: EntryRow) -> Row:
    """The only occurrence of a single-copy group, rebuilt from its entry row."""
    return (e[E_FILE], e[E_GKEY], e[E_REQ], e[E_SIDE], e[E_TS], e[E_SESSION], e[E_CWD], e[E_MODEL], e[E_INP],
            e[E_OUT], e[E_CC5], e[E_CC1], e[E_CR], e[E_FAST], e[E_COST])  # fmt: skip
