"""Rendering for ``claude-watch report`` and ``export``: argument parsing helpers, the stderr progress
bar, readable tables and ccusage-shaped JSON. Imported lazily by the command modules."""

from __future__ import annotations

import sys
import time
from datetime import UTC, date, datetime

from trayapp.cli.term import HEADER, Painter, table, terminal_width
from trayapp.core.humanize import format_duration, format_money, format_tokens, short_model_name
from trayapp.services.api_docs import periods_json
from trayapp.services.ledger_service import Tracker, resolve_timezone

# Type-only imports (typing itself costs start-up time on the warm report path; mypy treats any
# name TYPE_CHECKING as true).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from trayapp.core.aggregate import Tally
    from trayapp.services.ledger_service import Report
    from trayapp.services.ledger_writer import ScanStats

LABEL = "Local estimate: this machine, Claude Code only."
DISK_FULL_NOTE = (
    "note: disk full: the ledger could not be updated; showing the figures saved so far "
    "(free some space and run again)"
)


def parse_day(text: str | None, flag: str) -> date | None:
    if not text:
        return None
    clean = text.strip()
    if len(clean) == 8 and clean.isdigit():
        clean = f"{clean[:4]}-{clean[4:6]}-{clean[6:]}"
    try:
        return date.fromisoformat(clean)
    except ValueError:
        raise ValueError(f"{flag} {text!r}: use YYYY-MM-DD (or YYYYMMDD)") from None


def make_tracker(timezone: str | None, cost_mode: str | None) -> Tracker:
    kwargs: dict[str, Any] = {}
    if timezone:
        kwargs["tz"] = resolve_timezone(timezone)
    if cost_mode:
        kwargs["cost_mode"] = cost_mode
    from trayapp import settings as st

    cfg = st.load()
    for warning in cfg.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return Tracker.from_config(cfg, **kwargs)


class ProgressBar:
    """A one-line bar on stderr, shown only on a terminal and only when the scan is long."""

    def __init__(self, stream: Any = None, min_bytes: int = 16 * 1024 * 1024) -> None:
        self.stream = stream or sys.stderr
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self.min_bytes = min_bytes
        self.shown = False
        self.last = 0.0

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total < self.min_bytes:
            return
        now = time.monotonic()
        if done < total and now - self.last < 0.1:
            return
        self.last = now
        frac = done / total if total else 1.0
        width = 30
        filled = int(frac * width)
        bar = "#" * filled + "-" * (width - filled)
        self.stream.write(f"\rScanning transcripts [{bar}] {frac:5.1%} of {total / 2**20:,.0f} MiB")
        self.stream.flush()
        self.shown = True

    def finish(self) -> None:
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()
            self.shown = False


def scan_with_progress(tracker: Tracker) -> ScanStats | None:
    """Scan with a progress bar; None when another Claude Watch process is writing the ledger (a
    first scan holds it for its whole length) or the disk is full: the report then shows the last
    saved figures, with a note saying why."""
    import sqlite3

    from trayapp.store.errors import DiskFull

    bar = ProgressBar()
    try:
        return tracker.refresh(progress=bar)
    except DiskFull:
        bar.finish()
        print(DISK_FULL_NOTE, file=sys.stderr)
        return None
    except sqlite3.OperationalError as exc:
        if "locked" not in str(exc) and "busy" not in str(exc):
            raise
        bar.finish()
        print(
            "note: another Claude Watch process is updating the token ledger; showing the figures "
            "saved so far (run again when it is done)",
            file=sys.stderr,
        )
        return None
    finally:
        bar.finish()


def _short_models(t: Tally) -> str:
    return ", ".join(sorted({short_model_name(n) for n in t.models}))


def _clock(ts_ms: int | None, tz: Any) -> str:
    if ts_ms is None:
        return ""
    return datetime.fromtimestamp(ts_ms / 1000, UTC).astimezone(tz).strftime("%m-%d %H:%M")


