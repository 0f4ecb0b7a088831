"""Prometheus metrics for ``GET /metrics``: a typed snapshot in, the text exposition format out.

Pure: no I/O, no clock. :func:`render` turns a :class:`MetricsSnapshot` into the text format 0.0.4
(served as :data:`CONTENT_TYPE`); ``core/prom_snapshot`` builds the snapshot from the app's values.
Every family gets its ``# HELP`` and ``# TYPE`` line, label values are escaped (backslash, double
quote, newline; other control characters become U+FFFD, values are capped at
:data:`MAX_LABEL_VALUE` characters), and two samples that end up with the same labels (two hostile
model names equal after the cap) are merged: counters add up, gauges keep the last. Names and
labels are stable (a dashboard depends on them): add families, never rename one.

All names start with ``claude_watch_``. Utilization is a ratio (0..1, over 1 past the limit),
durations are seconds, timestamps are Unix seconds. ``account`` is ``default`` until Claude Watch
watches several accounts; every per-account family already carries the label.

============================================  =======  ==================  ================================
name                                          type     labels              what
============================================  =======  ==================  ================================
claude_watch_build_info                       gauge    version python qt   1, labelled with the build
claude_watch_window_utilization_ratio         gauge    account window      a limit's use, 0..1
claude_watch_window_time_to_reset_seconds     gauge    account window      seconds until it resets
claude_watch_extra_usage_enabled              gauge    account             1 when extra usage is on
claude_watch_extra_usage_used                 gauge    account currency    spent this month
claude_watch_extra_usage_limit                gauge    account currency    the monthly limit
claude_watch_extra_usage_utilization_ratio    gauge    account             spent / limit
claude_watch_polls_total                      counter  account outcome     endpoint attempts by outcome (*)
claude_watch_poll_error                       gauge    account kind        1 for the error shown now
claude_watch_poll_cooldown_seconds            gauge    account             left in a 429 cooldown
claude_watch_next_poll_seconds                gauge    account             until a poll may go out
claude_watch_poll_consecutive_failures        gauge    account             failures in a row (backoff)
claude_watch_last_success_timestamp_seconds   gauge    account             time of the latest reading
claude_watch_reading_stale                    gauge    account             1 when it is stale
claude_watch_telemetry_tokens_total           counter  account model type  telemetry tokens
claude_watch_telemetry_cost_usd_total         counter  account model       telemetry cost (estimate)
claude_watch_telemetry_requests_total         counter  account model       telemetry API requests
claude_watch_telemetry_rejected_posts_total   counter                      OTLP posts refused
claude_watch_sessions                         gauge    state               live sessions by state
claude_watch_agents                           gauge    state               agents (jobs) by state
claude_watch_hook_events_total                counter  event               hook events received (*)
============================================  =======  ==================  ================================

(*) counted in memory: back to 0 when the app restarts (Prometheus's ``rate``/``increase`` take
a reset in their stride). The telemetry counters come from the receiver's store and never go
backwards across restarts. ``extra_usage_used``/``_limit`` carry no unit suffix because the
account picks the currency: it is the ``currency`` label (ISO 4217).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
DEFAULT_ACCOUNT = "default"
MAX_LABEL_VALUE = 256
NAME_RE = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_CONTROL_RE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class Family:
    """One metric family: its name, type, help text and label names (in output order)."""

    name: str
    type: str  # "gauge" | "counter"
    help: str
    labels: tuple[str, ...] = ()


_A = ("account",)
FAMILIES: tuple[Family, ...] = (
    Family("claude_watch_build_info", "gauge", "Claude Watch build (always 1).", ("version", "python", "qt")),
    Family(
        "claude_watch_window_utilization_ratio",
        "gauge",
        "Use of a usage limit, 0..1 (over 1 past it).",
        (*_A, "window"),
    ),  # fmt: skip
    Family(
        "claude_watch_window_time_to_reset_seconds",
        "gauge",
        "Seconds until the window resets.",
        (*_A, "window"),
    ),  # fmt: skip
    Family("claude_watch_extra_usage_enabled", "gauge", "1 when extra usage (credits) is enabled.", _A),
    Family(
        "claude_watch_extra_usage_used",
        "gauge",
        "Extra usage spent this month, in the currency label.",
        (*_A, "currency"),
    ),  # fmt: skip
    Family(
        "claude_watch_extra_usage_limit",
        "gauge",
        "Monthly extra-usage limit, in the currency label.",
        (*_A, "currency"),
    ),  # fmt: skip
    Family(
        "claude_watch_extra_usage_utilization_ratio", "gauge", "Extra usage spent over its limit, 0..1.", _A
    ),
    Family(
        "claude_watch_polls_total",
        "counter",
        "Usage endpoint attempts by outcome (since the app started).",
        (*_A, "outcome"),
    ),  # fmt: skip
    Family(
        "claude_watch_poll_error", "gauge", "1 for the kind of error the latest state shows.", (*_A, "kind")
    ),  # fmt: skip
    Family("claude_watch_poll_cooldown_seconds", "gauge", "Seconds left in a rate-limit (429) cooldown.", _A),
    Family("claude_watch_next_poll_seconds", "gauge", "Seconds until the next poll may go out.", _A),
    Family(
        "claude_watch_poll_consecutive_failures", "gauge", "Failed polls in a row (the backoff step).", _A
    ),
    Family(
        "claude_watch_last_success_timestamp_seconds",
        "gauge",
        "Unix time the latest usage reading was taken (endpoint or status line).",
        _A,
    ),  # fmt: skip
    Family("claude_watch_reading_stale", "gauge", "1 when the latest usage reading is stale.", _A),
    Family(
        "claude_watch_telemetry_tokens_total",
        "counter",
        "Tokens from Claude Code telemetry (local estimate) by model and type.",
        (*_A, "model", "type"),
    ),  # fmt: skip
    Family(
        "claude_watch_telemetry_cost_usd_total",
        "counter",
        "Cost in USD from Claude Code telemetry (local estimate) by model.",
        (*_A, "model"),
    ),  # fmt: skip
    Family(
        "claude_watch_telemetry_requests_total",
        "counter",
        "API requests from Claude Code telemetry by model.",
        (*_A, "model"),
    ),  # fmt: skip
    Family(
        "claude_watch_telemetry_rejected_posts_total",
        "counter",
        "OTLP posts refused (malformed, oversized, unauthenticated).",
    ),  # fmt: skip
    Family("claude_watch_sessions", "gauge", "Live Claude Code sessions by state.", ("state",)),
    Family("claude_watch_agents", "gauge", "Background agents (Claude Code jobs) by state.", ("state",)),
    Family(
        "claude_watch_hook_events_total",
        "counter",
        "Claude Code hook events received by event name (since the app started).",
        ("event",),
    ),  # fmt: skip
)
BY_NAME: dict[str, Family] = {f.name: f for f in FAMILIES}


@dataclass(frozen=True, slots=True)
class WindowFigures:
    window: str  # the window's id: five_hour, seven_day, seven_day_opus, ...
    utilization_ratio: float
    seconds_to_reset: float | None = None


@dataclass(frozen=True, slots=True)
class ExtraUsageFigures:
    enabled: bool
    currency: str = "USD"
    used: float | None = None  # major units (dollars, euros)
    limit: float | None = None
    utilization_ratio: float | None = None


@dataclass(frozen=True, slots=True)
class AccountFigures:
    """Everything per account; the telemetry maps follow ``core.telemetry.TelemetryTotals``."""

    account: str = DEFAULT_ACCOUNT
    windows: tuple[WindowFigures, ...] = ()
    extra_usage: ExtraUsageFigures | None = None
    polls: Mapping[str, int] = field(default_factory=dict)  # outcome -> attempts
    errors: Mapping[str, bool] = field(default_factory=dict)  # error kind -> shown now
    cooldown_seconds: float = 0.0
    next_poll_seconds: float | None = None
    consecutive_failures: int = 0
    last_success_timestamp: float | None = None
    stale: bool | None = None
    tokens: Mapping[tuple[str, str], int] = field(default_factory=dict)  # (model, type) -> tokens
    cost_usd: Mapping[str, float] = field(default_factory=dict)
    requests: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class BuildInfo:
    version: str
    python: str
    qt: str


@dataclass(frozen=True, slots=True)
class MetricsSnapshot:
    build: BuildInfo
    accounts: tuple[AccountFigures, ...] = ()
    sessions: Mapping[str, int] = field(default_factory=dict)  # state -> live sessions
    agents: Mapping[str, int] = field(default_factory=dict)  # state -> agents
    hook_events: Mapping[str, int] = field(default_factory=dict)  # event name -> received
    telemetry_rejected: int | None = None  # None: no telemetry receiver


def escape_label(value: str) -> str:
    """A label value as it goes between the quotes: capped, control characters replaced, and
    backslash, double quote and newline escaped (the format's three escapes)."""
    text = _CONTROL_RE.sub("\ufffd", value[:MAX_LABEL_VALUE])
    if "\\" in text or '"' in text or "\n" in text:
        text = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return text


def escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def format_value(value: float) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))


