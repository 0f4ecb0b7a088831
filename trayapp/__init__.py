"""Claude Watch: a tray app for Claude Pro/Max limits, token usage and alerts.

The version has one source, the package metadata (``version`` in pyproject.toml); ``__version__``
reads it on first use only, since importlib.metadata costs start-up time every command would pay.
"""

APP_NAME = "Claude Watch"
APP_ID = "claude-watch"
DIST_NAME = "claude-watch"
_UNKNOWN = "0+unknown"
_version: str | None = None

# httpx's package imports its command-line client (click, and pygments when present: 4 MB and
# 20 ms, in every process that makes an HTTP request) unless that import fails, when it falls back
# to a stub. Claude Watch never runs httpx's CLI, so a finder at the front of the import path
# refuses that one module (sys.modules stays as it was: nothing is loaded or marked).
import sys as _sys  # noqa: E402


class _NoHttpxCli:
    @staticmethod
    def find_spec(name: str, path: object = None, target: object = None) -> None:
        if name == "httpx._main":
            raise ImportError("httpx's command-line client is not used by Claude Watch")


if not any(isinstance(f, _NoHttpxCli) for f in _sys.meta_path):
    _sys.meta_path.insert(0, _NoHttpxCli())


def version() -> str:
    """The installed package's version (``0+unknown`` when no metadata is found)."""
    global _version
    if _version is None:
        from importlib.metadata import PackageNotFoundError
        from importlib.metadata import version as dist_version

        try:
            _version = dist_version(DIST_NAME)
        except PackageNotFoundError:
            _version = _UNKNOWN
    return _version


def __getattr__(name: str) -> str:
    if name == "__version__":
        return version()
    raise AttributeError(f"module 'trayapp' has no attribute {name!r}")
