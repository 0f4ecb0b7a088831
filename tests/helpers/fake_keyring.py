"""Hand-written keyring backends for tests: an in-memory one, and a stand-in for the refused
``keyrings.alt`` plaintext backend (same module path prefix, so the refusal logic sees it as such)."""

from __future__ import annotations

import threading

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError


class MemoryKeyring(KeyringBackend):
    """A keyring that keeps values in a dict; ``block`` makes every call hang (locked keyring)."""

    priority = 10  # type: ignore[assignment]

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


class PlaintextLookalike(MemoryKeyring):
    """Pretends to be keyrings.alt.file.PlaintextKeyring (module name is what gets checked)."""

    priority = 0.5  # type: ignore[assignment]


PlaintextLookalike.__module__ = "keyrings.alt.file"
