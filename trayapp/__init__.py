"""Claude Watch: a tray app for Claude Pro/Max limits, token usage and alerts.

The version has one source, the package metadata (``version`` in pyproject.toml); ``__version__``
reads it on first use only, since importlib.metadata costs start-up time every command would pay.
"""

APP_NAME = "Claude Watch"
APP_ID = "claude-watch"
DIST_NAME = "claude-watch"
_UNKNOWN = "0+unknown"
_version: str | None = None


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