def periods(
    tracker: Tracker, kind: str, since: date | None, until: date | None, *, as_json: bool, breakdown: bool
) -> dict[str, Any] | str:
    report: Report = {
        "daily": tracker.daily,
        "weekly": tracker.weekly,
        "monthly": tracker.monthly,
        "session": tracker.sessions,
        "project": tracker.projects,
    }[kind](since, until)
    projects = report.extra.get("projects", {})
    if as_json:
        return periods_json(kind, report, projects)
    first = {
        "daily": "Date",
        "weekly": "Week",
        "monthly": "Month",
        "session": "Session",
        "project": "Project",
    }[kind]
    headers = [first, "Models", "Input", "Output", "Cache write", "Cache read", "Total tokens", "Cost (USD)"]
    sessions = kind == "session"
    if sessions:  # when each session was active (issue 20: only the JSON said so)
        headers[1:1] = ["First", "Last"]
    tz = tracker.tz
    rows: list[list[str]] = []
    for key, t in report.rows.items():
        label = key if not sessions else f"{_short_id(key)}  {projects.get(key, '')}"
        when = [_clock(t.first_ts, tz), _clock(t.last_ts, tz)] if sessions else []
        rows.append([label, *when, _short_models(t), *_nums(t)])
        if breakdown:
            for name, m in sorted(t.models.items(), key=lambda kv: -kv[1].cost):
                rows.append(["  └ " + short_model_name(name), *([""] * len(when)), "", *_nums(m)])
    for day, models in report.stats_cache.items():
        if kind == "daily":
            rows.append([day + " (stats-cache)", ", ".join(sorted(short_model_name(m) for m in models)),
                         "", "", "", "", format_tokens(sum(models.values())), "-"])  # fmt: skip
    rows.append([])
    rows.append(["Total", *([""] * (2 if sessions else 0)), "", *_nums(report.totals)])
    notes = [LABEL]
    if report.unpriced:
        notes.append("* unpriced model(s), counted as $0: " + ", ".join(sorted(report.unpriced)))
    if report.stats_cache and kind == "daily":
        notes.append(
            "(stats-cache) days have no transcripts left; Claude Code's own counts: input+output only, "
            "UTC days, not de-duplicated, not in the total."
        )
    if not report.rows and not report.stats_cache:
        return "No Claude Code usage found. " + LABEL
    shift = 2 if sessions else 0
    fitted = table(
        headers,
        rows,
        right={i + shift for i in (2, 3, 4, 5, 6, 7)},
        width=terminal_width(),
        squeeze=1 + shift,
        drop=("Cache write", "Cache read", "Input", "Output", "First", "Models"),
        style=_row_style(rows),
    )
    return fitted + "\n" + "\n".join(notes)


def _row_style(rows: list[list[str]]) -> Any:
    """Bold headers and totals, dim model breakdowns and stats-cache days (only on a terminal)."""
    paint = Painter()
    if not paint.on:
        return None
    last = len(rows) - 1

    def style(row: int, column: int, text: str) -> str:
        if row == HEADER or row == last:
            return paint.bold(text)
        first = rows[row][0]
        if first.startswith("  └ ") or first.endswith("(stats-cache)"):
            return paint.dim(text)
        return text

    return style


def _short_id(session: str) -> str:
    return session[:8] if len(session) == 36 and session.count("-") == 4 else session


def _nums(t: Tally) -> list[str]:
    return [format_tokens(t.input), format_tokens(t.output), format_tokens(t.cache_creation),
            format_tokens(t.cache_read), format_tokens(t.total),
            format_money(t.cost, unpriced=bool(t.unpriced))]  # fmt: skip


