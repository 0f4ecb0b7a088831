"""The settings dialog, generated from :data:`trayapp.settings.SCHEMA`.

One tab per schema section; the editor follows the setting's type (check box, spin box with the
schema's bounds, choice box, text field, comma-separated list). Apply and OK validate every
field with the schema's own rules and show each problem under its field; nothing is saved
until all fields are valid, and nothing the user typed is thrown away. Only the fields the user
edited are saved, merged into the file as it is now (:func:`trayapp.settings.commit`, the same
path as ``claude-watch config set``, so "Start at login" also writes or removes the platform's
autostart entry); a value another writer saved while the dialog is open shows up in fields the
user has not touched. The settings announce saved changes to their subscribers, which apply
them live; ``settings_changed`` says which keys the dialog saved.

Signals:
    settings_changed(list): the keys whose values changed and were saved.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QLabel,
    QLineEdit,
    QScrollArea,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from trayapp import settings as st

log = logging.getLogger(__name__)
AutostartSetter = Callable[[bool], None]


_default_autostart: AutostartSetter = st.start_at_login


class SettingsDialog(QDialog):
    settings_changed = Signal(list)

    def __init__(
        self,
        settings: st.Settings,
        parent: QWidget | None = None,
        set_autostart: AutostartSetter | None = _default_autostart,
        sections: tuple[str, ...] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("settings-dialog")
        self.setWindowTitle("Claude Watch settings")
        self.settings = settings
        self.set_autostart = set_autostart
        self.editors: dict[str, QWidget] = {}
        self.errors: dict[str, QLabel] = {}
        self._shown: dict[str, Any] = {}  # the value each field was last filled with
        layout = QVBoxLayout(self)
        self.tabs = QTabWidget()
        layout.addWidget(self.tabs)
        forms: dict[str, QFormLayout] = {}
        for setting in st.SCHEMA:
            if sections is not None and setting.section not in sections:
                continue
            form = forms.get(setting.section)
            if form is None:
                page = QWidget()
                form = QFormLayout(page)
                form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
                form.setVerticalSpacing(10)
                forms[setting.section] = form
                # Long sections scroll instead of squeezing their rows.
                scroll = QScrollArea()
                scroll.setWidgetResizable(True)
                scroll.setFrameShape(QFrame.Shape.NoFrame)
                scroll.setWidget(page)
                self.tabs.addTab(scroll, setting.section)
            self._add_row(form, setting)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok
            | QDialogButtonBox.StandardButton.Apply
            | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self._ok)
        self.buttons.rejected.connect(self.reject)
        self.buttons.button(QDialogButtonBox.StandardButton.Apply).clicked.connect(self.apply)
        layout.addWidget(self.buttons)
        self.load_values()
        if self.editors:
            self.destroyed.connect(settings.subscribe(tuple(self.editors), self._settings_changed))
        self.resize(760, 460)

    def _add_row(self, form: QFormLayout, s: st.Setting) -> None:
        editor: QWidget
        if s.type is bool:
            editor = QCheckBox()
        elif s.type is int:
            spin = QSpinBox()
            spin.setRange(
                int(s.minimum if s.minimum is not None else -(10**9)),
                int(s.maximum if s.maximum is not None else 10**9),
            )
            editor = spin
        elif s.type is float:
            dspin = QDoubleSpinBox()
            dspin.setRange(
                s.minimum if s.minimum is not None else -1e9, s.maximum if s.maximum is not None else 1e9
            )
            editor = dspin
        elif s.choices:
            combo = QComboBox()
            combo.addItems(list(s.choices))
            editor = combo
        else:
            line = QLineEdit()
            if s.type is list:
                line.setPlaceholderText("comma-separated")
            editor = line
        editor.setObjectName(s.key)
        if s.help:
            editor.setToolTip(s.help)
        box = QWidget()
        v = QVBoxLayout(box)
        v.setContentsMargins(0, 0, 0, 0)
        v.setSpacing(2)
        v.addWidget(editor)
        if s.help:
            hint = QLabel(s.help)
            hint.setWordWrap(True)
            hint.setStyleSheet("color: palette(placeholder-text); font-size: 11px;")
            v.addWidget(hint)
        error = QLabel()
        error.setObjectName(f"error:{s.key}")
        error.setWordWrap(True)
        error.setStyleSheet("color: #cf222e; font-size: 11px;")
        error.hide()
        v.addWidget(error)
        label = QLabel(s.label)
        label.setBuddy(editor)
        form.addRow(label, box)
        self.editors[s.key] = editor
        self.errors[s.key] = error

    def add_page(self, widget: QWidget, title: str) -> None:
        """Add a tab that is not generated from the schema (e.g. the alert channels page)."""
        self.tabs.addTab(widget, title)

    def load_values(self) -> None:
        for key, editor in self.editors.items():
            self._shown[key] = self.settings.get(key)
            self._set_editor(editor, self._shown[key])

    def edited(self, key: str) -> bool:
        """Whether the field no longer shows the value it was filled with."""
        try:
            return bool(st.parse_text(key, self.editor_text(key)) != self._shown.get(key))
        except st.SettingsError:
            return True

    def _settings_changed(self, keys: list[str], settings: st.Settings) -> None:
        """Another writer (or a reload of the file) changed ``keys``: show the new values in the
        fields the user has not edited; an edited field keeps what the user typed."""
        for key in keys:
            if key in self.editors and not self.edited(key):
                self._shown[key] = settings.get(key)
                self._set_editor(self.editors[key], self._shown[key])

    @staticmethod
    def _set_editor(editor: QWidget, value: Any) -> None:
        if isinstance(editor, QCheckBox):
            editor.setChecked(bool(value))
        elif isinstance(editor, QSpinBox | QDoubleSpinBox):
            editor.setValue(value)
        elif isinstance(editor, QComboBox):
            editor.setCurrentText(str(value))
        elif isinstance(editor, QLineEdit):
            editor.setText(st.format_value(value) if isinstance(value, list) else str(value))

    def editor_text(self, key: str) -> str:
        editor = self.editors[key]
        if isinstance(editor, QCheckBox):
            return "true" if editor.isChecked() else "false"
        if isinstance(editor, QSpinBox | QDoubleSpinBox):
            return str(editor.value())
        if isinstance(editor, QComboBox):
            return editor.currentText()
        assert isinstance(editor, QLineEdit)
        return editor.text()

    def set_editor_text(self, key: str, text: str) -> None:
        """Type into a field (tests and automation)."""
        editor = self.editors[key]
        if isinstance(editor, QLineEdit):
            editor.setText(text)
        else:
            self._set_editor(editor, st.parse_text(key, text))

    def apply(self) -> bool:
        """Validate every field; save and announce the changes only when all are valid."""
        parsed: dict[str, Any] = {}
        problems = 0
        for key in self.editors:
            error = self.errors[key]
            try:
                parsed[key] = st.parse_text(key, self.editor_text(key))
            except st.SettingsError as exc:
                error.setText(friendly(key, str(exc)))
                error.show()
                problems += 1
                continue
            error.hide()
        if problems:
            return False
        # Only what the user edited: a field still showing an old value must not undo a change
        # saved meanwhile by `claude-watch config set` or an editor.
        changed = [k for k, v in parsed.items() if v != self._shown.get(k)]
        if not changed:
            return True
        try:
            st.commit(self.settings, {k: parsed[k] for k in changed}, set_autostart=self.set_autostart)
        except st.SettingEffectError as exc:
            self.errors[exc.key].setText(friendly(exc.key, str(exc)))
            self.errors[exc.key].show()
            return False
        except (st.SettingsFileError, OSError) as exc:
            log.error("could not save settings: %s", exc)
            first = self.errors[changed[0]]
            first.setText(f"Not saved: {exc}")
            first.show()
            return False
        self._shown.update((k, parsed[k]) for k in changed)
        self.settings_changed.emit(changed)
        return True

    def _ok(self) -> None:
        if self.apply():
            self.accept()

    def visible_error(self, key: str) -> str:
        label = self.errors[key]
        return label.text() if not label.isHidden() else ""


def sections_in_order() -> list[str]:
    seen: list[str] = []
    for s in st.SCHEMA:
        if s.section not in seen:
            seen.append(s.section)
    return seen


def friendly(key: str, message: str) -> str:
    """A validation message without the setting's key (the field already says which one)."""
    if message.startswith(key):
        message = message[len(key) :].lstrip(": ").strip()
    return message[:1].upper() + message[1:]
