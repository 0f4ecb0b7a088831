"""Keyring backends for tests: a hand-written in-memory one, and the real ``keyrings.alt`` plaintext
file backend (a dev dependency) that the secret store must refuse, its file kept in a temp dir."""

from __future__ import annotations

import threading
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError
from keyrings.alt.file import PlaintextKeyring


class MemoryKeyring(KeyringBackend):
    """A keyring that keeps values in a dict; ``block`` makes every call hang (locked keyring)."""

    # Tests hand it to SecretStore (or name it in PYTHON_KEYRING_BACKEND); it must never win
    # keyring's own discovery, which ranks every imported backend class: with a higher priority
    # than Secret Service, the integration tests' real keyring would be this dict.
    priority = 0.1

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[tuple[str, str], str] = {}
        self.block = threading.Event()  # set -> calls hang until released
        self.release = threading.Event()
        self.calls = 0

    def _maybe_block(self) -> None:
        self.calls += 1
        if self.block.is_set():
            self.release.wait(30)

    def get_password(self, service: str, username: str) -> str | None:
        self._maybe_block()
        return self.values.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self._maybe_block()
        self.values[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self._maybe_block()
        if (service, username) not in self.values:
            raise PasswordDeleteError("not found")
        del self.values[(service, username)]


def plaintext_keyring(directory: Path) -> PlaintextKeyring:
    """The real ``keyrings.alt.file.PlaintextKeyring``, writing ``keyring_pass.cfg`` in ``directory``
    (not in the user's data directory)."""
    backend = PlaintextKeyring()
    backend.file_path = str(directory / "keyring_pass.cfg")
    return backend