def dumps_pretty(obj: Any) -> str:
    """``json.dumps(obj, indent=2, ensure_ascii=False)``, byte for byte, about twice as fast.

    With ``indent`` the standard library encodes in pure Python through generators (3 ms for a
    daily report on a 2 GiB history, more than the query behind it); this builds the text directly
    from the C string escaper. Only JSON's own types (str-keyed dicts, lists and tuples, str, int,
    float, bool, None) take this path; anything else is handed to ``json.dumps`` whole.
    """
    from json.encoder import encode_basestring  # C, keeps non-ASCII as is (ensure_ascii=False)

    parts: list[str] = []
    add = parts.append

    def enc(o: Any, pad: str) -> None:
        if type(o) is str:
            add(encode_basestring(o))
        elif o is None:
            add("null")
        elif o is True:
            add("true")
        elif o is False:
            add("false")
        elif type(o) is int:
            add(int.__repr__(o))
        elif type(o) is float:
            add(float.__repr__(o) if o == o and o not in (_INF, -_INF) else _SPECIAL[repr(o)])
        elif type(o) is dict:
            if not o:
                add("{}")
                return
            inner = pad + "  "
            opener = "{\n"
            for k, v in o.items():
                if type(k) is not str:
                    raise _NotPlain
                add(opener + inner + encode_basestring(k) + ": ")
                opener = ",\n"
                enc(v, inner)
            add("\n" + pad + "}")
        elif type(o) is list or type(o) is tuple:
            if not o:
                add("[]")
                return
            inner = pad + "  "
            opener = "[\n"
            for v in o:
                add(opener + inner)
                opener = ",\n"
                enc(v, inner)
            add("\n" + pad + "]")
        else:
            raise _NotPlain

    try:
        enc(obj, "")
    except _NotPlain:
        import json

        return json.dumps(obj, indent=2, ensure_ascii=False)
    return "".join(parts)


class _NotPlain(Exception):
    """A value outside JSON's own types: let the json module deal with it."""


_INF = float("inf")
_SPECIAL = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}  # what json.dumps writes for them


def blocks(
    tracker: Tracker, since: date | None, until: date | None, *, as_json: bool
) -> dict[str, Any] | str:
    now = datetime.now(UTC)
    now_ms = int(now.timestamp() * 1000)
    found = tracker.blocks(since, until, now)
    if as_json:
        return {"blocks": [b.to_json(now_ms) for b in found]}
    if not found:
        return "No Claude Code usage found. " + LABEL
    headers = [
        "Block start (local)",
        "Status",
        "Models",
        "Total tokens",
        "Cost (USD)",
        "Burn rate",
        "Projected",
    ]
    rows: list[list[str]] = []
    for b in found:
        start = datetime.fromtimestamp(b.start_ms / 1000, tracker.tz).strftime("%Y-%m-%d %H:%M")
        if b.is_gap:
            idle = format_duration((b.end_ms - b.start_ms) / 1000)
            rows.append([start, f"idle {idle}", "", "", "", "", ""])
            continue
        inp, out, cc, cr, cost = b.sums()
        status = "ACTIVE" if b.is_active else "done"
        rate = b.burn_rate() if b.is_active else None
        proj = b.projection(now_ms)
        rows.append(
            [
                start,
                status,
                ", ".join(short_model_name(m) for m in b.models()),
                format_tokens(inp + out + cc + cr),
                format_money(cost),
                f"{format_tokens(round(rate.tokens_per_minute))} tok/min, "
                f"{format_money(rate.cost_per_hour)}/h"
                if rate
                else "",
                f"{format_tokens(proj.total_tokens)} tok, {format_money(proj.total_cost)} "
                f"({format_duration(proj.remaining_minutes * 60)} left)"
                if proj
                else "",
            ]
        )
    paint = Painter()

    def style(row: int, column: int, text: str) -> str:
        if row == HEADER:
            return paint.bold(text)
        if column == 1 and text == "ACTIVE":
            return paint.level(text, "ok")
        return paint.dim(text) if rows[row][1].startswith("idle") else text

    fitted = table(
        headers,
        rows,
        right={3, 4},
        width=terminal_width(),
        squeeze=2,
        drop=("Burn rate", "Models", "Projected"),
        style=style if paint.on else None,
    )
    return fitted + "\n" + LABEL
