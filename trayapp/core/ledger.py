"""The de-duplication rule for Claude Code usage lines (claude-data-formats.md §1.8.2), as pure functions.

Every usage line becomes an *occurrence*: its dedup group (``message.id``, or ``message.id`` +
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
from dataclasses import dataclass

LONG_CONTEXT_THRESHOLD = 200_000


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One (file, group, request, sidechain) copy of a usage line, after in-file collapsing."""

    file_id: int
    gkey: str
    req: str
    side: int
    ts: int  # epoch ms of the earliest copy in this file
    session: str
    cwd: str
    model: str
    inp: int
    out: int
    cc5: int
    cc1: int
    cr: int
    fast: int
    cost: float | None

    @property
    def key(self) -> tuple[int, str, str, int]:
        return (self.file_id, self.gkey, self.req, self.side)

    @property
    def total(self) -> int:
        return self.inp + self.out + self.cc5 + self.cc1 + self.cr

    def strength(self) -> tuple[int, int, int, int, int, int, int, str, float]:
        """Larger is the better copy: total first, then fast, then the values (deterministic ties)."""
        return (
            self.total,
            self.fast,
            self.out,
            self.cc1,
            self.cc5,
            self.cr,
            self.inp,
            self.model,
            -1.0 if self.cost is None else self.cost,
        )

    def origin(self) -> tuple[int, str, str]:
        """Smaller is written earlier (ties broken on session and cwd)."""
        return (self.ts, self.session, self.cwd)


@dataclass(frozen=True, slots=True)
class Entry:
    """A de-duplicated request: what reports count."""

    gkey: str
    req: str
    ts: int
    session: str
    project: str
    model: str
    inp: int
    out: int
    cc5: int
    cc1: int
    cr: int
    fast: int
    cost: float | None

    @property
    def long_context(self) -> bool:
        """Request-level input above 200k tokens (Anthropic's long-context premium trigger)."""
        return self.inp + self.cc5 + self.cc1 + self.cr > LONG_CONTEXT_THRESHOLD


def collapse(a: Occurrence, b: Occurrence) -> Occurrence:
    """Merge two copies with the same :attr:`Occurrence.key`: best tokens, earliest attribution."""
    best = a if a.strength() >= b.strength() else b
    first = a if a.origin() <= b.origin() else b
    if best is first:
        return best
    return Occurrence(
        best.file_id,
        best.gkey,
        best.req,
        best.side,
        first.ts,
        first.session,
        first.cwd,
        best.model,
        best.inp,
        best.out,
        best.cc5,
        best.cc1,
        best.cr,
        best.fast,
        best.cost,
    )


def merge_into(table: dict[tuple[int, str, str, int], Occurrence], occ: Occurrence) -> bool:
    """Add ``occ`` to ``table`` (keyed by :attr:`Occurrence.key`); True when the table changed."""
    key = occ.key
    old = table.get(key)
    if old is None:
        table[key] = occ
        return True
    new = collapse(old, occ)
    if new == old:
        return False
    table[key] = new
    return True


def winners(group: Iterable[Occurrence], project_of: dict[int, str] | None = None) -> list[Entry]:
    """The entries that count for the occurrences of ONE dedup group.

    ``project_of`` maps a file id to a fallback project name for lines without ``cwd``.
    """
    rows = list(group)
    main = [r for r in rows if not r.side]
    partitions: dict[str, list[Occurrence]] = {}
    if main:
        for r in main:
            partitions.setdefault(r.req, []).append(r)
    else:
        partitions[""] = rows
    out: list[Entry] = []
    for copies in partitions.values():
        best = max(copies, key=Occurrence.strength)
        first = min(copies, key=Occurrence.origin)
        project = first.cwd or (project_of or {}).get(first.file_id, "") or "(unknown)"
        out.append(
            Entry(
                best.gkey,
                best.req,
                first.ts,
                first.session,
                project,
                best.model,
                best.inp,
                best.out,
                best.cc5,
                best.cc1,
                best.cr,
                best.fast,
                best.cost,
            )
        )
    return out


def group_winners(occurrences: Iterable[Occurrence], project_of: dict[int, str] | None = None) -> list[Entry]:
    """:func:`winners` over many groups at once."""
    groups: dict[str, list[Occurrence]] = {}
    for occ in occurrences:
        groups.setdefault(occ.gkey, []).append(occ)
    result: list[Entry] = []
    for rows in groups.values():
        result.extend(winners(rows, project_of))
    return result
