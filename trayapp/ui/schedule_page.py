"""The Settings dialog's "Window schedule" page: turn the scheduler on or off, pick a preset, list
the anchors with each one's mode (Remind, or Auto-start with its cost line) and whether it may act
in quiet hours, add or remove anchors, pause (today, or until a date), and "even when Claude Watch
is not running" (the OS timer).

A view: every change is a new :class:`~trayapp.core.schedule.Plan` sent as ``plan_requested``;
:func:`make_page` hands it to the scheduler service (saved on the io lane) and shows a refusal
inline. The page redraws from ``plan_changed``, so it always shows the plan in force.

Signals:
    plan_requested(object): the plan the user asked for (the OS timer switch is part of it: the
        service makes the timer follow each saved plan).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from PySide6.QtCore import QDate, QTime, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTimeEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from trayapp.core.humanize import display_text
from trayapp.core.schedule import (
    ALL_DAYS,
    CUSTOM_LABEL,
    PRESETS,
    WEEKDAYS,
    Anchor,
    AnchorMode,
    Plan,
    PlanError,
    coverage,
    format_days,
    from_preset,
    validate,
)
from trayapp.runtime import try_spawn

if TYPE_CHECKING:
    from collections.abc import Callable

    from trayapp.services.scheduler_service import SchedulerService

log = logging.getLogger(__name__)

COST_LINE = (
    "Auto-start runs `claude -p` once with Haiku: a few tokens; headless use may be billed separately. "
    "The start is verified (the window's reset about 5 h later), or you are told it did not open."
)
DAY_CHOICES = (("Every day", ALL_DAYS), ("Mon-Fri", WEEKDAYS), ("Sat, Sun", frozenset({5, 6})))
MODES = (("Remind", AnchorMode.REMIND), ("Auto-start", AnchorMode.AUTO))
PAUSES = ("Not paused", "Paused for today", "Paused until…")


def end_of_today(now: datetime, tz: ZoneInfo) -> datetime:
    """The next local midnight (a pause "for today")."""
    tomorrow = now.astimezone(tz).date() + timedelta(days=1)
    return datetime.combine(tomorrow, time(0), tz)


class SchedulePage(QWidget):
    """The page (see the module docstring)."""

    plan_requested = Signal(object)

    def __init__(self, tz: ZoneInfo, now: Callable[[], datetime], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("schedule-page")
        self.tz, self.now = tz, now
        self.plan = Plan()
        self._loading = False
        root = QVBoxLayout(self)
        intro = QLabel(
            "Plan when your 5-hour windows start: at each anchor, if no window is open, Claude Watch "
            "reminds you (or, for an auto-start anchor, starts one and checks it opened). Drag on the "
            "dashboard's schedule to move anchors."
        )
        intro.setWordWrap(True)
        root.addWidget(intro)
        form = QFormLayout()
        self.enabled = QCheckBox("Use the window scheduler")
        self.enabled.toggled.connect(lambda on: self._request(replace(self.plan, enabled=on)))
        form.addRow(self.enabled)
        self.preset = QComboBox()
        self.preset.addItem(CUSTOM_LABEL, "custom")
        for key, (label, anchors) in PRESETS.items():
            self.preset.addItem(f"{label} ({', '.join(a.id for a in anchors)})", key)
        self.preset.activated.connect(self._preset_chosen)
        form.addRow("Preset", self.preset)
        self.pause = QComboBox()
        self.pause.addItems(PAUSES)
        self.pause_date = QDateEdit()
        self.pause_date.setCalendarPopup(True)
        self.pause_date.setDisplayFormat("ddd d MMM yyyy")
        pause_row = QHBoxLayout()
        pause_row.addWidget(self.pause)
        pause_row.addWidget(self.pause_date)
        pause_row.addStretch(1)
        self.pause.activated.connect(self._pause_changed)
        self.pause_date.dateChanged.connect(self._pause_changed)
        form.addRow("Pause", pause_row)
        self.os_timer = QCheckBox("Auto-start even when Claude Watch is not running (a system timer)")
        self.os_timer.setToolTip(
            display_text(
                "A systemd user timer, LaunchAgent or scheduled task per auto-start anchor runs "
                "`claude-watch window start --verify` (the same guarded start); removed when off"
            )
        )
        self.os_timer.toggled.connect(lambda on: self._request(replace(self.plan, os_timer=on)))
        form.addRow(self.os_timer)
        self.timer_note = QLabel("")
        self.timer_note.setWordWrap(True)
        self.timer_note.setVisible(False)
        form.addRow(self.timer_note)
        root.addLayout(form)
        self.anchors_box = QGroupBox("Anchors (at least 5 hours apart, up to 4 a day)")
        self.anchor_rows = QVBoxLayout(self.anchors_box)
        root.addWidget(self.anchors_box)
        add = QHBoxLayout()
        self.new_time = QTimeEdit(QTime(7, 0))
        self.new_time.setDisplayFormat("HH:mm")
        self.new_days = QComboBox()
        for label, days in DAY_CHOICES:
            self.new_days.addItem(label, days)
        self.add_button = QPushButton("Add anchor")
        self.add_button.clicked.connect(self._add)
        add.addWidget(QLabel("New anchor at"))
        add.addWidget(self.new_time)
        add.addWidget(self.new_days)
        add.addWidget(self.add_button)
        add.addStretch(1)
        root.addLayout(add)
        self.cost = QLabel(display_text(COST_LINE))
        self.cost.setWordWrap(True)
        self.cost.setStyleSheet("font-size: 11px;")
        root.addWidget(self.cost)
        self.error = QLabel("")
        self.error.setWordWrap(True)
        self.error.setProperty("cwRole", "error")  # the theme's error colour (ui/theme.py)
        self.error.setVisible(False)
        root.addWidget(self.error)
        root.addStretch(1)

    # ----- values in
    def set_plan(self, plan: Plan) -> None:
        self._loading = True
        try:
            self.plan = plan
            self.enabled.setChecked(plan.enabled)
            self.os_timer.setChecked(plan.os_timer)
            index = self.preset.findData(plan.preset)
            self.preset.setCurrentIndex(max(0, index))
            self._show_pause(plan)
            self._rebuild_rows()
        finally:
            self._loading = False

    def set_timer_note(self, ok: bool, message: str) -> None:
        """What the OS timer did after a save ("OS timer installed for 2 auto-start anchor(s).")."""
        self.timer_note.setText(message)
        self.timer_note.setProperty("cwRole", "" if ok else "error")
        self.timer_note.style().unpolish(self.timer_note)  # a changed property needs a new polish
        self.timer_note.style().polish(self.timer_note)
        self.timer_note.setVisible(bool(message))

    def disable_os_timer(self, why: str) -> None:
        self.os_timer.setEnabled(False)
        self.os_timer.setToolTip(why)

    def show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(bool(message))

    # ----- the rows
    def _rebuild_rows(self) -> None:
        while self.anchor_rows.count():
            item = self.anchor_rows.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        today = self.now().astimezone(self.tz).date()
        for anchor in sorted(self.plan.anchors, key=lambda a: a.id):
            self.anchor_rows.addWidget(self._row(anchor, today))
        if not self.plan.anchors:
            self.anchor_rows.addWidget(QLabel("No anchors: pick a preset or add one."))

    def _row(self, anchor: Anchor, today: date) -> QWidget:
        row = QWidget()
        row.setObjectName(f"anchor-{anchor.id}")
        line = QHBoxLayout(row)
        line.setContentsMargins(0, 0, 0, 0)
        text = QLabel(f"{coverage(anchor, today, self.tz)} · {format_days(anchor.days)}")
        line.addWidget(text, 1)
        mode = QComboBox()
        for label, value in MODES:
            mode.addItem(label, value)
        mode.setCurrentIndex(mode.findData(anchor.mode))
        mode.activated.connect(
            lambda _i, a=anchor, m=mode: self._replace(a, replace(a, mode=AnchorMode(m.currentData())))
        )
        line.addWidget(mode)
        quiet = QCheckBox("in quiet hours")
        quiet.setToolTip("May remind or start during alerts.quiet_hours")
        quiet.setChecked(anchor.in_quiet_hours)
        quiet.toggled.connect(lambda on, a=anchor: self._replace(a, replace(a, in_quiet_hours=on)))
        line.addWidget(quiet)
        remove = QToolButton()
        remove.setText("Remove")
        remove.clicked.connect(lambda _=False, a=anchor: self._remove(a))
        line.addWidget(remove)
        return row

    # ----- intents
    def _request(self, plan: Plan) -> None:
        if self._loading:
            return
        try:
            plan = validate(plan)
        except PlanError as exc:
            self.show_error(str(exc))
            self.set_plan(self.plan)  # back to the plan in force
            return
        self.show_error("")
        self.plan_requested.emit(plan)

    def _replace(self, old: Anchor, new: Anchor) -> None:
        anchors = tuple(new if a == old else a for a in self.plan.anchors)
        self._request(replace(self.plan, anchors=anchors, preset="custom"))

    def _remove(self, anchor: Anchor) -> None:
        anchors = tuple(a for a in self.plan.anchors if a != anchor)
        self._request(replace(self.plan, anchors=anchors, preset="custom"))

    def _add(self) -> None:
        t = self.new_time.time()
        anchor = Anchor(time(t.hour(), t.minute()), self.new_days.currentData())
        if any(a.id == anchor.id for a in self.plan.anchors):
            self.show_error(f"There is already an anchor at {anchor.id}.")
            return
        self._request(replace(self.plan, anchors=(*self.plan.anchors, anchor), preset="custom"))

    def _preset_chosen(self, index: int) -> None:
        key = self.preset.itemData(index)
        if key == "custom" or self._loading:
            return
        try:
            self._request(from_preset(key, self.plan))
        except PlanError as exc:
            self.show_error(str(exc))

    def _show_pause(self, plan: Plan) -> None:
        now = self.now()
        paused = plan.paused_until if plan.paused_until is not None and plan.paused_until > now else None
        if paused is None:
            self.pause.setCurrentIndex(0)
        elif paused == end_of_today(now, self.tz):
            self.pause.setCurrentIndex(1)
        else:
            self.pause.setCurrentIndex(2)
        day = (paused or now + timedelta(days=1)).astimezone(self.tz).date()
        self.pause_date.setDate(QDate(day.year, day.month, day.day))
        self.pause_date.setEnabled(self.pause.currentIndex() == 2)

    def _pause_changed(self, *_: object) -> None:
        if self._loading:
            return
        choice = self.pause.currentIndex()
        self.pause_date.setEnabled(choice == 2)
        now = self.now()
        until: datetime | None = None
        if choice == 1:
            until = end_of_today(now, self.tz)
        elif choice == 2:
            d = self.pause_date.date()
            # "until a date": paused through that day, acting again at the next midnight
            until = datetime.combine(date(d.year(), d.month(), d.day()) + timedelta(days=1), time(0), self.tz)
        self._request(replace(self.plan, paused_until=until.astimezone(UTC) if until else None))


def make_page(service: SchedulerService, now: Callable[[], datetime]) -> SchedulePage:
    """The page wired to the scheduler service (saves on the io lane, refusals shown inline)."""
    page = SchedulePage(service.tz, now)
    page.set_plan(service.plan)
    service.plan_changed.connect(page.set_plan)
    service.timer_synced.connect(page.set_timer_note)
    if service.ports.sync_timer is None:
        page.disable_os_timer("Not in demo mode: the demo never installs system timers")

    async def save(plan: Plan) -> None:
        try:
            await service.save_plan(plan)
        except (PlanError, OSError) as exc:
            page.show_error(f"Not saved: {exc}")
            page.set_plan(service.plan)

    page.plan_requested.connect(lambda plan: try_spawn(save(plan), "save the window plan", group=service))
    return page
