"""Claude Code's OpenTelemetry, as plain typed records: what the OTLP receiver keeps and what the
sessions panel, the dashboard, the agents and the Prometheus exporter read.

Claude Code exports (with ``CLAUDE_CODE_ENABLE_TELEMETRY=1``) the metrics
``claude_code.token.usage`` (attribute ``type``: input, output, cacheRead, cacheCreation; ``model``)
and ``claude_code.cost.usage`` (USD, ``model``), and the log events ``claude_code.api_request``
(model, tokens, cost, duration). Every record carries ``session.id``. Dollar figures are Claude
Code's own local estimates at list price: labelled "Claude Code telemetry (local estimate)".

CONTRACT shared by the receiver (services/telemetry_*), the Prometheus exporter and the views:
names and fields below are fixed; add fields only with defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

LABEL = "Claude Code telemetry (local estimate)"
TOKEN_TYPES = ("input", "output", "cacheRead", "cacheCreation")


@dataclass(frozen=True, slots=True)
class ApiRequest:
    """One ``claude_code.api_request`` event."""

    at: datetime  # aware UTC (the event's timestamp)
    session_id: str
    model: str
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_creation_tokens: int = 0
    cost_usd: float = 0.0
    duration_ms: float | None = None
    prompt_id: str | None = None


@dataclass(frozen=True, slots=True)
class SessionFigures:
    """Live totals of one Claude Code session from telemetry."""

    session_id: str
    requests: int = 0
    tokens: int = 0  # all four types
    cost_usd: float = 0.0
    last_at: datetime | None = None
    last_model: str | None = None


@dataclass(frozen=True, slots=True)
class TelemetryTotals:
    """Counters since the receiver's store began (monotonic: safe as Prometheus counters).

    ``tokens[(model, type)]`` with type in TOKEN_TYPES; ``cost_usd[model]``; ``requests[model]``.
    ``today_cost_usd``/``today_tokens``: since local midnight (tracking.timezone).
    """

    tokens: dict[tuple[str, str], int] = field(default_factory=dict)
    cost_usd: dict[str, float] = field(default_factory=dict)
    requests: dict[str, int] = field(default_factory=dict)
    sessions: dict[str, SessionFigures] = field(default_factory=dict)
    today_cost_usd: float = 0.0
    today_tokens: int = 0
    last_received_at: datetime | None = None
    rejected_posts: int = 0  # malformed, oversized, unauthenticated
