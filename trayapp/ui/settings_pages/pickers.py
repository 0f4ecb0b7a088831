"""The Settings dialog's pickers for settings a plain field would make a chore: threshold toggle
chips, a quiet-hours time range with an on/off, an ordered check list (status line segments), a
searchable time-zone box and a price table. Each has the face of
:class:`~trayapp.ui.settings_pages.editors.Editor`; :func:`make_editor` picks, for a schema entry,
one of these or one of the plain editors.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSignalBlocker, Qt, QTime
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QCompleter,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTimeEdit,
    QToolButton,
    QVBoxLayout,
)

from trayapp import settings as st
from trayapp.ui.settings_pages.editors import (
    CheckEditor,
    ChoiceEditor,
    Editor,
    LinesEditor,
    PercentEditor,
    SpinEditor,
    TextEditor,
    _row,
    label_and_unit,
)

PRESET_THRESHOLDS = (50, 75, 90, 100)
LOCAL_ZONE = "Local (this computer's time zone)"
PRICE_COLUMNS = ("Model", "Input", "Output", "Cache write 5 m", "Cache write 1 h", "Cache read")


class ChipsEditor(Editor):
    """Whole-number list (alert thresholds) as toggle chips, plus a custom value to add."""

    def __init__(self, setting: st.Setting, unit: str) -> None:
        super().__init__()
        self.unit = unit
        self.presets = PRESET_THRESHOLDS if unit == "%" else ()
        self.chips: dict[int, QPushButton] = {}
        self.chip_row = QHBoxLayout()
        self.chip_row.setContentsMargins(0, 0, 0, 0)
        self.chip_row.setSpacing(6)
        self.custom = QSpinBox()
        self.custom.setObjectName("custom")
        self.custom.setRange(1, 100 if unit == "%" else 10**6)
        self.custom.setValue(80)
        self.custom.setSuffix(unit)
        self.add = QToolButton(text="+")
        self.add.setObjectName("add")
        self.add.setToolTip("Add this threshold")
        self.add.clicked.connect(self._add_custom)
        outer = QHBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addLayout(self.chip_row)
        outer.addSpacing(8)
        outer.addWidget(self.custom)
        outer.addWidget(self.add)
        outer.addStretch(1)
        self._rebuild(set(self.presets), set())

    def _rebuild(self, shown: set[int], checked: set[int]) -> None:
        """Chips for ``shown`` in order (kept where they exist), ``checked`` ticked, quietly."""
        for value in set(self.chips) - shown:
            chip = self.chips.pop(value)
            self.chip_row.removeWidget(chip)
            chip.hide()  # at once: deleteLater waits for the event loop
            chip.deleteLater()
        for value in sorted(shown - set(self.chips)):
            chip = QPushButton(f"{value}{self.unit}", self)
            chip.setObjectName(f"chip:{value}")
            chip.setCheckable(True)
            chip.setProperty("cwRole", "chip")
            chip.toggled.connect(self.changed)
            self.chips[value] = chip
        for index, value in enumerate(sorted(self.chips)):
            chip = self.chips[value]
            self.chip_row.insertWidget(index, chip)
            with QSignalBlocker(chip):
                chip.setChecked(value in checked)

    def _add_custom(self) -> None:
        value = self.custom.value()
        checked = set(self.value()) | {value}
        self._rebuild(set(self.chips) | {value}, checked)
        self.changed.emit()

    def value(self) -> list[int]:
        return sorted(v for v, chip in self.chips.items() if chip.isChecked())

    def set_value(self, value: Any) -> None:
        values = {int(v) for v in value}
        self._rebuild(set(self.presets) | values, values)

    def toggle(self, value: int) -> None:
        """Click the chip of ``value`` (tests and automation)."""
        self.chips[value].click()


class QuietHoursEditor(Editor):
    """An on/off with a from-to time range; saves "HH:MM-HH:MM" or "" (off)."""

    def __init__(self) -> None:
        super().__init__()
        self.on = QCheckBox("From")
        self.on.setObjectName("on")
        self.start = QTimeEdit(QTime(22, 0))
        self.end = QTimeEdit(QTime(7, 0))
        for edit in (self.start, self.end):
            edit.setDisplayFormat("HH:mm")
            edit.timeChanged.connect(self.changed)
        self.setLayout(_row(self.on, self.start, QLabel("to"), self.end))
        self.on.toggled.connect(self._toggled)
        self._toggled(False, announce=False)

    def _toggled(self, on: bool, announce: bool = True) -> None:
        self.start.setEnabled(on)
        self.end.setEnabled(on)
        if announce:
            self.changed.emit()

    def value(self) -> str:
        if not self.on.isChecked():
            return ""
        return f"{self.start.time().toString('HH:mm')}-{self.end.time().toString('HH:mm')}"

    def set_value(self, value: Any) -> None:
        text = str(value).strip()
        start, _, end = text.partition("-")
        with QSignalBlocker(self.on), QSignalBlocker(self.start), QSignalBlocker(self.end):
            self.on.setChecked(bool(text))
            if text:
                self.start.setTime(QTime.fromString(start, "HH:mm"))
                self.end.setTime(QTime.fromString(end, "HH:mm"))
        self._toggled(bool(text), announce=False)


class OrderedChecksEditor(Editor):
    """A list of known items (status line segments): tick the ones to show, drag or move to order."""

    def __init__(self, labels: dict[str, str]) -> None:
        super().__init__()
        self.labels = labels
        self.items = QListWidget()
        self.items.setObjectName("items")
        self.items.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.items.setProperty("cwRole", "checks")
        self.items.setFixedWidth(260)
        self.items.itemChanged.connect(lambda _item: self.changed.emit())
        self.items.model().rowsMoved.connect(lambda *_: self.changed.emit())
        self.up = QToolButton(text="▲")
        self.up.setToolTip("Move up")
        self.down = QToolButton(text="▼")
        self.down.setToolTip("Move down")
        self.up.clicked.connect(lambda: self.move_item(-1))
        self.down.clicked.connect(lambda: self.move_item(1))
        buttons = QVBoxLayout()
        buttons.addWidget(self.up)
        buttons.addWidget(self.down)
        buttons.addStretch(1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.items)
        layout.addLayout(buttons)
        layout.addStretch(1)

    def move_item(self, step: int) -> None:
        row = self.items.currentRow()
        if row < 0 or not 0 <= row + step < self.items.count():
            return
        item = self.items.takeItem(row)
        self.items.insertItem(row + step, item)
        self.items.setCurrentRow(row + step)
        self.changed.emit()

    def value(self) -> list[str]:
        out = []
        for i in range(self.items.count()):
            item = self.items.item(i)
            if item.checkState() == Qt.CheckState.Checked:
                out.append(str(item.data(Qt.ItemDataRole.UserRole)))
        return out

    def set_value(self, value: Any) -> None:
        chosen = [str(v) for v in value]
        order = chosen + [k for k in self.labels if k not in chosen]
        with QSignalBlocker(self.items):
            self.items.clear()
            for key in order:
                item = QListWidgetItem(self.labels.get(key, key))
                item.setData(Qt.ItemDataRole.UserRole, key)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsDropEnabled)
                item.setCheckState(Qt.CheckState.Checked if key in chosen else Qt.CheckState.Unchecked)
                self.items.addItem(item)
        rows = max(1, self.items.count())
        self.items.setFixedHeight(self.items.sizeHintForRow(0) * rows + 2 * self.items.frameWidth() + 4)

    def check(self, key: str, on: bool) -> None:
        """Tick or untick ``key`` (tests and automation)."""
        for i in range(self.items.count()):
            item = self.items.item(i)
            if item.data(Qt.ItemDataRole.UserRole) == key:
                item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)


class TimezoneEditor(Editor):
    """An editable, searchable box of IANA names, the computer's own zone first."""

    def __init__(self) -> None:
        super().__init__()
        from zoneinfo import available_timezones

        self.combo = QComboBox()
        self.combo.setEditable(True)
        self.combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.combo.addItem(LOCAL_ZONE, "")
        for name in sorted(available_timezones()):
            self.combo.addItem(name, name)
        self.combo.setMinimumWidth(280)
        completer = QCompleter(self.combo.model(), self.combo)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.combo.setCompleter(completer)
        self.setLayout(_row(self.combo))
        self.combo.editTextChanged.connect(self._typed)

    def _typed(self, text: str) -> None:
        if text != LOCAL_ZONE and text.startswith(LOCAL_ZONE):  # typed after "Local (...)": replace it
            with QSignalBlocker(self.combo):
                self.combo.setEditText(text[len(LOCAL_ZONE) :])
        self.changed.emit()

    def value(self) -> str:
        text = self.combo.currentText().strip()
        return "" if text in ("", LOCAL_ZONE) else text

    def set_value(self, value: Any) -> None:
        with QSignalBlocker(self.combo):
            self.combo.setEditText(str(value) or LOCAL_ZONE)


