"""Claude Code statusline integration: the fast ``claude-watch statusline`` command.

Claude Code runs the statusline command several times a second, so everything in this package
that the command touches (``parse``, ``capture``, ``render``, ``fastpaths``, ``log``, ``run``)
imports only small standard-library modules (and ``trayapp.store.files``, the app's one atomic
writer, which imports only ``os``): no Qt, no httpx, no dataclasses, no platformdirs on Linux and
macOS. ``install`` (editing Claude Code's ``settings.json``) is imported only for
``--install``/``--uninstall``. The app side reads the captures through
``trayapp.sources.statusline_capture``.
"""