class _Samples:
    """Samples per family, keyed by their rendered label pairs: no duplicate series. Rendered
    pairs are remembered for the render (a model name appears in six series, an account in all)."""

    def __init__(self) -> None:
        self.by_family: dict[str, dict[str, float]] = {f.name: {} for f in FAMILIES}
        self.counters = frozenset(f.name for f in FAMILIES if f.type == "counter")
        self._pairs: dict[tuple[str, str], str] = {}

    def pair(self, label: str, raw: str) -> str:
        """``label="value"`` with the value escaped."""
        found = self._pairs.get((label, raw))
        if found is None:
            found = self._pairs[(label, raw)] = f'{label}="{escape_label(raw)}"'
        return found

    def add(self, name: str, labels: tuple[str, ...], value: float | None) -> None:
        names = BY_NAME[name].labels
        self.put(name, ",".join([self.pair(n, v) for n, v in zip(names, labels, strict=True)]), value)

    def put(self, name: str, key: str, value: float | None) -> None:
        """One sample under its rendered label pairs (``key``, in the family's label order)."""
        if value is None:
            return
        series = self.by_family[name]
        if name in self.counters:
            if not math.isfinite(value) or value < 0:
                return  # a counter is a finite count upwards; anything else is not one
            if key in series:
                series[key] += value
                return
        series[key] = value

    def text(self) -> str:
        out: list[str] = []
        for family in FAMILIES:
            name = family.name
            out.append(f"# HELP {name} {escape_help(family.help)}")
            out.append(f"# TYPE {name} {family.type}")
            series = self.by_family[name]
            for key in sorted(series):
                value = format_value(series[key])
                out.append(f"{name}{{{key}}} {value}" if key else f"{name} {value}")
        out.append("")
        return "\n".join(out)


