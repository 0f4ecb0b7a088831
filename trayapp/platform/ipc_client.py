"""The command line's side of the single-instance socket: one request, one answer, a short timeout.

Plain sockets, no Qt (the CLI's import budget): an ``AF_UNIX`` stream socket at the path
``QLocalServer`` listens on (:func:`trayapp.platform.ipc_protocol.socket_path`) on Linux and
macOS, the named pipe ``\\\\.\\pipe\\NAME`` on Windows. A missing socket, or one nobody listens on
(left by a crash), means the app is not running: :class:`AppNotRunning`, and the caller falls back
to working without it. A socket file owned by another user is refused before connecting.
"""

from __future__ import annotations

import os
import socket
import sys
from typing import Any

from trayapp.platform.ipc_protocol import MAX_RESPONSE, ProtocolError, decode_response, encode, socket_path

CONNECT_TIMEOUT = 1.0
ANSWER_TIMEOUT = 10.0


class AppNotRunning(Exception):
    """Nobody listens on the instance's socket."""


class IpcError(ProtocolError):
    """Talking to the app failed (``timeout``, ``forbidden``, ``bad_json``, ``io``)."""


def request(
    op: str, args: dict[str, Any] | None = None, *, name: str | None = None, timeout: float = ANSWER_TIMEOUT
) -> dict[str, Any]:
    """Send ``{"op": op, **args}`` to the running app and return its answer (``ok`` true or false).

    Raises :class:`AppNotRunning` when no app listens, :class:`IpcError` when the exchange fails.
    """
    line = encode({"op": op, **(args or {})})
    path = socket_path(name)
    if sys.platform == "win32":
        return decode_response(_pipe_exchange(path, line, timeout))
    return decode_response(_unix_exchange(path, line, timeout))


def _unix_exchange(path: str, line: bytes, timeout: float) -> bytes:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise AppNotRunning(path) from None
    except OSError as exc:
        raise IpcError("io", f"cannot read {path}: {exc.strerror}") from None
    if st.st_uid != os.getuid():
        raise IpcError("forbidden", f"{path} belongs to another user; not connecting")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(min(CONNECT_TIMEOUT, timeout))
        try:
            sock.connect(path)
        except (FileNotFoundError, ConnectionRefusedError):
            raise AppNotRunning(path) from None  # a socket left by a crash
        except TimeoutError:
            raise IpcError("timeout", "the app did not accept the connection in time") from None
        except OSError as exc:
            raise IpcError("io", f"cannot connect to {path}: {exc.strerror}") from None
        sock.settimeout(timeout)
        try:
            sock.sendall(line)
            return _read_line(sock.recv)
        except TimeoutError:
            raise IpcError("timeout", f"the app did not answer within {timeout:g} s") from None
        except OSError as exc:
            raise IpcError("io", f"the connection to the app failed: {exc.strerror or exc}") from None
    finally:
        sock.close()


def _read_line(recv: Any) -> bytes:
    """Bytes up to the first newline, at most :data:`MAX_RESPONSE`; EOF before it is an error."""
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk: bytes = recv(65536)
        if not chunk:
            raise IpcError("io", "the app closed the connection without answering")
        end = chunk.find(b"\n")
        if end >= 0:
            chunks.append(chunk[:end])
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_RESPONSE:
            raise IpcError("too_large", f"the app's answer is over {MAX_RESPONSE} bytes")


def _pipe_exchange(path: str, line: bytes, timeout: float) -> bytes:  # pragma: no cover (Windows)
    """Windows: the named pipe opened as a file; the blocking exchange runs on the io lane."""
    from trayapp import runtime

    try:
        pipe = open(path, "r+b", buffering=0)  # closed below
    except FileNotFoundError:
        raise AppNotRunning(path) from None
    except OSError as exc:
        raise IpcError("io", f"cannot open {path}: {exc}") from None

    def exchange() -> bytes:
        pipe.write(line)
        return _read_line(pipe.read)

    try:
        return runtime.call_with_timeout(exchange, timeout, lane="io")
    except TimeoutError:
        raise IpcError("timeout", f"the app did not answer within {timeout:g} s") from None
    except OSError as exc:
        raise IpcError("io", f"the connection to the app failed: {exc}") from None
    finally:
        pipe.close()
