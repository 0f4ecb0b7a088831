"""The Settings dialog: a few pages of titled groups, every field with the editor its setting needs.

The pages and groups are declared in :mod:`trayapp.ui.settings_pages`; each field's editor comes
from the schema (:func:`~trayapp.ui.settings_pages.editors.make_editor`: check boxes, spin boxes
with units, choices under readable names, threshold chips, a quiet-hours range, an ordered
segment list, a time-zone box, a price table). A setting the layout does not name still gets a
field (on its section's page, or "Other"), so a key a feature adds is never lost. Features add
their own pages with :meth:`SettingsDialog.add_page`; the app's
:class:`~trayapp.ui.channels_page.ChannelsPage` added that way is not a page of its own: its
secrets and "Send test" buttons join the channel groups of the Notifications page.

Each change is validated at once with the schema's own rules: the reason shows in red under the
field and Apply and OK stay disabled until it is fixed. Apply saves only the fields the user
edited, merged into the file as it is now (:func:`trayapp.settings.commit`, the same path as
``claude-watch config set``, so "Start at login" also writes or removes the autostart entry); a
value another writer saved while the dialog is open shows up in the fields the user has not
touched. The settings announce saved changes to their subscribers, which apply them live.

Signals:
    settings_changed(list): the keys whose values changed and were saved.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from trayapp import settings as st
from trayapp.core.humanize import display_text
from trayapp.ui.channels_page import ChannelsPage
from trayapp.ui.settings_pages import DEPENDS_ON, HINTS, LABELS, OTHER, PAGES, page_for_section, placed_keys
from trayapp.ui.settings_pages.editors import CheckEditor, Editor, label_and_unit
from trayapp.ui.settings_pages.pickers import OrderedChecksEditor, PriceTableEditor, make_editor

WIDE = (OrderedChecksEditor, PriceTableEditor)

log = logging.getLogger(__name__)
AutostartSetter = Callable[[bool], None]


_default_autostart: AutostartSetter = st.start_at_login


def role_label(text: str, role: str) -> QLabel:
    """A label the application style sheet colours by role (hint, error, title: ``ui.theme``)."""
    label = QLabel(text)
    label.setProperty("cwRole", role)
    label.setWordWrap(True)
    return label


class SettingsDialog(QDialog):
    settings_changed = Signal(list)

    def __init__(
        self,
        settings: st.Settings,
        parent: QWidget | None = None,
        set_autostart: AutostartSetter | None = _default_autostart,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("settings-dialog")
        self.setWindowTitle("Claude Watch settings")
        self.settings = settings
        self.set_autostart = set_autostart
        self.editors: dict[str, Editor] = {}
        self.errors: dict[str, QLabel] = {}
        self.labels: dict[str, QLabel] = {}
        self.channel_forms: dict[str, QFormLayout] = {}
        self._pages: dict[str, QWidget] = {}
        self._shown: dict[str, Any] = {}  # the value each field was last filled with
        self.nav = QListWidget()
        self.nav.setObjectName("settings-nav")
        self.nav.setFixedWidth(200)
        self.stack = QStackedWidget()
        self.nav.currentRowChanged.connect(self.stack.setCurrentIndex)
        self._build_pages()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok
            | QDialogButtonBox.StandardButton.Apply
            | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self._ok)
        self.buttons.rejected.connect(self.reject)
        self.apply_button = self.buttons.button(QDialogButtonBox.StandardButton.Apply)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.apply_button.clicked.connect(self.apply)
        body = QHBoxLayout()
        body.setSpacing(12)
        body.addWidget(self.nav)
        body.addWidget(self.stack, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(body, 1)
        layout.addWidget(self.buttons)
        self.load_values()
        for key, editor in self.editors.items():
            editor.changed.connect(lambda k=key: self._edited(k))
        self.destroyed.connect(settings.subscribe(tuple(self.editors), self._settings_changed))
        self.nav.setCurrentRow(0)
        self.resize(880, 640)

    # ----- building
    def _build_pages(self) -> None:
        schema = {s.key: s for s in st.SCHEMA}
        extra: dict[str, dict[str, list[st.Setting]]] = {}  # page -> section -> settings
        placed = placed_keys()
        for s in st.SCHEMA:
            if s.key not in placed:
                extra.setdefault(page_for_section(s.section), {}).setdefault(s.section, []).append(s)
        for page in PAGES:
            content = self._new_page(page.title)
            forms: dict[str, QFormLayout] = {}
            for group in page.groups:
                settings = [schema[k] for k in group.keys if k in schema]
                form = forms[group.title] = self._group(content, group.title, settings)
                if group.channel:
                    self.channel_forms[group.channel] = form
            for section, settings in extra.pop(page.title, {}).items():
                if section in forms:  # a group of that name: the new keys join it
                    for s in settings:
                        self._field(forms[section], s)
                else:
                    self._group(content, section, settings)
            if page.about:
                self._about(content)
            content.addStretch(1)
            align_labels(self._pages[page.title])
        if extra.get(OTHER):
            content = self._new_page(OTHER)
            for section, settings in extra[OTHER].items():
                self._group(content, section, settings)
            content.addStretch(1)

    def _new_page(self, title: str) -> QVBoxLayout:
        """A new page of groups under its title; returns its layout."""
        widget = QWidget()
        layout = QVBoxLayout(widget)
        layout.setContentsMargins(4, 0, 12, 0)
        layout.setSpacing(12)
        layout.addWidget(role_label(title, "title"))
        self._insert_page(title, widget)
        return layout

    def _insert_page(self, title: str, widget: QWidget) -> None:
        """``widget`` as a scrolled page in the list, before "Other"."""
        scroll = QScrollArea()
        scroll.setObjectName(f"page:{title}")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(widget)
        index = self.nav.count()
        if OTHER in self._pages and title != OTHER:
            index -= 1
        self.nav.insertItem(index, title)
        self.stack.insertWidget(index, scroll)
        self._pages[title] = scroll

    def _group(self, page: QVBoxLayout, title: str, settings: list[st.Setting]) -> QFormLayout:
        box = QGroupBox(title)
        form = QFormLayout(box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setVerticalSpacing(10)
        form.setHorizontalSpacing(16)
        for s in settings:
            self._field(form, s, alone=len(settings) == 1)
        page.addWidget(box)
        return form

    def _field(self, form: QFormLayout, s: st.Setting, alone: bool = False) -> None:
        """A field: editor, hint and error; a wide editor alone in its group (a table, a list)
        takes the whole width under the group's title instead of a label."""
        editor = make_editor(s, LABELS.get(s.key))
        wide = alone and isinstance(editor, WIDE)
        box = QWidget()
        v = QVBoxLayout(box)
        v.setContentsMargins(0, 0, 0, 0)
        v.setSpacing(3)
        v.addWidget(editor)
        indent = 24 if isinstance(editor, CheckEditor) else 0  # under the box's text, not the box
        help_text = HINTS.get(s.key, s.help)
        if help_text:
            hint = role_label(display_text(help_text), "hint")
            hint.setContentsMargins(indent, 0, 0, 0)
            v.addWidget(hint)
        error = role_label("", "error")
        error.setObjectName(f"error:{s.key}")
        error.setContentsMargins(indent, 0, 0, 0)
        error.hide()
        v.addWidget(error)
        if isinstance(editor, CheckEditor) or wide:
            form.addRow(box)
        else:
            label = QLabel(LABELS.get(s.key) or label_and_unit(s)[0])
            label.setBuddy(editor)
            form.addRow(label, box)
            self.labels[s.key] = label
        self.editors[s.key] = editor
        self.errors[s.key] = error

    def _about(self, page: QVBoxLayout) -> None:
        from trayapp import APP_NAME, paths, version

        box = QGroupBox("About")
        form = QFormLayout(box)
        for label, text in (
            ("Version", f"{APP_NAME} {version()}"),
            ("Settings file", str(paths.settings_file())),
            ("Logs", str(paths.log_dir())),
        ):
            value = role_label(text, "value")
            value.setObjectName(f"about:{label}")
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            form.addRow(label, value)
        page.addWidget(box)

    def add_page(self, widget: QWidget, title: str) -> None:
        """Add a page not generated from the schema (a feature's), before "Other". The channels
        page is merged into the Notifications page's channel groups instead."""
        if isinstance(widget, ChannelsPage):
            self._merge_channels(widget)
            return
        self._insert_page(title, widget)

    def _merge_channels(self, page: ChannelsPage) -> None:
        for channel, form in self.channel_forms.items():
            for label, row in page.block_rows(channel):
                form.addRow(QLabel(label), row)  # an action without a label sits under the fields
        page.placed()
        align_labels(self._pages["Notifications"])
        page.before_test = self._before_test
        page.setParent(self)  # keeps its signals (and the service) as long as the dialog
        page.hide()
        # Showing the Notifications page asks for each secret's state, as the page alone did.
        self.nav.currentRowChanged.connect(lambda _row: self._refresh_channels(page))

    def _refresh_channels(self, page: ChannelsPage) -> None:
        if self.current_page() == "Notifications":
            page.refresh_requested.emit()

    def _before_test(self) -> str | None:
        """A test uses what the dialog shows: save pending edits first (when valid)."""
        return None if self.apply() else "Fix the fields marked in red first."

    # ----- pages
    def page_titles(self) -> list[str]:
        return [self.nav.item(i).text() for i in range(self.nav.count())]

    def current_page(self) -> str:
        item = self.nav.currentItem()
        return item.text() if item is not None else ""

    def show_page(self, title: str) -> None:
        self.nav.setCurrentRow(self.page_titles().index(title))

    def page_of(self, key: str) -> str:
        """The title of the page that holds ``key``'s field."""
        editor = self.editors[key]
        for title, scroll in self._pages.items():
            if scroll.isAncestorOf(editor):
                return title
        return ""

    # ----- values
    def load_values(self) -> None:
        for key, editor in self.editors.items():
            self._shown[key] = self.settings.get(key)
            editor.set_value(self._shown[key])
            self.errors[key].hide()
        self._update_state()

    def edited(self, key: str) -> bool:
        """Whether the field no longer shows the value it was filled with."""
        try:
            return bool(st.parse_value(key, self.editors[key].value()) != self._shown.get(key))
        except st.SettingsError:
            return True

    def _settings_changed(self, keys: list[str], settings: st.Settings) -> None:
        """Another writer (or a reload of the file) changed ``keys``: show the new values in the
        fields the user has not edited; an edited field keeps what the user typed."""
        for key in keys:
            if key in self.editors and not self.edited(key):
                self._shown[key] = settings.get(key)
                self.editors[key].set_value(self._shown[key])
        self._update_state()

    def editor_text(self, key: str) -> str:
        """The field's value as ``claude-watch config set`` would take it."""
        return st.format_value(self.editors[key].value())

    def set_editor_text(self, key: str, text: str) -> None:
        """Set a field as the user would (tests and automation); text settings take any text."""
        setting = st.BY_KEY[key]
        value = text if setting.type is str and not setting.choices else st.parse_text(key, text)
        self.editors[key].set_value(value)
        self._edited(key)

    def _problem(self, key: str) -> str:
        try:
            st.parse_value(key, self.editors[key].value())
        except st.SettingsError as exc:
            return friendly(key, str(exc))
        return ""

    def _edited(self, key: str) -> None:
        self._show_error(key, self._problem(key))
        self._update_state()

    def _show_error(self, key: str, problem: str) -> None:
        error = self.errors[key]
        error.setText(problem)
        error.setVisible(bool(problem))

    def _update_state(self) -> None:
        """Apply and OK only while every field is valid; dependent fields follow their switch."""
        valid = not any(not e.isHidden() for e in self.errors.values())
        self.ok_button.setEnabled(valid)
        self.apply_button.setEnabled(valid)
        for key, parent in DEPENDS_ON.items():
            if key in self.editors and parent in self.editors:
                on = bool(self.editors[parent].value())
                self.editors[key].setEnabled(on)
                if key in self.labels:
                    self.labels[key].setEnabled(on)

    def apply(self) -> bool:
        """Validate every field; save and announce the changes only when all are valid."""
        parsed: dict[str, Any] = {}
        for key, editor in self.editors.items():
            problem = self._problem(key)
            self._show_error(key, problem)
            if not problem:
                parsed[key] = st.parse_value(key, editor.value())
        self._update_state()
        if len(parsed) < len(self.editors):
            return False
        # Only what the user edited: a field still showing an old value must not undo a change
        # saved meanwhile by `claude-watch config set` or an editor.
        changed = [k for k, v in parsed.items() if v != self._shown.get(k)]
        if not changed:
            return True
        try:
            st.commit(self.settings, {k: parsed[k] for k in changed}, set_autostart=self.set_autostart)
        except st.SettingEffectError as exc:
            self._show_error(exc.key, friendly(exc.key, str(exc)))
            self.show_page(self.page_of(exc.key))
            return False
        except (st.SettingsFileError, OSError) as exc:
            log.error("could not save settings: %s", exc)
            self._show_error(changed[0], f"Not saved: {exc}")
            self.show_page(self.page_of(changed[0]))
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


LABEL_COLUMN = 230  # px at most: a longer label wraps rather than push every field aside


def align_labels(page: QWidget) -> None:
    """One label column across a page's groups (each group is a form of its own)."""
    labels = [label for form in page.findChildren(QFormLayout) for label in _form_labels(form)]
    width = min(LABEL_COLUMN, max((label.sizeHint().width() for label in labels), default=0))
    for label in labels:
        if isinstance(label, QLabel) and label.sizeHint().width() > width:
            label.setWordWrap(True)  # never back: a wrapped label's size hint is narrower
        label.setFixedWidth(width)


def _form_labels(form: QFormLayout) -> list[QWidget]:
    found = []
    for row in range(form.rowCount()):
        item = form.itemAt(row, QFormLayout.ItemRole.LabelRole)
        if item is not None and (widget := item.widget()) is not None:
            found.append(widget)
    return found


def friendly(key: str, message: str) -> str:
    """A validation message without the setting's key (the field already says which one)."""
    if message.startswith(key):
        message = message[len(key) :].lstrip(": ").strip()
    return message[:1].upper() + message[1:]
