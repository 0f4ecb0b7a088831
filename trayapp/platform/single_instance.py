"""One running Claude Watch per user (and per ``CLAUDE_WATCH_HOME``).

Who is the instance is decided by a lock file (``QLockFile`` in the state folder, taken without
waiting; a lock left by a crashed process is recognised by its dead pid and taken over), which is
atomic: two launches at the same moment can both find nobody listening, and with the socket
alone both once ran (1 in 30 simultaneous launches). The instance then listens on a local socket
(``QLocalServer``); a later launch connects, sends ``show``, and exits 0, and the first one opens
its dashboard. The lock holder removes any socket left behind by a crash before listening. The
name includes a hash of the app's config directory, so test runs with their own
``CLAUDE_WATCH_HOME`` never collide with a real session.

Signals:
    activation_requested: another launch asked this instance to show itself.
"""

from __future__ import annotations

import getpass
import hashlib
import logging
import time

from PySide6.QtCore import QLockFile, QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from trayapp import paths

log = logging.getLogger(__name__)
CONNECT_TIMEOUT_MS = 500
ANSWER_WAIT_S = 5.0  # how long a losing launch waits for the winner's server to answer


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
        self._lock: QLockFile | None = None
        self._clients: list[QLocalSocket] = []

    def claim(self) -> bool:
        """Become the instance; False when another one runs (it has been asked to show)."""
        if notify_running(self.name):
            return False
        lock = QLockFile(str(paths.ensure(paths.state_dir()) / f"{self.name}.lock"))
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
        if self._lock is not None:
            self._lock.unlock()
            self._lock = None
