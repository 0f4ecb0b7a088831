"""Stop PySide6 from caching the source of every module the app imports.

PySide6's ``__feature__`` support (``snake_case``/``true_property``) runs an import hook that asks,
for every module imported after Qt, whether its source mentions "PySide6". It asks through
``inspect.getsource``, which goes through :mod:`linecache`: the whole source of every module (about
270 files in the tray app, 10 MB of line strings) stays in memory for the life of the process,
and clearing the cache later does not give the memory back (the small strings fragment the heap).
:func:`install` swaps that check for one that reads the source through the module's loader and
keeps nothing, with the same answer. The app uses no ``__feature__`` switches either way.

Where PySide6 changes the hook (the private name is gone), nothing is patched and nothing breaks.
"""

from __future__ import annotations

import logging
import sys
from types import ModuleType

log = logging.getLogger(__name__)


def _source_mentions_pyside(module: ModuleType) -> bool:
    """PySide6's own test ("PySide6" in the module's source), read without linecache."""
    loader = getattr(module, "__loader__", None)
    get_source = getattr(loader, "get_source", None)
    if get_source is None:
        return False
    try:
        source = get_source(module.__name__)
    except (ImportError, OSError, SyntaxError, TypeError, UnicodeDecodeError):
        return False
    return isinstance(source, str) and "PySide6" in source


def install() -> bool:
    """Patch the check once PySide6 is imported; True when it was patched."""
    import PySide6.QtCore  # noqa: F401  (loads the feature module)

    feature = sys.modules.get("shibokensupport.feature") or sys.modules.get("PySide6.support.feature")
    if feature is None or not callable(getattr(feature, "_mod_uses_pyside", None)):
        log.debug("PySide6 has no source-scanning feature hook to patch")
        return False
    feature._mod_uses_pyside = _source_mentions_pyside  # type: ignore[attr-defined]
    return True
