"""Qt widgets: tray, icon painter, popup dashboard, timeline, settings dialog.

Importing this package applies :mod:`trayapp.platform.none_guard` (PySide6 6.12 on Python 3.11 loses
references to ``None`` on every void call and would abort the interpreter) and
:mod:`trayapp.platform.pyside_feature_scan` (PySide6 would otherwise keep the source of every
imported module in memory, about 10 MB).
"""

from trayapp.platform import none_guard as _none_guard
from trayapp.platform import pyside_feature_scan as _feature_scan

_none_guard.install()
_feature_scan.install()
