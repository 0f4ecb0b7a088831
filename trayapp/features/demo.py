"""The demo's live sessions (a feature module, see :mod:`trayapp.app_features`).

With ``--demo`` the sessions service reads the made-up sessions of
:func:`trayapp.services.demo_seed.sessions_reader` instead of Claude Code's registry, jobs and
status line captures: the panel and the tray badge show a lively picture, and no made-up session
is ever written where a real one would be read. Without ``--demo`` it does nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from trayapp.app import ClaudeWatch


def attach(cw: ClaudeWatch) -> None:
    """Swap the sessions service's reader for the demo's (before the service starts reading)."""
    if not cw.demo:
        return
    from trayapp.services.demo_seed import sessions_reader

    cw.sessions.service.reader = sessions_reader(cw.clock.now())