class PriceTableEditor(Editor):
    """Price overrides as rows of model and prices (USD per million tokens)."""

    def __init__(self) -> None:
        super().__init__()
        self.table = QTableWidget(0, len(PRICE_COLUMNS))
        self.table.setHorizontalHeaderLabels(list(PRICE_COLUMNS))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().hide()
        self.table.setFixedHeight(120)
        self.table.itemChanged.connect(lambda _item: self.changed.emit())
        self.add = QPushButton("Add model")
        self.remove = QPushButton("Remove")
        self.add.clicked.connect(self.add_row)
        self.remove.clicked.connect(self._remove_row)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table)
        layout.addLayout(_row(self.add, self.remove))

    def add_row(self, cells: tuple[str, ...] = ()) -> None:
        with QSignalBlocker(self.table):
            row = self.table.rowCount()
            self.table.insertRow(row)
            for col in range(len(PRICE_COLUMNS)):
                self.table.setItem(row, col, QTableWidgetItem(cells[col] if col < len(cells) else ""))
        if not cells:
            self.table.setCurrentCell(row, 0)
            first = self.table.item(row, 0)
            if first is not None:
                self.table.editItem(first)

    def _remove_row(self) -> None:
        row = self.table.currentRow()
        if row >= 0:
            self.table.removeRow(row)
            self.changed.emit()

    def value(self) -> list[str]:
        out = []
        for row in range(self.table.rowCount()):
            cells = [
                (item.text().strip() if (item := self.table.item(row, col)) is not None else "")
                for col in range(len(PRICE_COLUMNS))
            ]
            if not any(cells):
                continue
            prices = cells[1:]
            while prices and not prices[-1]:
                prices.pop()
            out.append(f"{cells[0]}={'/'.join(prices)}")
        return out

    def set_value(self, value: Any) -> None:
        with QSignalBlocker(self.table):
            self.table.setRowCount(0)
        for text in value:
            model, _, rest = str(text).partition("=")
            self.add_row((model.strip(), *(p.strip() for p in rest.split("/"))))


