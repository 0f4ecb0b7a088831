"""Qt widgets: tray, icon painter, popup dashboard, timeline, settings dialog.

Importing this package applies :mod:`trayapp.platform.none_guard` (PySide6 6.12 on Python 3.11 loses
references to ``None`` on every void call and would abort the interpreter).
"""

from trayapp.platform import none_guard as _none_guard

_none_guard.install()
