"""Popup panel with this machine's Claude Code usage from the transcripts: today's tokens and cost,
the active 5-hour block with its burn rate and projection, the top sessions and projects, and a
progress bar during a long (first) scan. Everything is labelled as a local estimate.

The panel only displays values: the :class:`~trayapp.services.tracking_service.TrackingService`
does the scanning off the GUI thread and feeds :meth:`LocalUsagePanel.set_summary` and
:meth:`LocalUsagePanel.set_progress` through its signals (:func:`make_panel` wires them). The
"Export CSV" menu asks for a file name and hands the export to the service.

Signals:
    export_requested(str, str): what (``daily``/``sessions``/``snapshots``) and the chosen path.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMenu,
    QProgressBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from trayapp.core.humanize import display_text, format_money, format_tokens
from trayapp.core.telemetry import LABEL as TELEMETRY_LABEL
from trayapp.runtime import spawn
from trayapp.ui.panels import button_style
from trayapp.ui.theme import Theme, muted_style, text_style

log = logging.getLogger(__name__)

LABEL = "local estimate: this machine, Claude Code only"
TOP = 3


def _tokens(count: int) -> str:
    return format_tokens(count, compact=True)  # a narrow popup: 1.2M


def _cost(tally: Any) -> str:
    return format_money(tally.cost, unpriced=bool(tally.unpriced))


def short_path(path: str, keep: int = 2) -> str:
    parts = [p for p in path.replace("\\", "/").split("/") if p]
    return "/".join(parts[-keep:]) if parts else path or "(unknown)"


class LocalUsagePanel(QWidget):
    """The local-usage section of the popup (see the module docstring)."""

    export_requested = Signal(str, str)

    def __init__(self, parent: QWidget | None = None, tz: Any = None) -> None:
        super().__init__(parent)
        self.tz = tz
        self._muted = "palette(mid)"  # the popup's muted colour once set_theme ran
        self._summary: Any = None  # the last summary shown
        self._telemetry: Any = None  # Claude Code's telemetry totals, when the receiver runs
        root = QVBoxLayout(self)
        root.setContentsMargins(16, 8, 16, 8)
        root.setSpacing(4)
        head = QHBoxLayout()
        self.heading = QLabel("Local usage today")
        self.heading.setStyleSheet("font-weight: 600;")
        head.addWidget(self.heading)
        head.addStretch(1)
        self.export_button = QToolButton(self)
        self.export_button.setText("Export CSV ▾")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.export_button)
        for what, text in (
            ("daily", "Daily totals…"),
            ("sessions", "Sessions…"),
            ("snapshots", "Limit history…"),
        ):
            action = menu.addAction(text)
            action.triggered.connect(lambda _=False, w=what: self._ask_export(w))
        self.export_button.setMenu(menu)
        head.addWidget(self.export_button)
        root.addLayout(head)
        self.caption = QLabel(LABEL)
        self.caption.setStyleSheet("color: palette(mid); font-size: 11px;")
        root.addWidget(self.caption)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 1000)
        self.progress.setFormat("Reading Claude Code history… %p%")
        self.progress.setVisible(False)
        root.addWidget(self.progress)
        self.today = QLabel("Waiting for the first scan…")
        root.addWidget(self.today)
        self.block = QLabel("")
        self.sessions = QLabel("")
        self.projects = QLabel("")
        for label in (self.block, self.sessions, self.projects):
            label.setWordWrap(True)
            label.setVisible(False)  # until a summary fills it
            root.addWidget(label)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setVisible(False)
        root.addWidget(self.message)

    def set_theme(self, theme: Theme) -> None:
        """Follow the popup's palette (called by ``Popup.add_panel`` and on theme changes)."""
        self._muted = theme.muted
        self.heading.setStyleSheet(text_style(theme, "font-weight: 600;"))
        self.caption.setStyleSheet(muted_style(theme, "font-size: 11px;"))
        for label in (self.today, self.block, self.sessions, self.projects, self.message):
            label.setStyleSheet(text_style(theme))
        self.export_button.setStyleSheet(button_style(theme))
        if self._summary is not None:
            self._show_lists(self._summary)  # their titles carry the muted colour inline

    # ----- slots (GUI thread)
    def set_progress(self, done: int, total: int) -> None:
        if total <= 0:
            return
        self.progress.setValue(int(1000 * min(done, total) / total))
        self.progress.setVisible(done < total)

    def set_message(self, text: str) -> None:
        self.message.setText(display_text(text))
        self.message.setVisible(bool(text))

    def set_summary(self, summary: Any) -> None:
        """Show a :class:`~trayapp.services.ledger_service.TodaySummary`."""
        self.progress.setVisible(False)
        self.set_message("")
        self._summary = summary
        self._show_today()
        self.block.setText(self._block_text(summary))
        self._show_lists(summary)
        for label in (self.block, self.sessions, self.projects):
            label.setVisible(bool(label.text()))  # an empty label still takes a line's spacing
        self.adjustSize()

    def set_telemetry(self, totals: Any) -> None:
        """Claude Code's telemetry totals (``TelemetryTotals``; None: receiver off): between two
        transcript scans its "today" is fresher, and shown when it is higher, saying so."""
        self._telemetry = totals
        self._show_today()

    def _show_today(self) -> None:
        t = self._summary.tally if self._summary is not None else None
        tele = self._telemetry
        fresher = tele is not None and tele.today_tokens > 0
        fresher = fresher and (
            t is None or tele.today_tokens > t.total or tele.today_cost_usd > t.cost + 0.005
        )
        if fresher:
            source = f"<span style='color: {self._muted}'>Claude Code telemetry</span>"
            tokens, cost = _tokens(tele.today_tokens), format_money(tele.today_cost_usd)
            self.today.setText(f"<b>{tokens}</b> tokens · <b>{cost}</b> · {source}")
            scanned = f"; the last transcript scan: {_tokens(t.total)} tokens, {_cost(t)}" if t else ""
            self.today.setToolTip(f"{TELEMETRY_LABEL}, newer than the transcripts{scanned}")
        elif t is None:
            return
        elif t.entries == 0:
            self.today.setText("No Claude Code requests today.")
        else:
            self.today.setText(f"<b>{_tokens(t.total)}</b> tokens · <b>{_cost(t)}</b> · {t.entries} requests")
            self.today.setToolTip("From this machine's Claude Code transcripts")

    def _show_lists(self, summary: Any) -> None:
        top = [(f"{short_path(p)} ({s[:8]})", tally) for s, p, tally in summary.top_sessions[:TOP]]
        self.sessions.setText(self._list_text("Top sessions", top))
        self.projects.setText(
            self._list_text(
                "Top projects", [(short_path(p), tally) for p, tally in summary.top_projects[:TOP]]
            )
        )

    # ----- text builders
    def _block_text(self, summary: Any) -> str:
        block = summary.block
        if block is None:
            return "No active 5-hour block."
        start = datetime.fromtimestamp(block.start_ms / 1000, self.tz).strftime("%H:%M")
        end = datetime.fromtimestamp(block.end_ms / 1000, self.tz).strftime("%H:%M")
        _, _, _, _, cost = block.sums()
        text = f"5-hour block {start}–{end}: {_tokens(block.total_tokens)} tokens, {format_money(cost)}"
        rate = block.burn_rate()
        if rate is not None:
            per_min = _tokens(int(rate.tokens_per_minute))
            text += f"<br>burn {per_min} tokens/min, {format_money(rate.cost_per_hour)}/h"
        proj = block.projection(summary.now_ms)
        if proj is not None:
            text += f" · projected {_tokens(proj.total_tokens)}, {format_money(proj.total_cost)} by {end}"
        return text

    def _list_text(self, title: str, items: list[tuple[str, Any]]) -> str:
        if not items:
            return ""
        lines = [f"{name}: {_tokens(t.total)}, {_cost(t)}" for name, t in items]
        return f"<span style='color: {self._muted}'>{title}</span><br>" + "<br>".join(lines)

    def _ask_export(self, what: str) -> None:
        default = str(Path.home() / f"claude-{what}.csv")
        path, _ = QFileDialog.getSaveFileName(self, "Export CSV", default, "CSV files (*.csv)")
        if path:
            self.export_requested.emit(what, path)


def make_panel(service: Any, tz: Any = None, telemetry: Any = None) -> LocalUsagePanel:
    """The panel wired to a running :class:`TrackingService`: ``popup.add_panel(make_panel(svc))``;
    ``telemetry`` (a ``TelemetryService``) feeds :meth:`LocalUsagePanel.set_telemetry`."""
    panel = LocalUsagePanel(tz=tz)
    if telemetry is not None:
        unsubscribe = telemetry.subscribe(lambda: panel.set_telemetry(telemetry.totals()))
        panel.destroyed.connect(lambda *_: unsubscribe())
        panel.set_telemetry(telemetry.totals())
    service.summary_changed.connect(panel.set_summary)
    service.scan_progressed.connect(panel.set_progress)
    service.scan_failed.connect(panel.set_message)
    service.export_finished.connect(lambda path, n: panel.set_message(f"Exported {n} rows to {path}"))

    def export(what: str, path: str) -> None:
        spawn(service.export_csv(what, Path(path)), name="export-csv")

    panel.export_requested.connect(export)
    if getattr(service, "summary", None) is not None:
        panel.set_summary(service.summary)
    return panel
