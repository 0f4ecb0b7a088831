"""The local-usage engine: one :class:`Tracker` scans the transcripts into the ledger (through
:mod:`trayapp.services.ledger_writer`), then answers report questions (daily, monthly, session,
project, blocks, today) with the user's time zone, cost mode and price table. Used by the CLI and,
from a worker thread, by the tracking service (:mod:`trayapp.services.tracking_service`, its Qt
face).

``state_dir()/today-cost.json`` (``{"date", "cost_usd", "tokens", "updated_at"}``: today's cost
for the user's own scripts and status bars) is written by :meth:`Tracker.write_today`, which only
the tray app's tracking service calls, after each of its scans (about once a minute). A report
only reads: its scan brings the ledger up to date and writes nothing else, so ``report`` and
``export`` never touch the file. Nothing in Claude Watch reads it: the status line's
``today_cost`` segment sums its own captures (:mod:`trayapp.statusline.capture`), and the file's
``updated_at`` says how fresh it is.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo

from trayapp import paths
from trayapp.core.aggregate import (
    BUCKET_MS,
    GroupRow,
    Tally,
    day_range_ms,
    period_ranges,
    rollup,
    row_cost,
    today_in,
    totals,
)
from trayapp.core.pricing import PriceTable, display_model, group_cost
from trayapp.store.ledger import LedgerRepo

# This module is on the warm ``report`` path: the ledger writer (and the reader behind it), the
# stats-cache reader, json and typing are imported where they are used, not here. mypy treats any
# name TYPE_CHECKING as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

    from trayapp.core.blocks import Block, BlockEntry
    from trayapp.core.ledger import Entry
    from trayapp.services.ledger_writer import ProgressFn, ScanStats

TODAY_FILE = "today-cost.json"
# Names that mean UTC itself: answered without loading the zoneinfo machinery (a few ms at start-up).
_UTC_NAMES = frozenset({"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Etc/Zulu", "Zulu", "Universal", "Etc/Universal"})


def resolve_timezone(name: str | None) -> tzinfo | None:
    """IANA name -> tzinfo; empty/None -> None (the system's local zone). Raises ValueError."""
    if not name:
        return None
    if name in _UTC_NAMES:
        return UTC
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (use an IANA name such as Europe/Berlin)") from None


def default_price_table(overrides: list[str] | tuple[str, ...] = ()) -> PriceTable:
    return PriceTable.load(paths.resources_dir() / "pricing.json", overrides)


# Plain ``__slots__`` classes rather than dataclasses: cheaper to define at start-up.
class Report:
    """Rows keyed by period/session/project, grand totals, and what could not be priced."""

    __slots__ = ("rows", "totals", "unpriced", "stats_cache", "extra")

    def __init__(
        self,
        rows: dict[str, Tally],
        totals: Tally,
        unpriced: set[str] | None = None,
        stats_cache: dict[str, dict[str, int]] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.rows = rows
        self.totals = totals
        self.unpriced: set[str] = set() if unpriced is None else unpriced
        # Days only Claude Code's stats-cache.json still knows (no transcripts left).
        self.stats_cache: dict[str, dict[str, int]] = {} if stats_cache is None else stats_cache
        self.extra: dict[str, Any] = {} if extra is None else extra


class TodaySummary:
    """Today's tally, top sessions and projects, and the active 5-hour block (for the dashboard)."""

    __slots__ = ("date", "tally", "top_sessions", "top_projects", "block", "now_ms")

    def __init__(
        self,
        date: str,
        tally: Tally,
        top_sessions: list[tuple[str, str, Tally]],  # (session, project, tally)
        top_projects: list[tuple[str, Tally]],
        block: Block | None,
        now_ms: int,
    ) -> None:
        self.date = date
        self.tally = tally
        self.top_sessions = top_sessions
        self.top_projects = top_projects
        self.block = block
        self.now_ms = now_ms


class Tracker:
    """Scanner + ledger + pricing. Not thread-safe: own one per thread."""

    def __init__(
        self,
        repo: LedgerRepo,
        *,
        table: PriceTable | None = None,
        tz: tzinfo | None = None,
        cost_mode: str = "auto",
    ) -> None:
        self.repo = repo
        self.table = table or default_price_table()
        self.tz = tz
        self.cost_mode = cost_mode

    @classmethod
    def from_config(cls, cfg: Any, repo: LedgerRepo | None = None, **overrides: Any) -> Tracker:
        """Build from loaded settings (``trayapp.settings.load()``; ``tracking.*`` keys).
        Keyword arguments ``tz`` and ``cost_mode`` win over the settings."""
        tz = overrides.pop("tz", None) or resolve_timezone(cfg.get("tracking.timezone"))
        mode = overrides.pop("cost_mode", None) or cfg.get("tracking.cost_mode")
        table = default_price_table(cfg.get("tracking.price_overrides"))
        repo = repo or LedgerRepo.open(read_only_when_full=True)  # a full disk: reports still read
        return cls(repo, table=table, tz=tz, cost_mode=mode)

    # --- scanning
    def refresh(
        self,
        roots: list[Path] | None = None,
        *,
        progress: ProgressFn | None = None,
        workers: int | None = None,
    ) -> ScanStats:
        """Bring the ledger up to date with the transcripts (nothing else is written).

        Raises :class:`~trayapp.store.errors.DiskFull` when the disk is too full to record what was
        read (or the ledger was opened read-only for that reason): the ledger keeps what it had."""
        from trayapp.services.ledger_writer import scan
        from trayapp.store.db import database_file
        from trayapp.store.errors import DiskFull, WriteGuard

        where = database_file(self.repo.conn)
        if self.repo.read_only:
            raise DiskFull(where, "the ledger is open read-only")
        with WriteGuard(where):
            return scan(self.repo, roots, progress=progress, workers=workers)

    def write_today(self, now: datetime | None = None) -> Path:
        """Replace ``today-cost.json`` with today's figures (see the module docstring for who calls
        this and when)."""
        import json

        from trayapp.store.files import atomic_write

        now = now or datetime.now(UTC)
        day, tally = self.today_tally(now)
        payload = {
            "date": day,
            "cost_usd": round(tally.cost, 6),
            "tokens": tally.total,
            "updated_at": now.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        }
        target = paths.state_dir() / TODAY_FILE
        atomic_write(target, json.dumps(payload))
        return target

    # --- reports
    def _rows(self, by: str, since: date | None, until: date | None) -> list[GroupRow]:
        lo, hi = day_range_ms(since, until, self.tz)
        return self.repo.grouped(by, lo, hi)

    def _report(self, rows: dict[str, Tally]) -> Report:
        tot = totals(rows.values())
        return Report(rows, tot, set(tot.unpriced))

    def _period_rows(
        self, since: date | None, until: date | None, *, monthly: bool, weekly: bool = False
    ) -> list[GroupRow]:
        bounds = self.repo.ts_bounds()
        if bounds is None:
            return []
        want_lo, want_hi = day_range_ms(since, until, self.tz)
        lo = bounds[0] if want_lo is None else max(want_lo, bounds[0])
        hi = bounds[1] if want_hi is None else min(want_hi - 1, bounds[1])
        if lo > hi:
            return []
        spans = period_ranges(lo, hi, self.tz, monthly=monthly, weekly=weekly)
        # Week and month spans may reach outside the requested days: clip them.
        spans = [
            (k, a if want_lo is None else max(a, want_lo), b if want_hi is None else min(b, want_hi))
            for k, a, b in spans
        ]
        return self.repo.grouped_ranges(spans)

    def daily(
        self, since: date | None = None, until: date | None = None, *, stats_cache: bool = True
    ) -> Report:
        rows = rollup(self._period_rows(since, until, monthly=False), _label, self.table, self.cost_mode)
        report = self._report(dict(sorted(rows.items())))
        if stats_cache:
            from trayapp.sources.stats_cache import fallback_days, read_stats_cache

            cache = read_stats_cache(paths.claude_config_dirs())
            extra = fallback_days(cache, self.repo.utc_days()) if cache.days else {}
            lo, hi = (since.isoformat() if since else None), (until.isoformat() if until else None)
            report.stats_cache = {
                d: m for d, m in sorted(extra.items()) if (lo is None or d >= lo) and (hi is None or d <= hi)
            }
            report.extra["stats_cache_sources"] = list(cache.sources)
        return report

    def weekly(self, since: date | None = None, until: date | None = None) -> Report:
        """Weeks from Monday (in the report's time zone), labelled with the Monday's date."""
        rows = rollup(
            self._period_rows(since, until, monthly=False, weekly=True), _label, self.table, self.cost_mode
        )
        return self._report(dict(sorted(rows.items())))

    def monthly(self, since: date | None = None, until: date | None = None) -> Report:
        rows = rollup(self._period_rows(since, until, monthly=True), _label, self.table, self.cost_mode)
        return self._report(dict(sorted(rows.items())))

    def sessions(self, since: date | None = None, until: date | None = None) -> Report:
        rows = rollup(self._rows("session", since, until), lambda r: str(r.key), self.table, self.cost_mode)
        ordered = dict(sorted(rows.items(), key=lambda kv: kv[1].last_ts or 0))
        report = self._report(ordered)
        report.extra["projects"] = self.repo.session_projects()
        return report

    def projects(self, since: date | None = None, until: date | None = None) -> Report:
        rows = rollup(self._rows("project", since, until), lambda r: str(r.key), self.table, self.cost_mode)
        return self._report(dict(sorted(rows.items(), key=lambda kv: -kv[1].cost)))

    def block_entries(self, since_ms: int | None = None, until_ms: int | None = None) -> list[BlockEntry]:
        """Single entries, time-sorted, for :func:`trayapp.core.blocks.identify_blocks`."""
        return [self._block_entry(e) for e in self.repo.entries(since_ms, until_ms)]

    def _block_entry(self, e: Entry) -> BlockEntry:
        from trayapp.core.blocks import BlockEntry

        cost, _ = group_cost(
            self.table,
            self.cost_mode,
            e.model,
            (e.inp, e.out, e.cc5, e.cc1, e.cr),
            fast=bool(e.fast),
            long_context=e.long_context,
            has_cost=e.cost is not None,
            recorded=e.cost or 0.0,
        )
        return BlockEntry(e.ts, display_model(e.model, bool(e.fast)), e.inp, e.out, e.cc5 + e.cc1, e.cr, cost)

    def blocks(
        self, since: date | None = None, until: date | None = None, now: datetime | None = None
    ) -> list[Block]:
        """5-hour blocks from the ledger's 15-minute sums (pieces), not from every entry: the same
        blocks (see :mod:`trayapp.core.blocks`), a fraction of the rows."""
        from trayapp.core.blocks import BlockEntry, identify_blocks

        now_ms = int((now or datetime.now(UTC)).timestamp() * 1000)
        lo, hi = day_range_ms(since, until, self.tz)
        pieces: list[BlockEntry] = []
        groups: dict[int, tuple[int, str, bool, bool, bool]] = {}  # id(piece) -> its bucket and group
        for r in self.repo.grouped("bucket", lo, hi):
            cost, _ = row_cost(self.table, self.cost_mode, r)
            name = display_model(r.model, r.fast)
            piece = BlockEntry(r.first_ts, name, r.inp, r.out, r.cc5 + r.cc1, r.cr, cost, r.last_ts, r.count)
            groups[id(piece)] = (int(r.key), r.model, r.fast, r.long, r.has_cost)
            pieces.append(piece)
        pieces.sort(key=lambda p: (p.ts, p.model))

        def split(piece: BlockEntry) -> list[BlockEntry]:
            # The entries behind one piece: its bucket's entries of its model group.
            bucket, *group = groups[id(piece)]
            a, b = bucket * BUCKET_MS, (bucket + 1) * BUCKET_MS
            a, b = (a if lo is None else max(a, lo)), (b if hi is None else min(b, hi))
            return [
                self._block_entry(e)
                for e in self.repo.entries(a, b)
                if [e.model, bool(e.fast), e.long_context, e.cost is not None] == group
            ]

        return identify_blocks(pieces, now_ms, split=split)

    def current_block(self, now: datetime | None = None) -> Block | None:
        """The active 5-hour block, reading only recent entries (back to the last idle gap)."""
        from trayapp.core.blocks import active_block, identify_blocks

        now_ms = int((now or datetime.now(UTC)).timestamp() * 1000)
        lookback = 24 * 3_600_000
        while True:
            since = now_ms - lookback
            entries = self.block_entries(since, now_ms + 1)
            before = self.repo.last_entry_before(since)
            # A chain of blocks restarts after any idle gap of more than 5 h; make sure the window
            # begins at such a restart, else widen it.
            starts_clean = before is None or (entries and entries[0].ts - before.ts > 5 * 3_600_000)
            if starts_clean or not entries or lookback > 400 * 24 * 3_600_000:
                break
            gaps = [b for a, b in zip(entries, entries[1:], strict=False) if b.ts - a.ts > 5 * 3_600_000]
            if gaps:
                entries = [e for e in entries if e.ts >= gaps[0].ts]
                break
            lookback *= 4
        return active_block(identify_blocks(entries, now_ms))

    def today_tally(self, now: datetime | None = None) -> tuple[str, Tally]:
        """Today's (in the tracker's zone) tally: one day range, without the ledger-wide bounds
        lookup of :meth:`daily` (it runs after every scan)."""
        now = now or datetime.now(UTC)
        day = today_in(self.tz, now)
        d = date.fromisoformat(day)
        lo, hi = day_range_ms(d, d, self.tz)
        assert lo is not None
        assert hi is not None
        rows = rollup(self.repo.grouped_ranges([(day, lo, hi)]), _label, self.table, self.cost_mode)
        return day, rows.get(day, Tally())

    def today(self, now: datetime | None = None, top: int = 5) -> TodaySummary:
        now = now or datetime.now(UTC)
        day, tally = self.today_tally(now)
        d = date.fromisoformat(day)
        sess = self.sessions(d, d)
        projects_of: dict[str, str] = sess.extra.get("projects", {})
        top_sessions = sorted(sess.rows.items(), key=lambda kv: -kv[1].total)[:top]
        proj = self.projects(d, d)
        top_projects = sorted(proj.rows.items(), key=lambda kv: -kv[1].total)[:top]
        return TodaySummary(
            day,
            tally,
            [(s, projects_of.get(s, ""), t) for s, t in top_sessions],
            top_projects,
            self.current_block(now),
            int(now.timestamp() * 1000),
        )


def _label(row: GroupRow) -> str:
    return str(row.key)
