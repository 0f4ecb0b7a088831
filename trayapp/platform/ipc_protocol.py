"""The line-JSON protocol spoken over the single-instance socket, and where that socket lives.

A second launch of the app writes ``show\\n`` (it must keep working). Everything else is one
request per line, a UTF-8 JSON object, answered by one response line::

    {"v": 1, "op": "agents.list", "all": true}\\n  ->  {"v": 1, "ok": true, "tasks": [...]}\\n
                                                     {"v": 1, "ok": false, "error": "unknown_op",
                                                      "message": "..."}\\n

``op`` is ``<prefix>.<name>``: the instance routes by prefix to a registered handler. A request is
at most :data:`MAX_REQUEST` bytes and a response at most :data:`MAX_RESPONSE`; a request of
another version, with a bad body or an unknown op is answered with an error (never fatal to the
app). Error codes: :data:`ERROR_CODES`.

Only the user who runs the app may connect: Qt creates the socket user-only
(``UserAccessOption``), the server also checks the peer's uid where the OS tells it (Linux
``SO_PEERCRED``), and the client refuses a socket file it does not own (another user could have
created that name in a shared temporary folder first).

No Qt here: the command line computes the socket's path with Qt's own rule (``QDir::tempPath()``
+ name on Unix, ``\\\\.\\pipe\\NAME`` on Windows) without paying for importing it.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import sys
from typing import Any

from trayapp import paths

VERSION = 1
MAX_REQUEST = 256 * 1024  # a prompt can be long; a runaway writer is cut off
MAX_RESPONSE = 8 * 1024 * 1024  # a long task list
ERROR_CODES = (
    "bad_json",  # not one JSON object on one line
    "too_large",  # over MAX_REQUEST (or a response over MAX_RESPONSE)
    "version",  # a "v" this app does not speak (the response carries its own "v")
    "bad_request",  # a field missing or of the wrong type
    "unknown_op",  # nobody serves this op
    "not_found",  # no such task
    "refused",  # the request is valid but cannot be done (a finished task stopped again, ...)
    "not_ready",  # the serving subsystem is off or still starting
    "forbidden",  # another user's process
    "internal",  # the handler failed (logged by the app)
)


class ProtocolError(Exception):
    """A request the server answers with an error (``code`` is one of :data:`ERROR_CODES`)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def server_name() -> str:
    """The instance's socket name: the user and a hash of the config folder, so test runs with
    their own ``CLAUDE_WATCH_HOME`` never collide with a real session."""
    try:
        user = getpass.getuser()
    except Exception:
        user = "user"
    digest = hashlib.sha256(str(paths.config_dir()).encode()).hexdigest()[:12]
    return f"claude-watch-{user}-{digest}"


def socket_path(name: str | None = None) -> str:
    """Where ``QLocalServer.listen(name)`` puts the socket (its ``fullServerName()``): the name
    itself when it is a path, else ``QDir::tempPath()/name`` (``$TMPDIR`` or ``/tmp``, cleaned) on
    Unix and ``\\\\.\\pipe\\name`` on Windows."""
    name = name or server_name()
    if sys.platform == "win32":
        return name if name.startswith("\\\\") else "\\\\.\\pipe\\" + name
    if name.startswith("/"):
        return name
    return os.path.join(os.path.normpath(os.environ.get("TMPDIR") or "/tmp"), name)


def encode(message: dict[str, Any]) -> bytes:
    """One response or request line (compact JSON, ``v`` set, newline-terminated)."""
    body = {"v": VERSION, **message}
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


def error(code: str, message: str) -> dict[str, Any]:
    return {"ok": False, "error": code, "message": message}


def encode_reply(reply: dict[str, Any]) -> bytes:
    """:func:`encode` with the response cap: an oversized answer becomes a ``too_large`` error."""
    data = encode(reply)
    if len(data) > MAX_RESPONSE:
        data = encode(error("too_large", f"the answer is over {MAX_RESPONSE} bytes"))
    return data


def _object(line: bytes, cap: int, what: str) -> dict[str, Any]:
    """One JSON object of at most ``cap`` bytes, or a ProtocolError naming ``what`` it should be."""
    if len(line) > cap:
        raise ProtocolError("too_large", f"{what} is at most {cap} bytes")
    try:
        body = json.loads(line)
    except (ValueError, RecursionError):
        body = None
    if not isinstance(body, dict):
        raise ProtocolError("bad_json", f"{what} must be a JSON object on one line")
    return body


def decode_request(line: bytes) -> dict[str, Any]:
    """One request line, checked: size, JSON object, version, ``op``. Raises :class:`ProtocolError`."""
    body = _object(line, MAX_REQUEST, "a request")
    v = body.get("v")
    if not isinstance(v, int) or isinstance(v, bool):
        raise ProtocolError("version", f'"v" must be the protocol version ({VERSION})')
    if v != VERSION:
        raise ProtocolError("version", f"protocol version {v} is not spoken here (this app: {VERSION})")
    op = body.get("op")
    if not isinstance(op, str) or not op or len(op) > 64:
        raise ProtocolError("bad_request", '"op" must be a short string such as "agents.list"')
    return body


def decode_response(line: bytes) -> dict[str, Any]:
    """One response line (the client's side): a JSON object with a boolean ``ok``."""
    body = _object(line, MAX_RESPONSE, "the app's answer")
    if not isinstance(body.get("ok"), bool):
        raise ProtocolError("bad_json", "the app's answer is not a response object")
    return body


def peer_uid(fd: int) -> int | None:
    """The uid of the process at the other end of a connected Unix socket (Linux ``SO_PEERCRED``),
    or None where the OS does not say."""
    import socket
    import struct

    opt = getattr(socket, "SO_PEERCRED", None)
    if opt is None or fd < 0:
        return None
    try:
        sock = socket.socket(fileno=os.dup(fd))
    except OSError:
        return None
    try:
        raw = sock.getsockopt(socket.SOL_SOCKET, opt, struct.calcsize("3i"))
        return int(struct.unpack("3i", raw)[1])
    except OSError:
        return None
    finally:
        sock.close()
