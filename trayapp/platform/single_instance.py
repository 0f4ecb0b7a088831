"""One running Claude Watch per user (and per ``CLAUDE_WATCH_HOME``).

Who is the instance is decided by a lock file (``QLockFile`` in the state folder, taken without
waiting; a lock left by a crashed process is recognised by its dead pid and taken over), which is
atomic: two launches at the same moment can both find nobody listening, and with the socket
alone both once ran (1 in 30 simultaneous launches). The instance then listens on a local socket
(``QLocalServer``); a later launch connects, sends ``show``, and exits 0, and the first one opens
its dashboard. The lock holder removes any socket left behind by a crash before listening. The
name includes a hash of the app's config directory, so test runs with their own
``CLAUDE_WATCH_HOME`` never collide with a real session.

The same socket serves requests from the command line (``claude-watch agents ...``): every line
other than ``show`` is a line-JSON request (:mod:`trayapp.platform.ipc_protocol`) routed by its
``op`` prefix to a handler a feature registered with :meth:`SingleInstance.add_handler`; the
answer goes back on the same connection. A bad line gets an error answer, never an exception.

Signals:
    activation_requested: another launch asked this instance to show itself.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QLockFile, QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from trayapp import paths
from trayapp.platform.ipc_protocol import (
    MAX_REQUEST,
    ProtocolError,
    decode_request,
    encode_reply,
    error,
    peer_uid,
    server_name,
)

log = logging.getLogger(__name__)
CONNECT_TIMEOUT_MS = 500
ANSWER_WAIT_S = 5.0  # how long a losing launch waits for the winner's server to answer
MAX_CLIENTS = 32  # connections at once; more are closed at once (a runaway script)

Reply = Callable[[dict[str, Any]], None]
# A request handler: called on the GUI thread with the checked request and the function that
# sends its one answer (now or later, from a task it spawned); it must not block.
Handler = Callable[[dict[str, Any], Reply], None]

__all__ = ["Handler", "Reply", "SingleInstance", "notify_running", "server_name"]


def identity() -> tuple[str, Path]:
    """The socket name and lock folder for the current folders (taken before ``--demo`` moves
    them, so a demo and a second launch still meet)."""
    return server_name(), paths.state_dir()


def notify_running(name: str | None = None, message: bytes = b"show\n") -> bool:
    """Ask a running instance to show its dashboard; True when one answered."""
    sock = QLocalSocket()
    sock.connectToServer(name or server_name())
    if not sock.waitForConnected(CONNECT_TIMEOUT_MS):
        return False
    sock.write(message)
    sock.flush()
    sock.waitForBytesWritten(CONNECT_TIMEOUT_MS)
    sock.disconnectFromServer()
    return True


class SingleInstance(QObject):
    activation_requested = Signal()

    def __init__(
        self, name: str | None = None, parent: QObject | None = None, *, lock_dir: Path | None = None
    ) -> None:
        super().__init__(parent)
        self.name = name or server_name()
        self.lock_dir = lock_dir  # None: the state folder when claiming (--demo passes the real one)
        self.server: QLocalServer | None = None
        self._lock: QLockFile | None = None
        self._clients: list[QLocalSocket] = []
        self._buffers: dict[QLocalSocket, bytearray] = {}
        self._handlers: dict[str, Handler] = {}

    def add_handler(self, prefix: str, handler: Handler) -> Callable[[], None]:
        """Serve requests whose ``op`` is ``prefix.<name>``; returns the function that removes it."""
        self._handlers[prefix] = handler

        def remove() -> None:
            if self._handlers.get(prefix) is handler:
                del self._handlers[prefix]

        return remove

    def claim(self) -> bool:
        """Become the instance; False when another one runs (it has been asked to show)."""
        if notify_running(self.name):
            return False
        lock = QLockFile(str(paths.ensure(self.lock_dir or paths.state_dir()) / f"{self.name}.lock"))
        lock.setStaleLockTime(0)  # stale only when its process is gone, however old
        if not lock.tryLock(0):
            if lock.error() == QLockFile.LockError.LockFailedError:
                # Another launch won: it may still be starting its server, so ask for a while.
                deadline = time.monotonic() + ANSWER_WAIT_S
                while not notify_running(self.name) and time.monotonic() < deadline:
                    time.sleep(0.1)
                return False
            log.warning("single-instance lock unavailable (%s); going on without it", lock.error())
        else:
            self._lock = lock
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(self.name):
            # A stale socket from a crash: we hold the lock, so nobody else is listening there.
            QLocalServer.removeServer(self.name)
            if not server.listen(self.name):
                log.warning("single-instance socket unavailable: %s", server.errorString())
                return True
        server.newConnection.connect(self._on_connection)
        self.server = server
        return True

    def _on_connection(self) -> None:
        assert self.server is not None
        while self.server.hasPendingConnections():
            sock = self.server.nextPendingConnection()
            if len(self._clients) >= MAX_CLIENTS:
                sock.abort()
                sock.deleteLater()
                continue
            self._clients.append(sock)
            self._buffers[sock] = bytearray()
            sock.readyRead.connect(self._read_ready)
            sock.disconnected.connect(self._client_gone)
            if sock.bytesAvailable():
                self._read(sock)

    def _read_ready(self) -> None:
        sock = self.sender()
        if isinstance(sock, QLocalSocket):
            self._read(sock)

    def _client_gone(self) -> None:
        sock = self.sender()
        if isinstance(sock, QLocalSocket) and sock in self._clients:
            self._clients.remove(sock)
            self._buffers.pop(sock, None)
            # Deleting it now would free the socket inside its own signal emission.
            sock.deleteLater()

    def _read(self, sock: QLocalSocket) -> None:
        buffer = self._buffers.get(sock)
        if buffer is None:
            return
        buffer += bytes(sock.readAll().data())
        while (end := buffer.find(b"\n")) >= 0:
            line = bytes(buffer[:end]).strip()
            del buffer[: end + 1]
            self._line(sock, line)
        if len(buffer) > MAX_REQUEST:
            buffer.clear()
            self._send(sock, error("too_large", f"a request is at most {MAX_REQUEST} bytes"))
            sock.disconnectFromServer()  # after the answer is written

    def _line(self, sock: QLocalSocket, line: bytes) -> None:
        if not line.startswith((b"{", b"[")) and b"show" in line:
            self.activation_requested.emit()  # a second launch (the oldest message)
            return
        if not line:
            return
        try:
            request = decode_request(line)
            uid = peer_uid(int(sock.socketDescriptor())) if hasattr(os, "getuid") else None
            if uid is not None and uid != os.getuid():
                raise ProtocolError("forbidden", "requests are served to the app's own user only")
            handler = self._handlers.get(request["op"].partition(".")[0])
            if handler is None:
                raise ProtocolError("unknown_op", f"nobody here serves {request['op']!r}")
        except ProtocolError as exc:
            self._send(sock, error(exc.code, exc.message))
            return
        try:
            handler(request, lambda reply: self._send(sock, reply))
        except Exception:
            log.exception("request %s failed", request["op"])
            self._send(sock, error("internal", "the app could not serve this request (see its log)"))

    def _send(self, sock: QLocalSocket, reply: dict[str, Any]) -> None:
        """One answer line, if the client is still there (it may have timed out and gone)."""
        if sock not in self._clients or sock.state() != QLocalSocket.LocalSocketState.ConnectedState:
            return
        sock.write(encode_reply(reply))
        sock.flush()

    def close(self) -> None:
        for sock in self._clients:
            sock.readyRead.disconnect(self._read_ready)
            sock.disconnected.disconnect(self._client_gone)
            sock.abort()
        self._clients.clear()
        self._buffers.clear()
        self._handlers.clear()
        if self.server is not None:
            self.server.close()
            self.server = None
        if self._lock is not None:
            self._lock.unlock()
            self._lock = None
