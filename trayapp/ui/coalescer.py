"""A latest-value coalescer: a flood of changes costs a bounded number of repaints.

Its own module (only QtCore) so the agents feature can coalesce its list updates from start
without loading the agents views' widgets (:mod:`trayapp.ui.agents_rows` re-exports it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer

COALESCE_MS = 200  # at most ~5 repaints a second
HIDDEN_MS = 2_000  # for views nobody sees now: they catch up every 2 s, and at once when shown


class Coalescer(QObject):
    """Hands the latest value pushed on to ``deliver`` at most every ``interval_ms``; the first
    after a quiet spell goes at once (a single change shows without delay).

    Attributes:
        delivered: how many times ``deliver`` ran (tests count repaints with it).
    """

    def __init__(
        self, deliver: Callable[[Any], None], interval_ms: int = COALESCE_MS, parent: QObject | None = None
    ):
        super().__init__(parent)
        self.deliver = deliver
        self.delivered = 0
        self._pending: Any = None
        self._has_pending = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._fire)

    def push(self, value: Any) -> None:
        self._pending, self._has_pending = value, True
        if not self._timer.isActive():
            self._fire()

    @property
    def interval_ms(self) -> int:
        return self._timer.interval()

    def set_interval(self, interval_ms: int) -> None:
        """A new spacing (a hidden view asks for fewer repaints, a shown one for its usual)."""
        self._timer.setInterval(interval_ms)

    def flush(self) -> None:
        """Deliver what is pending now (tests; the window opening)."""
        if self._has_pending:
            self._timer.stop()
            self._fire()

    def stop(self) -> None:
        """Drop what is pending and stop the timer (shutdown)."""
        self._timer.stop()
        self._pending, self._has_pending = None, False

    def _fire(self) -> None:
        if not self._has_pending:
            return
        value, self._pending, self._has_pending = self._pending, None, False
        self.delivered += 1
        self._timer.start()  # the next change waits for the interval
        self.deliver(value)
