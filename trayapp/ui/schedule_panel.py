"""The popup's "Window schedule" section: the schedule view (today's anchors, the current window,
past starts), the next anchor and what it buys, the last start's outcome, the weekly pace advice,
and a "Start now" button for the guarded start by hand.

The panel displays values and emits intents; :func:`make_panel` wires it to the
:class:`~trayapp.services.scheduler_service.SchedulerService` (plan, attempts, starts) and the usage
service (the account state). Saving an edited plan runs on the io lane through the service; a plan
the service refuses puts the reason back under the view.

Signals:
    start_requested(): the "Start now" button.
    plan_saved(object): an edit to save (a validated Plan).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from trayapp.core.humanize import display_text
from trayapp.core.models import AccountState
from trayapp.core.schedule import (
    WINDOW,
    AnchorMode,
    Attempt,
    Outcome,
    Plan,
    PlanError,
    coverage,
    is_paused,
    next_anchor,
    plan_from_reset,
    preset_label,
    weekly_pace,
)
from trayapp.runtime import try_spawn
from trayapp.ui.panels import button_style
from trayapp.ui.schedule_view import ScheduleView
from trayapp.ui.theme import Theme, muted_style, text_style

if TYPE_CHECKING:
    from trayapp.core.clock import Clock
    from trayapp.services.scheduler_service import SchedulerService

log = logging.getLogger(__name__)

OUTCOME_WORDS = {
    Outcome.VERIFIED: "verified",
    Outcome.NOT_OPENED: "did not open the window",
    Outcome.REFUSED: "not started",
    Outcome.FAILED: "failed",
    Outcome.REMINDED: "reminded",
    Outcome.SKIPPED: "skipped",
}


def weekly_advice(state: AccountState | None, now: datetime, tz: ZoneInfo) -> str:
    """The weekly pace advice from the state's weekly window ("" without one)."""
    if state is None:
        return ""
    weekly = next((ws for ws in state.windows if ws.window.id == "seven_day"), None)
    if weekly is None:
        return ""
    w = weekly.window
    return weekly_pace(w.utilization, w.resets_at, weekly.burn_rate_per_hour, now, tz).text


def next_text(plan: Plan, now: datetime, tz: ZoneInfo, resets_at: datetime | None = None) -> str:
    """ "Next: 12:00 -> window 12:00-17:00, next free at 17:00" (or why there is none). An anchor
    that falls inside the open window (``resets_at``) says when its window can really start."""
    if not plan.enabled:
        return "The scheduler is off (Settings, Window schedule)."
    if not plan.anchors:
        return "No anchors yet."
    found = next_anchor(plan, now, tz)
    if found is None:
        return "No anchor ahead."
    anchor, at = found
    local = at.astimezone(tz)
    day = "" if local.date() == now.astimezone(tz).date() else f"{local.strftime('%a')} "
    mode = " · auto-start" if anchor.mode is AnchorMode.AUTO else ""
    paused = ""
    if is_paused(plan, now) and plan.paused_until is not None:
        paused = f" (paused until {plan.paused_until.astimezone(tz).strftime('%a %H:%M')})"
    text = coverage(anchor, local.date(), tz)
    starts = {a.id: start for a, start, _ in plan_from_reset(plan, resets_at, now, tz)}
    later = starts.get(anchor.id)
    if later is not None and later > at:  # it waits for the open window to end
        start, end = (t.astimezone(tz).strftime("%H:%M") for t in (later, later + WINDOW))
        text = f"{anchor.id} -> window {start}-{end} (after the open one), next free at {end}"
    return f"Next: {day}{text}{mode}{paused}"


def last_text(attempts: Sequence[Attempt], tz: ZoneInfo) -> str:
    if not attempts:
        return ""
    last = attempts[-1]
    when = last.at.astimezone(tz).strftime("%a %H:%M")
    detail = f": {last.detail}" if last.detail and last.outcome is not Outcome.REMINDED else ""
    return f"Last: {when} {OUTCOME_WORDS.get(last.outcome, last.outcome.value)}{detail}"


