"""One running Claude Watch per user (and per ``CLAUDE_WATCH_HOME``).

The first instance listens on a local socket (``QLocalServer``); a second launch connects,
sends ``show``, and exits 0, and the first one opens its dashboard. A socket left behind by a
crashed instance is detected (nobody answers) and removed. The name includes a hash of the
app's config directory, so test runs with their own ``CLAUDE_WATCH_HOME`` never collide with a
real session.

Signals:
    activation_requested: another launch asked this instance to show itself.
"""

from __future__ import annotations

import getpass
import hashlib
import logging

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from trayapp import paths

log = logging.getLogger(__name__)
CONNECT_TIMEOUT_MS = 500


def server_name() -> str:
    try:
        user = getpass.getuser()
    except Exception:
        user = "user"
    digest = hashlib.sha256(str(paths.config_dir()).encode()).hexdigest()[:12]
    return f"claude-watch-{user}-{digest}"


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

    def __init__(self, name: str | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name or server_name()
        self.server: QLocalServer | None = None
        self._clients: list[QLocalSocket] = []

    def claim(self) -> bool:
        """Become the instance; False when another one runs (it has been asked to show)."""
        if notify_running(self.name):
            return False
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(self.name):
            # A stale socket from a crash: nobody answered above, so it is safe to remove.
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
            self._clients.append(sock)
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
            # Deleting it now would free the socket inside its own signal emission.
            sock.deleteLater()

    def _read(self, sock: QLocalSocket) -> None:
        data = bytes(sock.readAll().data())
        if b"show" in data:
            self.activation_requested.emit()

    def close(self) -> None:
        for sock in self._clients:
            sock.readyRead.disconnect(self._read_ready)
            sock.disconnected.disconnect(self._client_gone)
            sock.abort()
        self._clients.clear()
        if self.server is not None:
            self.server.close()
            self.server = None