def render(snapshot: MetricsSnapshot) -> str:
    """The whole exposition, families in :data:`FAMILIES` order, series sorted by label values."""
    s = _Samples()
    b = snapshot.build
    s.add("claude_watch_build_info", (b.version, b.python, b.qt), 1)
    for a in snapshot.accounts:
        _account(s, a)
    if snapshot.telemetry_rejected is not None:
        s.add("claude_watch_telemetry_rejected_posts_total", (), snapshot.telemetry_rejected)
    _by_one(s, "claude_watch_sessions", snapshot.sessions.items())
    _by_one(s, "claude_watch_agents", snapshot.agents.items())
    _by_one(s, "claude_watch_hook_events_total", snapshot.hook_events.items())
    return s.text()


def _by_one(s: _Samples, name: str, items: Iterable[tuple[str, float]]) -> None:
    for label, value in items:
        s.add(name, (label,), value)


def _account(s: _Samples, a: AccountFigures) -> None:
    acc = a.account
    for w in a.windows:
        s.add("claude_watch_window_utilization_ratio", (acc, w.window), w.utilization_ratio)
        s.add("claude_watch_window_time_to_reset_seconds", (acc, w.window), w.seconds_to_reset)
    x = a.extra_usage
    if x is not None:
        s.add("claude_watch_extra_usage_enabled", (acc,), x.enabled)
        s.add("claude_watch_extra_usage_used", (acc, x.currency), x.used)
        s.add("claude_watch_extra_usage_limit", (acc, x.currency), x.limit)
        s.add("claude_watch_extra_usage_utilization_ratio", (acc,), x.utilization_ratio)
    for outcome, count in a.polls.items():
        s.add("claude_watch_polls_total", (acc, outcome), count)
    for kind, shown in a.errors.items():
        s.add("claude_watch_poll_error", (acc, kind), shown)
    s.add("claude_watch_poll_cooldown_seconds", (acc,), a.cooldown_seconds)
    s.add("claude_watch_next_poll_seconds", (acc,), a.next_poll_seconds)
    s.add("claude_watch_poll_consecutive_failures", (acc,), a.consecutive_failures)
    s.add("claude_watch_last_success_timestamp_seconds", (acc,), a.last_success_timestamp)
    s.add("claude_watch_reading_stale", (acc,), a.stale)
    # The bulk of a scrape (models x types): the account's and each model's pair rendered once.
    prefix = s.pair("account", acc)
    for (model, kind), tokens in a.tokens.items():
        key = f"{prefix},{s.pair('model', model)},{s.pair('type', kind)}"
        s.put("claude_watch_telemetry_tokens_total", key, tokens)
    for model, cost in a.cost_usd.items():
        s.put("claude_watch_telemetry_cost_usd_total", f"{prefix},{s.pair('model', model)}", cost)
    for model, count in a.requests.items():
        s.put("claude_watch_telemetry_requests_total", f"{prefix},{s.pair('model', model)}", count)


def parse_listen(value: str) -> tuple[str, int]:
    """``metrics.listen`` as ``(host, port)``: ``ADDRESS:PORT``, ``[IPV6]:PORT`` or ``NAME:PORT``
    with a port from 1 to 65535; raises ValueError with the reason."""
    text = value.strip()
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep or not rest.startswith(":"):
            raise ValueError("write an IPv6 address as [ADDRESS]:PORT")
        port_text = rest[1:]
    else:
        host, sep, port_text = text.rpartition(":")
        if not sep or ":" in host:
            raise ValueError("use ADDRESS:PORT, e.g. 0.0.0.0:9464")
    if not host or not re.fullmatch(r"[A-Za-z0-9.:_-]{1,253}", host):
        raise ValueError(f"not an address: {host[:64]!r}")
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise ValueError("the port must be a number from 1 to 65535")
    return host, int(port_text)
