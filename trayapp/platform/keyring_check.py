"""How the keyring is doing, for ``doctor``: which backend, and whether it is locked, without a prompt.

Reading a secret from a locked Secret Service collection asks for the password (gcr-prompter);
with no display the prompt fails and ``keyring`` raises ``KeyringLocked``, so a plain "backend
found" check said "ok" while every secret read failed. Here the collection's ``Locked`` property
is read over D-Bus instead (no prompt, no secret read). Other backends (macOS Keychain, Windows
Credential Manager, KWallet) report no lock state: ``None``, unknown.
"""

from __future__ import annotations

from typing import Any

from trayapp.platform.secrets import SecretsError, SecretStore, install_hint, unlock_hint
from trayapp.runtime import call_with_timeout


def is_locked(backend: Any) -> bool | None:
    """Whether ``backend``'s collection is locked: True/False for Secret Service, else None."""
    if type(backend).__module__ != "keyring.backends.SecretService":
        return None
    import secretstorage
    from secretstorage.collection import DEFAULT_COLLECTION

    conn = secretstorage.dbus_init()
    try:
        path = getattr(backend, "preferred_collection", None) or DEFAULT_COLLECTION
        return bool(secretstorage.Collection(conn, path).is_locked())
    except secretstorage.exceptions.SecretStorageException:
        return None  # no such collection yet: gnome-keyring creates it at the first write
    finally:
        conn.close()


def health(timeout: float = 5.0) -> tuple[str, str, str]:
    """``(status, detail, fix)``: ``ok``; ``warn`` for no usable keyring, a locked one or no answer
    in ``timeout`` seconds; ``fail`` when the backend itself cannot be loaded."""
    store = SecretStore(timeout=timeout)

    def probe() -> tuple[str, bool | None]:
        backend = store.backend()  # the one the app really stores secrets in (file backends refused)
        return f"{type(backend).__module__}.{type(backend).__name__}", is_locked(backend)

    try:
        name, locked = call_with_timeout(probe, timeout, lane="keyring")
    except TimeoutError:
        return "warn", f"the keyring did not answer within {timeout:g} s (locked?)", unlock_hint()
    except SecretsError as exc:
        return "warn", f"{exc.reason}; Telegram/Slack secrets cannot be stored", exc.fix or install_hint()
    except Exception as exc:
        return "fail", f"cannot load a backend ({type(exc).__name__})", install_hint()
    if locked:
        return "warn", f"{name}: locked, so stored secrets cannot be read", unlock_hint()
    return "ok", name, ""
