"""Claude Code's telemetry folded into counters that never count a token twice.

Claude Code reports the same tokens and cost twice over: once per request in the
``claude_code.api_request`` event (every 5 s by default) and once in the
``claude_code.token.usage`` / ``claude_code.cost.usage`` counters (every 60 s), either of which the
user may have turned off. Per *stream* (session, model, kind; kind is a token type or ``cost``)
the fold keeps both running totals and counts the larger: an event raises the events total, a
counter point the metrics total, and only growth of ``max(events, metrics)`` is counted, at the
time of whichever arrived first. So the faster events lead, the counters fill in what the events
missed (logs off, a lost batch), and nothing is counted twice.

Counter points come in either temporality (Claude Code's exporter defaults to delta; a user's
``OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`` may say cumulative):

- delta: each point is an increment, counted once per (stream, start, end): an exporter's retry
  of the same batch adds nothing;
- cumulative: per (stream, start time) the last value is kept and only the growth counts; a new
  start time (a restarted process) is a new series whose whole value counts; a value that goes
  down (a reset without a new start) counts as a new series too; a point not newer than the last
  one adds nothing.

Events are deduplicated by (session, time, model, token counts) for a day after receipt.
Counted growth lands in hourly cells (UTC hour, session, model, kind), the unit the store keeps
and the daily report reads; :meth:`TelemetryFold.totals` is the contract's
:class:`~trayapp.core.telemetry.TelemetryTotals`. Pure: no I/O, no locks, time is passed in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo

from trayapp.core.telemetry import TOKEN_TYPES, ApiRequest, SessionFigures, TelemetryTotals

COST = "cost"
KINDS = (*TOKEN_TYPES, COST)
HOUR = 3600
SEEN_FOR_S = 24 * HOUR  # how long a received event or delta point is remembered (retries)
KEEP_HOURS = 30 * 24  # hourly cells kept in memory (sessions, today); the store keeps them all

Stream = tuple[str, str, str]  # session, model, kind
Cell = tuple[int, str, str, str]  # UTC hour (epoch hours), session, model, kind
RequestCell = tuple[int, str, str]  # UTC hour, session, model
Series = tuple[str, str, str, int]  # session, model, kind, start_ns


@dataclass(frozen=True, slots=True)
class CounterPoint:
    """One point of a Claude Code counter: tokens of one type, or cost in USD."""

    session_id: str
    model: str
    kind: str  # one of KINDS
    start_ns: int
    time_ns: int
    value: float
    cumulative: bool


@dataclass(slots=True)
class Changes:
    """What one ingest changed, for the store (``store/telemetry_repo``) to persist."""

    cells: dict[Cell, float] = field(default_factory=dict)  # counted growth to add
    requests: dict[RequestCell, int] = field(default_factory=dict)  # requests to add
    streams: dict[Stream, tuple[float, float]] = field(default_factory=dict)  # new (events, metrics)
    series: dict[Series, tuple[int, float]] = field(default_factory=dict)  # new (time_ns, value)
    events: list[ApiRequest] = field(default_factory=list)  # new api_request events
    duplicates: int = 0

    @property
    def counted(self) -> bool:
        return bool(self.cells or self.requests or self.events)


def hour_of(when: datetime) -> int:
    return int(when.timestamp()) // HOUR


class TelemetryFold:
    """The counters (see the module docstring). ``tz``: the day boundary of ``today_*``."""

    def __init__(self, tz: tzinfo | None = None) -> None:
        self.tz = tz
        self.streams: dict[Stream, list[float]] = {}
        self.series: dict[Series, tuple[int, float]] = {}
        self.cells: dict[Cell, float] = {}  # recent hours only
        self.request_cells: dict[RequestCell, int] = {}  # recent hours only
        self.tokens: dict[tuple[str, str], float] = {}
        self.cost: dict[str, float] = {}
        self.requests: dict[str, int] = {}
        self.last_seen: dict[str, tuple[datetime, str]] = {}  # session -> (last request, model)
        self.last_received_at: datetime | None = None
        self.rejected_posts = 0
        self._seen: dict[tuple[object, ...], float] = {}  # dedupe key -> received (epoch s)

    # ----- loading (the store's rows at start)

    def load(
        self,
        *,
        totals: Iterable[tuple[str, str, float]],
        requests: Iterable[tuple[str, int]],
        cells: Iterable[tuple[Cell, float]],
        request_cells: Iterable[tuple[RequestCell, int]],
        streams: Iterable[tuple[Stream, float, float]],
        series: Iterable[tuple[Series, int, float]],
        last_seen: Iterable[tuple[str, datetime, str]],
    ) -> None:
        """Start from stored figures: all-time totals per (model, kind), requests per model, recent
        cells, the streams and cumulative series still followed, each session's last request."""
        for model, kind, value in totals:
            self._add_total(model, kind, value)
        for model, count in requests:
            self.requests[model] = self.requests.get(model, 0) + count
        self.cells.update(cells)
        self.request_cells.update(request_cells)
        for stream, events, metrics in streams:
            self.streams[stream] = [events, metrics]
        for key, time_ns, value in series:
            self.series[key] = (time_ns, value)
        for session, at, model in last_seen:
            self.last_seen[session] = (at, model)

    # ----- ingest

    def add_requests(self, requests: Iterable[ApiRequest], now: datetime, changes: Changes) -> None:
        """Count new ``api_request`` events (duplicates of the last day add nothing)."""
        received = now.timestamp()
        for r in requests:
            key = (r.session_id, r.at, r.model, r.input_tokens, r.output_tokens,
                   r.cache_read_tokens, r.cache_creation_tokens)  # fmt: skip
            if key in self._seen:
                changes.duplicates += 1
                continue
            self._seen[key] = received
            changes.events.append(r)
            hour = hour_of(r.at)
            figures = (
                r.input_tokens,
                r.output_tokens,
                r.cache_read_tokens,
                r.cache_creation_tokens,
                r.cost_usd,
            )
            for kind, value in zip(KINDS, figures, strict=True):
                if value:
                    self._grow((r.session_id, r.model, kind), 0, value, hour, changes)
            rcell = (hour, r.session_id, r.model)
            self.request_cells[rcell] = self.request_cells.get(rcell, 0) + 1
            changes.requests[rcell] = changes.requests.get(rcell, 0) + 1
            self.requests[r.model] = self.requests.get(r.model, 0) + 1
            last = self.last_seen.get(r.session_id)
            if last is None or r.at >= last[0]:
                self.last_seen[r.session_id] = (r.at, r.model)
        self.last_received_at = now

    def add_points(self, points: Iterable[CounterPoint], now: datetime, changes: Changes) -> None:
        """Count counter points of either temporality (see the module docstring)."""
        received = now.timestamp()
        for p in points:
            stream = (p.session_id, p.model, p.kind)
            if p.cumulative:
                key = (*stream, p.start_ns)
                last = self.series.get(key)
                if last is not None and p.time_ns <= last[0]:
                    changes.duplicates += 1
                    continue
                grown = p.value if last is None or p.value < last[1] else p.value - last[1]
                self.series[key] = (p.time_ns, p.value)
                changes.series[key] = (p.time_ns, p.value)
            else:
                seen = ("delta", *stream, p.start_ns, p.time_ns)
                if seen in self._seen:
                    changes.duplicates += 1
                    continue
                self._seen[seen] = received
                grown = p.value
            if grown > 0:
                self._grow(stream, 1, grown, p.time_ns // 10**9 // HOUR, changes)
        self.last_received_at = now

    def _grow(self, stream: Stream, side: int, amount: float, hour: int, changes: Changes) -> None:
        totals = self.streams.setdefault(stream, [0.0, 0.0])
        before = max(totals)
        totals[side] += amount
        changes.streams[stream] = (totals[0], totals[1])
        counted = max(totals) - before
        if counted <= 0:
            return
        session, model, kind = stream
        cell = (hour, session, model, kind)
        self.cells[cell] = self.cells.get(cell, 0.0) + counted
        changes.cells[cell] = changes.cells.get(cell, 0.0) + counted
        self._add_total(model, kind, counted)

    def _add_total(self, model: str, kind: str, value: float) -> None:
        if kind == COST:
            self.cost[model] = self.cost.get(model, 0.0) + value
        else:
            self.tokens[(model, kind)] = self.tokens.get((model, kind), 0.0) + value

    # ----- upkeep and reading

    def prune(self, now: datetime) -> None:
        """Forget dedupe keys older than a day and cells, series and streams past KEEP_HOURS."""
        horizon = now.timestamp() - SEEN_FOR_S
        self._seen = {k: t for k, t in self._seen.items() if t >= horizon}
        oldest = hour_of(now) - KEEP_HOURS
        self.cells = {k: v for k, v in self.cells.items() if k[0] >= oldest}
        self.request_cells = {k: v for k, v in self.request_cells.items() if k[0] >= oldest}
        cutoff_ns = (oldest * HOUR) * 10**9
        self.series = {k: v for k, v in self.series.items() if v[0] >= cutoff_ns}
        live = {(s, m, k) for _h, s, m, k in self.cells}
        self.streams = {k: v for k, v in self.streams.items() if k in live}

    def session_figures(self) -> dict[str, SessionFigures]:
        tokens: dict[str, float] = {}
        cost: dict[str, float] = {}
        for (_hour, session, _model, kind), value in self.cells.items():
            if kind == COST:
                cost[session] = cost.get(session, 0.0) + value
            else:
                tokens[session] = tokens.get(session, 0.0) + value
        requests: dict[str, int] = {}
        for (_hour, session, _model), count in self.request_cells.items():
            requests[session] = requests.get(session, 0) + count
        out: dict[str, SessionFigures] = {}
        for session in tokens.keys() | cost.keys() | requests.keys():
            if not session:
                continue  # events without a session id count in the totals only
            last = self.last_seen.get(session)
            out[session] = SessionFigures(
                session_id=session,
                requests=requests.get(session, 0),
                tokens=round(tokens.get(session, 0.0)),
                cost_usd=cost.get(session, 0.0),
                last_at=last[0] if last else None,
                last_model=last[1] if last else None,
            )
        return out

    def totals(self, now: datetime) -> TelemetryTotals:
        """The contract's snapshot (fresh dicts: the caller may keep it)."""
        local = now.astimezone(self.tz) if self.tz is not None else now.astimezone()
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        first = int(midnight.timestamp()) // HOUR
        last = int((midnight + timedelta(days=1)).timestamp()) // HOUR  # DST days have 23 or 25 hours
        today_cost = 0.0
        today_tokens = 0.0
        for (hour, _session, _model, kind), value in self.cells.items():
            if first <= hour < last:
                if kind == COST:
                    today_cost += value
                else:
                    today_tokens += value
        return TelemetryTotals(
            tokens={key: round(value) for key, value in self.tokens.items()},
            cost_usd=dict(self.cost),
            requests=dict(self.requests),
            sessions=self.session_figures(),
            today_cost_usd=today_cost,
            today_tokens=round(today_tokens),
            last_received_at=self.last_received_at,
            rejected_posts=self.rejected_posts,
        )


def from_hour(hour: int) -> datetime:
    return datetime.fromtimestamp(hour * HOUR, UTC)