class SchedulePanel(QWidget):
    """The popup section (see the module docstring)."""

    start_requested = Signal()
    plan_saved = Signal(object)

    def __init__(self, clock: Clock, tz: ZoneInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("schedule-panel")
        self.clock, self.tz = clock, tz
        self.plan = Plan()
        self.state: AccountState | None = None
        self.attempts: list[Attempt] = []
        root = QVBoxLayout(self)
        root.setContentsMargins(16, 8, 16, 8)
        root.setSpacing(4)
        head = QHBoxLayout()
        self.heading = QLabel("Window schedule")
        head.addWidget(self.heading)
        self.preset = QLabel("")
        head.addWidget(self.preset)
        head.addStretch(1)
        self.start_button = QToolButton(self)
        self.start_button.setText("Start now")
        self.start_button.setToolTip(
            display_text(
                "Start a 5-hour window now: runs `claude -p` once with Haiku (a few tokens; headless "
                "use may be billed separately) and checks that the window opened"
            )
        )
        self.start_button.clicked.connect(self.start_requested)
        head.addWidget(self.start_button)
        root.addLayout(head)
        self.view = ScheduleView(self)
        self.view.plan_edited.connect(self.plan_saved)
        root.addWidget(self.view)
        self.next_label = QLabel("")
        self.last_label = QLabel("")
        self.pace_label = QLabel("")
        for label in (self.next_label, self.last_label, self.pace_label):
            label.setWordWrap(True)
            root.addWidget(label)
        self.timer = QTimer(self)
        self.timer.setInterval(60_000)  # "now" and the next anchor move by the minute
        self.timer.timeout.connect(self.refresh)
        self.timer.start()
        self.refresh()

    def set_theme(self, theme: Theme) -> None:
        self.view.set_theme(theme)
        self.heading.setStyleSheet(text_style(theme, "font-weight: 600;"))
        self.preset.setStyleSheet(muted_style(theme, "font-size: 11px;"))
        for label in (self.next_label, self.last_label, self.pace_label):
            label.setStyleSheet(text_style(theme, "font-size: 11px;"))
        self.start_button.setStyleSheet(button_style(theme))

    # ----- values in
    def set_plan(self, plan: Plan) -> None:
        self.plan = plan
        self.refresh()

    def set_attempts(self, attempts: Sequence[Attempt]) -> None:
        self.attempts = list(attempts)
        self.refresh()

    def set_state(self, state: AccountState) -> None:
        self.state = state
        self.refresh()

    def set_starting(self, running: bool) -> None:
        self.start_button.setEnabled(not running)
        self.start_button.setText("Starting…" if running else "Start now")

    def show_refusal(self, reason: str) -> None:
        self.view.message = reason
        self.view.update()

    def refresh(self) -> None:
        now = self.clock.now().astimezone(UTC)
        self.view.set_data(self.plan, self.state, self.attempts, now, self.tz)
        self.preset.setText(preset_label(self.plan))
        self.next_label.setText(next_text(self.plan, now, self.tz, self.view.resets_at))
        last = last_text(self.attempts, self.tz)
        self.last_label.setText(last)
        self.last_label.setVisible(bool(last))
        pace = weekly_advice(self.state, now, self.tz)
        self.pace_label.setText(pace)
        self.pace_label.setVisible(bool(pace))


def make_panel(
    service: SchedulerService, clock: Clock, state: Callable[[], AccountState | None] | None = None
) -> SchedulePanel:
    """The panel wired to the scheduler service (plan, attempts, starts, and the usage states it is
    given); ``state()`` gives the state at build time."""
    panel = SchedulePanel(clock, service.tz)
    panel.set_plan(service.plan)
    panel.set_attempts(service.attempts)
    if state is not None and (current := state()) is not None:
        panel.set_state(current)
    service.plan_changed.connect(panel.set_plan)
    service.attempts_changed.connect(panel.set_attempts)
    service.start_running.connect(panel.set_starting)
    service.state_seen.connect(panel.set_state)
    panel.set_starting(service.starting)

    async def save(plan: Plan) -> None:
        try:
            await service.save_plan(plan)
        except PlanError as exc:
            panel.show_refusal(str(exc))
            panel.set_plan(service.plan)
        except OSError as exc:
            log.warning("could not save the plan: %s", exc)
            panel.show_refusal(f"Could not save the plan: {exc}")
            panel.set_plan(service.plan)

    panel.plan_saved.connect(lambda plan: try_spawn(save(plan), "save the window plan", group=service))
    panel.start_requested.connect(lambda: try_spawn(service.start_now(None), "start a window", group=service))
    return panel
