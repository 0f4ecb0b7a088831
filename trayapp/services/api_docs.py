"""The JSON documents that ``claude-watch status --json``, ``sessions --json``, ``report --json``
and the local API (``services/local_api``) share: one producer, two transports.

Pure functions over the app's values (no I/O). They live here rather than in ``cli/`` because the
tray app serves them too and nothing but the entry point may import the command modules.
"""

from __future__ import annotations

from trayapp.core.aggregate import iso_ms

# typing.TYPE_CHECKING without importing typing: ``report`` imports this module and keeps its
# warm start free of typing (tests/unit/test_main_dispatch.py); mypy treats the name as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime
    from typing import Any

    from trayapp.core.sessions import Session
    from trayapp.core.telemetry import TelemetryTotals
    from trayapp.services.ledger_service import Report
    from trayapp.store.session_hooks import HookState

SESSIONS_SCHEMA_VERSION = 1
_KEYS = {
    "daily": "date",
    "weekly": "week",
    "monthly": "month",
    "session": "sessionId",
    "project": "projectPath",
}
_LISTS = {
    "daily": "daily",
    "weekly": "weekly",
    "monthly": "monthly",
    "session": "sessions",
    "project": "projects",
}


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when else None


def _round(value: float | None, places: int = 2) -> float | None:
    return None if value is None else round(value, places)


def status_json(state: Any, now: datetime) -> dict[str, Any]:
    """The documented ``--json`` shape (extra keys may be added, none removed)."""
    snap = state.snapshot
    account = state.account
    extra = snap.extra_usage if snap else None
    return {
        "source": str(snap.source) if snap else None,
        "fetched_at": _iso(snap.fetched_at) if snap else None,
        "stale": state.stale,
        "age_seconds": _round(state.age_seconds, 1),
        "plan": account.plan if account else None,
        "account": {"email": account.email, "organization": account.organization} if account else None,
        "windows": [
            {
                "id": ws.window.id,
                "label": ws.window.label,
                "kind": str(ws.window.kind),
                "utilization": ws.window.utilization,
                "resets_at": _iso(ws.window.resets_at),
                "time_to_reset_seconds": _round(ws.time_to_reset.total_seconds(), 0)
                if ws.time_to_reset
                else None,
                "burn_rate_per_hour": _round(ws.burn_rate_per_hour),
                "projected_at_reset": _round(ws.projected_at_reset, 1),
                "projected_full_at": _iso(ws.projected_full_at),
                "level": str(ws.level),
            }
            for ws in state.windows
        ],
        "binding": state.binding.window.id if state.binding else None,
        "extra_usage": None
        if extra is None
        else {
            "is_enabled": extra.is_enabled,
            "currency": extra.currency,
            "used": extra.used,
            "monthly_limit": extra.monthly_limit,
            "utilization": extra.utilization,
        },
        "error": None
        if state.error is None
        else {
            "kind": str(state.error.kind),
            "message": state.error.message,
            "retry_at": _iso(state.error.retry_at),
        },
        "notices": list(state.notices),
    }


def session_json(s: Session) -> dict[str, Any]:
    from trayapp.store.session_hooks import iso_or_none as _time

    return {
        "session_id": s.session_id,
        "state": s.state.value,
        "project": s.project,
        "project_dir": s.project_dir,
        "name": s.name,
        "pid": s.pid,
        "model": s.model,
        "started_at": _time(s.started_at),
        "last_activity": _time(s.last_activity),
        "state_since": _time(s.state_since),
        "context_percent": s.context_percent,
        "cost_usd": s.cost_usd,
        "config_dir": s.config_dir,
        "kind": s.kind,
        "entrypoint": s.entrypoint,
        "job_id": s.job_id,
        "needs_you_reason": s.needs_you_reason,
        "sources": list(s.sources),
    }


def sessions_json(sessions: Sequence[Session], hooks: HookState | None, now: datetime) -> dict[str, Any]:
    from trayapp.core.session_merge import needs_you_count

    last = hooks.last_event if hooks is not None else None
    return {
        "schema_version": SESSIONS_SCHEMA_VERSION,
        "generated_at": now.isoformat(),
        "needs_you": needs_you_count(sessions),
        "hooks": {
            "from_running_app": hooks is not None,
            "events_seen": hooks.events_seen if hooks is not None else 0,
            "last_event": None
            if last is None
            else {"event": last.event, "received_at": last.received_at.isoformat()},
        },
        "sessions": [session_json(s) for s in sessions],
    }


def add_telemetry(document: dict[str, Any], totals: TelemetryTotals | None) -> dict[str, Any]:
    """``document`` (the sessions JSON) with each session's Claude Code telemetry figures (None when
    none arrived) and a top-level ``telemetry`` summary; unchanged when the receiver is off."""
    if totals is None:
        return document
    from trayapp.core.telemetry import LABEL

    for session in document["sessions"]:
        figures = totals.sessions.get(session["session_id"])
        session["telemetry"] = (
            None
            if figures is None
            else {
                "requests": figures.requests,
                "tokens": figures.tokens,
                "cost_usd": round(figures.cost_usd, 6),
                "last_at": _iso(figures.last_at),
                "last_model": figures.last_model,
            }
        )
    document["telemetry"] = {
        "label": LABEL,
        "today_cost_usd": round(totals.today_cost_usd, 6),
        "today_tokens": totals.today_tokens,
        "last_received_at": _iso(totals.last_received_at),
    }
    return document


def periods_json(kind: str, report: Report, projects: dict[str, str]) -> dict[str, Any]:
    items: list[dict[str, Any]] = []
    for key, t in report.rows.items():
        row: dict[str, Any] = {_KEYS[kind]: key}
        if kind == "session":
            row["projectPath"] = projects.get(key, "")
        if kind in ("session", "project"):
            row["firstActivity"] = iso_ms(t.first_ts)
            row["lastActivity"] = iso_ms(t.last_ts)
        row.update(t.row_json())
        items.append(row)
    if kind == "daily":
        for day, models in report.stats_cache.items():
            items.append(
                {
                    "date": day,
                    "source": "stats-cache",
                    "note": "transcripts gone; Claude Code's stats-cache.json: input+output tokens only, "
                    "UTC day, not de-duplicated; excluded from totals",
                    "totalTokens": sum(models.values()),
                    "modelsUsed": sorted(models),
                    "tokensByModel": models,
                }
            )
        items.sort(key=lambda r: r["date"])
    out: dict[str, Any] = {_LISTS[kind]: items, "totals": report.totals.token_json()}
    if report.unpriced:
        out["unpricedModels"] = sorted(report.unpriced)
    return out
