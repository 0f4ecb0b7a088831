"""One editor per kind of setting, so no field of the Settings dialog is a free-text comma list.

Every editor has the same small face: ``value()`` (the Python value as the user has set it,
not yet validated), ``set_value(value)`` (fill it without announcing a change) and the
``changed`` signal (the user changed it). Here the plain ones: a check box, a spin box or a
percentage slider with the unit taken from the label, a choice box with the schema's readable
names, a text field, a list of lines; the pickers (threshold chips, quiet hours, segments, time
zone, prices) and the factory that chooses are in :mod:`trayapp.ui.settings_pages.pickers`.
Validation stays with the schema (``settings.parse_value``).

Signals (every editor):
    changed(): the user changed the value.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSlider,
    QSpinBox,
    QWidget,
)

from trayapp import settings as st

PRESET_THRESHOLDS = (50, 75, 90, 100)
LOCAL_ZONE = "Local (this computer's time zone)"
PRICE_COLUMNS = ("Model", "Input", "Output", "Cache write 5 m", "Cache write 1 h", "Cache read")


def label_and_unit(setting: st.Setting) -> tuple[str, str]:
    """The field's label without its trailing "(unit)", and that unit ("minutes", "%")."""
    label = setting.label
    if label.endswith(")") and " (" in label:
        head, _, unit = label[:-1].rpartition(" (")
        if setting.type in (int, float, list) and len(unit) <= 12:
            return head, unit
    return label, ""


def _row(*widgets: QWidget, stretch: bool = True) -> QHBoxLayout:
    row = QHBoxLayout()
    row.setContentsMargins(0, 0, 0, 0)
    for w in widgets:
        row.addWidget(w)
    if stretch:
        row.addStretch(1)
    return row


class Editor(QWidget):
    """The common face (see the module docstring)."""

    changed = Signal()

    def value(self) -> Any:
        raise NotImplementedError

    def set_value(self, value: Any) -> None:
        raise NotImplementedError


class CheckEditor(Editor):
    """A check box that carries the setting's label (so it sits left of its text, not after it)."""

    def __init__(self, label: str) -> None:
        super().__init__()
        self.box = QCheckBox(label)
        self.setLayout(_row(self.box))
        self.box.toggled.connect(self.changed)

    def value(self) -> bool:
        return self.box.isChecked()

    def set_value(self, value: Any) -> None:
        with QSignalBlocker(self.box):
            self.box.setChecked(bool(value))


class SpinEditor(Editor):
    """A number within the schema's bounds, its unit as a suffix."""

    def __init__(self, setting: st.Setting, unit: str) -> None:
        super().__init__()
        self.spin: QSpinBox | QDoubleSpinBox
        low = setting.minimum if setting.minimum is not None else -1e9
        high = setting.maximum if setting.maximum is not None else 1e9
        if setting.type is float:
            self.spin = QDoubleSpinBox()
            self.spin.setRange(low, high)
        else:
            self.spin = QSpinBox()
            self.spin.setRange(int(low), int(high))
        if unit:
            self.spin.setSuffix(unit if unit == "%" else f" {unit}")
        self.spin.setMinimumWidth(120)
        self.setLayout(_row(self.spin))
        self.spin.valueChanged.connect(self.changed)

    def value(self) -> int | float:
        return self.spin.value()

    def set_value(self, value: Any) -> None:
        with QSignalBlocker(self.spin):
            self.spin.setValue(value)


class PercentEditor(Editor):
    """A 0-100 % setting (sound volume) as a slider with its figure beside it."""

    def __init__(self) -> None:
        super().__init__()
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 100)
        self.slider.setMinimumWidth(200)
        self.figure = QLabel()
        self.figure.setMinimumWidth(40)
        self.setLayout(_row(self.slider, self.figure))
        self.slider.valueChanged.connect(self._moved)

    def _moved(self, value: int) -> None:
        self.figure.setText(f"{value}%")
        self.changed.emit()

    def value(self) -> int:
        return self.slider.value()

    def set_value(self, value: Any) -> None:
        with QSignalBlocker(self.slider):
            self.slider.setValue(int(value))
        self.figure.setText(f"{self.slider.value()}%")


class ChoiceEditor(Editor):
    """The schema's choices under their readable names (``Setting.choice_labels``)."""

    def __init__(self, setting: st.Setting) -> None:
        super().__init__()
        self.combo = QComboBox()
        labels = setting.choice_labels or {}
        for choice in setting.choices or ():
            self.combo.addItem(labels.get(choice, choice), choice)
        self.setLayout(_row(self.combo))
        self.combo.currentIndexChanged.connect(self.changed)

    def value(self) -> str:
        return str(self.combo.currentData())

    def set_value(self, value: Any) -> None:
        with QSignalBlocker(self.combo):
            self.combo.setCurrentIndex(max(0, self.combo.findData(str(value))))


class TextEditor(Editor):
    def __init__(self, setting: st.Setting) -> None:
        super().__init__()
        self.line = QLineEdit()
        self.line.setPlaceholderText(str(setting.default) if setting.default else "")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.line)
        self.line.textEdited.connect(self.changed)

    def value(self) -> str:
        return self.line.text()

    def set_value(self, value: Any) -> None:
        self.line.setText(str(value))
        self.line.setCursorPosition(0)  # a long address shows its start


class LinesEditor(Editor):
    """A list of text values, one a line (never a comma list)."""

    def __init__(self) -> None:
        super().__init__()
        self.text = QPlainTextEdit()
        self.text.setFixedHeight(80)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.text)
        self.text.textChanged.connect(self.changed)

    def value(self) -> list[str]:
        return [line.strip() for line in self.text.toPlainText().splitlines() if line.strip()]

    def set_value(self, value: Any) -> None:
        with QSignalBlocker(self.text):
            self.text.setPlainText("\n".join(str(v) for v in value))
