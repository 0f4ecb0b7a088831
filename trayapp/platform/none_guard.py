"""Work around PySide6 6.12's lost ``None`` references on Python 3.11.

PySide6 6.12's abi3 wheels return ``None`` from every void method without taking a reference
(harmless on 3.12+, where ``None`` is immortal). On 3.11 each such call drops ``None``'s reference
count by one; after a few thousand painter calls it reaches zero and the interpreter aborts with
"none_dealloc: deallocating None" (in a paint event or at exit). :func:`install` probes for the
leak with a harmless void call and, only when it is present, gives ``None`` a practically
infinite reference count, which is what Python 3.12 does for immortal objects.

Every process that runs a Qt event loop needs it, not only the widgets: a service's QTimer or
QFileSystemWatcher callbacks leak the same way. The tray app installs it at start (``run_app``,
through ``trayapp.ui``), the test session in ``tests/conftest.py``.
"""

from __future__ import annotations

import logging
import sys

log = logging.getLogger(__name__)
_installed = False


def leaks_none() -> bool:
    """Whether a PySide6 void call drops a reference to ``None`` (the 6.12 / 3.11 bug)."""
    from PySide6.QtCore import QObject

    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(64):
        probe.setObjectName("none-guard-probe")
    return sys.getrefcount(None) < before - 32


def install() -> bool:
    """Make ``None`` effectively immortal if this PySide6 build leaks it; True when applied."""
    global _installed
    if _installed:
        return True
    if sys.implementation.name != "cpython" or sys.version_info >= (3, 12):
        return False
    if not leaks_none():
        return False
    import ctypes

    # ob_refcnt is the first field of every CPython object (release builds).
    refcnt = ctypes.c_ssize_t.from_address(id(None))
    refcnt.value += 1 << 60
    _installed = True
    log.info("PySide6 drops references to None on this Python; None made immortal (see none_guard)")
    return True
