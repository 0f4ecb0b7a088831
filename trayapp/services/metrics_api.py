"""``GET /metrics``: the services' values gathered into the Prometheus snapshot and rendered.

The local API (``services/local_api``) serves the route on loopback with the same token rules as
every data route; ``services/metrics_listener`` can also serve it alone on another address. What
goes in: the usage state the poller last derived, :class:`~trayapp.core.prom_snapshot.Activity`
(the poller's attempt counts and policy, the merged session list, hook event counts: see
:func:`activity_source`) and Claude Code's telemetry totals when the receiver runs
(``ApiSources.telemetry``). Gathering reads in-memory values only and rendering is pure, so a
scrape costs the loop well under a millisecond per hundred series (``bench/bench_metrics.py``).
"""

from __future__ import annotations

import functools
import inspect
import platform
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from trayapp.core.prom_metrics import CONTENT_TYPE, BuildInfo, render
from trayapp.core.prom_snapshot import Activity, snapshot
from trayapp.core.telemetry import TelemetryTotals
from trayapp.services.local_server import Response

if TYPE_CHECKING:
    from trayapp.services.sessions_service import SessionsService
    from trayapp.services.usage_service import UsageService


@functools.cache
def build_info() -> BuildInfo:
    from PySide6.QtCore import qVersion

    import trayapp

    return BuildInfo(trayapp.version(), platform.python_version(), qVersion())


def activity_source(usage: UsageService | None, sessions: SessionsService | None) -> Callable[[], Activity]:
    """What ``ApiSources.activity`` calls per scrape: in-memory values of the running services."""

    def activity() -> Activity:
        polls: dict[str, int] = {}
        cooldown = next_poll = None
        failures = 0
        engine = getattr(usage, "engine", None)  # None: no poller (or a stand-in without one)
        if engine is not None:
            polls = dict(getattr(engine, "outcomes", {}))
            cooldown = max(engine.policy.cooldowns().values(), default=None)
            next_poll = engine.next_poll_at()
            failures = engine.policy.failures
        states: tuple[str, ...] = ()
        agents: tuple[str, ...] = ()
        hooks: dict[str, int] = {}
        if sessions is not None:
            states = tuple(s.state.value for s in sessions.sessions)
            agents = tuple(s.state.value for s in sessions.sessions if s.job_id is not None)
            hooks = dict(getattr(sessions, "events_by_name", {}))
        return Activity(polls, cooldown, next_poll, failures, states, agents, hooks)

    return activity


async def telemetry_totals(sources: Any) -> TelemetryTotals | None:
    """``sources.telemetry`` (a value, or a callable returning one or an awaitable of one) when
    the telemetry receiver feeds the API; None otherwise."""
    source = getattr(sources, "telemetry", None)
    value = source() if callable(source) else source
    if inspect.isawaitable(value):
        value = await value
    return value if isinstance(value, TelemetryTotals) else None


async def metrics_text(sources: Any, now: datetime | None = None) -> str:
    """The exposition for ``sources`` (``local_api.ApiSources``) at ``now``."""
    activity_of: Callable[[], Activity] | None = getattr(sources, "activity", None)
    activity = activity_of() if activity_of is not None else Activity()
    telemetry = await telemetry_totals(sources)
    when = now if now is not None else sources.now()
    return render(snapshot(sources.state(), activity, telemetry, build_info(), when))


async def metrics_response(sources: Any) -> Response:
    return Response(200, (await metrics_text(sources)).encode("utf-8", "replace"), CONTENT_TYPE)