SPECIAL: dict[str, type[Editor]] = {
    "alerts.quiet_hours": QuietHoursEditor,
    "tracking.timezone": TimezoneEditor,
    "tracking.price_overrides": PriceTableEditor,
}


def make_editor(setting: st.Setting, label: str | None = None) -> Editor:
    """The editor for ``setting`` (see the module docstring); ``label`` replaces the schema's on a
    check box."""
    schema_label, unit = label_and_unit(setting)
    label = label or schema_label
    special = SPECIAL.get(setting.key)
    editor: Editor
    if special is not None:
        editor = special()
    elif setting.type is bool:
        editor = CheckEditor(label)
    elif setting.type is int and unit == "%" and setting.minimum == 0 and setting.maximum == 100:
        editor = PercentEditor()
    elif setting.type in (int, float):
        editor = SpinEditor(setting, unit)
    elif setting.choices:
        editor = ChoiceEditor(setting)
    elif setting.type is list and setting.item_type is int:
        editor = ChipsEditor(setting, unit)
    elif setting.type is list and setting.choice_labels:
        editor = OrderedChecksEditor(setting.choice_labels)
    elif setting.type is list:
        editor = LinesEditor()
    else:
        editor = TextEditor(setting)
    editor.setObjectName(setting.key)
    return editor
