"""Optional subsystems of the tray app, each in a module of its own, so adding one never grows the
composition root (:mod:`trayapp.app`). Feature modules live in ``trayapp/features/`` (a room that,
like the app, may import services, channels and ui; services never import the app or a feature).

A feature module may define either or both of:

- ``attach(cw: ClaudeWatch) -> None``: synchronous, during :meth:`ClaudeWatch.build`, before any
  window exists. Register popup panels (``cw.panel_factories.append``), Settings pages
  (``cw.settings_pages.append((title, factory))``) and signal wiring here.
- ``async start(cw: ClaudeWatch) -> Stop | None``: once the usage service, tracking and the sessions
  hub run (``cw.usage``, ``cw.tracking``, ``cw.sessions``); returns its stop (awaited at shutdown,
  last started first) or None.

A feature that fails to import, attach or start is logged and skipped: the tray keeps working.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Awaitable, Callable
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from trayapp.app import ClaudeWatch

log = logging.getLogger(__name__)

# (name, module), started in this order. Add yours here.
FEATURES: tuple[tuple[str, str], ...] = (
    ("theme", "trayapp.ui.theme"),
    ("demo sessions", "trayapp.features.demo"),
    ("refresh feedback", "trayapp.features.refresh_feedback"),
    ("window scheduler", "trayapp.features.scheduler"),
    ("metrics listener", "trayapp.features.metrics"),
    ("login freshness", "trayapp.features.login"),
    ("achievements", "trayapp.features.achievements"),
    ("agents", "trayapp.features.agents"),
    ("agent containers", "trayapp.features.agent_containers"),
    ("accounts", "trayapp.features.accounts"),
    ("accounts page", "trayapp.features.accounts_page"),
)


# Attached before the tray icon shows (the rest after it is up): the look of the menu and windows.
EARLY = frozenset({"theme"})


def _modules(early: bool | None) -> list[tuple[str, ModuleType]]:
    found = []
    for name, module_name in FEATURES:
        if early is not None and (name in EARLY) != early:
            continue
        try:
            found.append((name, importlib.import_module(module_name)))
        except Exception:
            log.exception("feature %s unavailable (import failed)", name)
    return found


def attach_all(cw: ClaudeWatch, *, early: bool | None = None) -> list[tuple[str, ModuleType]]:
    """Run the features' ``attach`` (``early``: only those in :data:`EARLY`, or only the others;
    None: all); returns the features that attached (for :func:`start_all`)."""
    attached = []
    for name, module in _modules(early):
        attach: Callable[[ClaudeWatch], None] | None = getattr(module, "attach", None)
        try:
            if attach is not None:
                attach(cw)
        except Exception:
            log.exception("feature %s unavailable (attach failed)", name)
            continue
        attached.append((name, module))
    return attached


async def start_all(cw: ClaudeWatch, attached: list[tuple[str, ModuleType]]) -> None:
    """Start every attached feature, registering each one's stop with the app."""
    for name, module in attached:
        start: Callable[[ClaudeWatch], Awaitable[Callable[[], Awaitable[object]] | None]] | None
        start = getattr(module, "start", None)
        if start is None:
            continue
        try:
            stop = await start(cw)
        except Exception:
            log.exception("feature %s could not start", name)
            continue
        if stop is not None:
            cw.on_stop(name, stop)
