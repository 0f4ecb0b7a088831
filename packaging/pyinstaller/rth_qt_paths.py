"""Runtime hook that replaces PyInstaller's ``pyi_rth_pyside6``.

The stock hook imports ``PySide6.QtCore`` at the start of every frozen process (``statusline``,
``report`` and each scan worker included) only to register a ``qt.conf`` the PyPI wheels already
embed; that costs about 100 ms per process. This one only points Qt at the bundled plugins.
"""

import os
import sys

_qt = os.path.join(sys._MEIPASS, "PySide6", "Qt")  # type: ignore[attr-defined]
_plugins = os.path.join(_qt, "plugins")
if os.path.isdir(_plugins):
    os.environ["QT_PLUGIN_PATH"] = _plugins
if sys.platform == "win32":
    os.environ["PATH"] = os.pathsep.join([os.path.join(sys._MEIPASS, "PySide6"), os.environ.get("PATH", "")])  # type: ignore[attr-defined]
elif sys.platform == "darwin":
    _lib = os.path.join(_qt, "lib")
    os.environ["DYLD_LIBRARY_PATH"] = os.pathsep.join([_lib, os.environ.get("DYLD_LIBRARY_PATH", "")])
