"""Where the app's local HTTP server listens and the token hooks must present.

``state/local-server.json`` (0600) holds ``{"schema": 1, "port": N, "hook_token": "..."}``. Both
are chosen once, at first use, and kept: Claude Code's settings carry the port (in the hook URL)
and the token (in its ``env`` block), so a new value means ``claude-watch hooks --install`` must
run again, which ``hooks --status`` points out. The port is a free loopback port when created;
when it is taken later the server picks another and saves it here (:func:`save_port`). A file
that cannot be read is replaced with new values, logged once.
"""

from __future__ import annotations

import json
import logging
import secrets
import socket
from dataclasses import dataclass, replace
from pathlib import Path

from trayapp import paths
from trayapp.store.files import atomic_write

log = logging.getLogger(__name__)

FILE_NAME = "local-server.json"
MAX_FILE = 4096


@dataclass(frozen=True, slots=True)
class LocalEndpoint:
    """The local server's port and the hooks' bearer token (a secret: never logged)."""

    port: int
    hook_token: str

    def __repr__(self) -> str:
        return f"LocalEndpoint(port={self.port}, hook_token=<hidden>)"


def default_path() -> Path:
    return paths.state_dir() / FILE_NAME


def free_port(host: str = "127.0.0.1") -> int:
    """A port the OS says is free on loopback right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _parse(raw: bytes) -> LocalEndpoint:
    if len(raw) > MAX_FILE:
        raise ValueError("file too large")
    data = json.loads(raw.decode("utf-8"))
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    port, token = data.get("port"), data.get("hook_token")
    if not isinstance(port, int) or isinstance(port, bool) or not 1024 <= port <= 65535:
        raise ValueError("bad port")
    if not isinstance(token, str) or not 32 <= len(token) <= 128 or not token.isascii():
        raise ValueError("bad token")
    if not all(c.isalnum() or c in "-_" for c in token):
        raise ValueError("bad token")
    return LocalEndpoint(port, token)


def save(endpoint: LocalEndpoint, path: Path | None = None) -> None:
    target = path or default_path()
    text = json.dumps({"schema": 1, "port": endpoint.port, "hook_token": endpoint.hook_token}, indent=2)
    atomic_write(target, text + "\n", 0o600)


def load(path: Path | None = None) -> LocalEndpoint | None:
    """The stored endpoint, or None when missing or unreadable (nothing is created)."""
    try:
        return _parse((path or default_path()).read_bytes())
    except (OSError, ValueError):
        return None


def load_or_create(path: Path | None = None) -> LocalEndpoint:
    """The stored endpoint, created (free port, new token) when missing or corrupt."""
    target = path or default_path()
    try:
        return _parse(target.read_bytes())
    except FileNotFoundError:
        pass
    except (OSError, ValueError) as exc:
        log.warning(
            "%s could not be read (%s): a new port and hook token are chosen; "
            "run `claude-watch hooks --install` again",
            target,
            type(exc).__name__,
        )
    endpoint = LocalEndpoint(free_port(), secrets.token_urlsafe(32))
    save(endpoint, target)
    return endpoint


def save_port(port: int, path: Path | None = None) -> LocalEndpoint:
    """Keep the token, store a new port (the old one was taken); returns the new endpoint."""
    current = load_or_create(path)
    updated = replace(current, port=port)
    save(updated, path)
    return updated
