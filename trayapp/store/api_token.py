"""The local API's secrets: the API token, paired clients, and short-lived codes kept in memory.

- ``state/api-token`` (0600): the bearer token every data route of the local API accepts. Made at
  first use, replaced by :func:`rotate_token` (``claude-watch serve --new-token``), which also
  revokes every paired client.
- ``state/api-clients.json`` (0600): clients that paired (the browser extension), a list of
  ``{name, token_sha256, origin, created_at}``. Only the token's SHA-256 is kept: the file alone
  lets nobody in.
- In memory, in the serving process only (:class:`CodeBook`): pairing codes (``NNN-NNN``, single
  use, 5 minutes, at most 5 wrong tries a minute), login codes (single use, 60 s, the dashboard's
  "Open in browser" link) and the dashboard sessions they open (12 h).

Every file is untrusted on read (size cap, strict parse); an unreadable token file is replaced,
an unreadable clients file counts as no clients. Secrets are never logged.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from trayapp import paths
from trayapp.store.files import atomic_write, read_capped

log = logging.getLogger(__name__)

TOKEN_FILE = "api-token"
CLIENTS_FILE = "api-clients.json"
MAX_TOKEN_FILE = 512
MAX_CLIENTS_FILE = 64 * 1024
MAX_CLIENTS = 32
PAIRING_TTL = 300.0
LOGIN_TTL = 60.0
SESSION_TTL = 12 * 3600.0
WRONG_CODES_PER_MINUTE = 5


def token_path() -> Path:
    return paths.state_dir() / TOKEN_FILE


def clients_path() -> Path:
    return paths.state_dir() / CLIENTS_FILE


def _valid_token(text: str) -> bool:
    return 32 <= len(text) <= 128 and text.isascii() and all(c.isalnum() or c in "-_" for c in text)


def load_token(path: Path | None = None) -> str | None:
    """The stored API token, or None when missing or unreadable (nothing is created)."""
    try:
        text = read_capped(path or token_path(), MAX_TOKEN_FILE).decode("ascii").strip()
    except (OSError, ValueError):
        return None
    return text if _valid_token(text) else None


def load_or_create_token(path: Path | None = None) -> str:
    """The API token, made (and saved 0600) when missing or unreadable."""
    target = path or token_path()
    token = load_token(target)
    if token is not None:
        return token
    if target.exists():
        log.warning("%s could not be read: a new API token is made (paired clients pair again)", target)
    return _write_token(target)


def rotate_token(path: Path | None = None, clients: Path | None = None) -> str:
    """A new API token; every paired client is revoked and every code and session forgotten."""
    token = _write_token(path or token_path())
    save_clients([], clients)
    BOOK.clear()
    return token


def _write_token(target: Path) -> str:
    token = secrets.token_urlsafe(32)
    atomic_write(target, token + "\n", 0o600)
    return token


def sha256(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Client:
    """A paired client: its token only as a hash; ``origin`` is the browser extension's origin."""

    name: str
    token_sha256: str
    origin: str
    created_at: str


def _client(item: object) -> Client | None:
    if not isinstance(item, dict):
        return None
    fields = [item.get(k) for k in ("name", "token_sha256", "origin", "created_at")]
    if not all(isinstance(v, str) and len(v) <= 256 for v in fields):
        return None
    name, digest, origin, created = (str(v) for v in fields)
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        return None
    return Client(name, digest, origin, created)


def load_clients(path: Path | None = None) -> list[Client]:
    """The paired clients; a missing or unreadable file (or a bad entry) counts as none."""
    try:
        data = json.loads(read_capped(path or clients_path(), MAX_CLIENTS_FILE))
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as exc:
        log.warning("paired API clients could not be read (%s): none are accepted", type(exc).__name__)
        return []
    items = data if isinstance(data, list) else []
    return [c for c in (_client(i) for i in items[:MAX_CLIENTS]) if c is not None]


def save_clients(clients: list[Client], path: Path | None = None) -> None:
    text = json.dumps([asdict(c) for c in clients[-MAX_CLIENTS:]], indent=2)
    atomic_write(path or clients_path(), text + "\n", 0o600)


def add_client(name: str, origin: str, created_at: str, path: Path | None = None) -> str:
    """Pair a client: returns its new token (shown once, stored only as a hash)."""
    token = secrets.token_urlsafe(32)
    clean = "".join(c for c in name if c.isprintable())[:64] or "client"
    clients = [*load_clients(path), Client(clean, sha256(token), origin[:256], created_at)]
    save_clients(clients, path)
    return token


class RateLimited(Exception):
    """Too many wrong pairing codes lately: every code is refused for a while."""


class CodeBook:
    """One-time codes and dashboard sessions, in memory (a restart forgets them, on purpose).

    Args:
        clock: monotonic seconds (tests move it).
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._pairing: dict[str, float] = {}
        self._login: dict[str, float] = {}
        self._sessions: dict[str, float] = {}
        self._wrong: deque[float] = deque()

    def clear(self) -> None:
        self._pairing.clear()
        self._login.clear()
        self._sessions.clear()
        self._wrong.clear()

    @staticmethod
    def _prune(codes: dict[str, float], now: float) -> None:
        for code in [c for c, until in codes.items() if until <= now]:
            del codes[code]

    def new_pairing_code(self) -> str:
        """``NNN-NNN``, valid once for 5 minutes."""
        now = self.clock()
        self._prune(self._pairing, now)
        while True:
            code = f"{secrets.randbelow(1000):03d}-{secrets.randbelow(1000):03d}"
            if code not in self._pairing:
                self._pairing[code] = now + PAIRING_TTL
                return code

    def take_pairing_code(self, code: str) -> bool:
        """Consume ``code``; False when unknown or expired. Raises :class:`RateLimited` after 5
        wrong codes within a minute (then even a right one waits: guessing 10^6 codes is slow)."""
        now = self.clock()
        while self._wrong and self._wrong[0] <= now - 60.0:
            self._wrong.popleft()
        if len(self._wrong) >= WRONG_CODES_PER_MINUTE:
            raise RateLimited
        self._prune(self._pairing, now)
        if self._take(self._pairing, code):
            return True
        self._wrong.append(now)
        return False

    def new_login_code(self) -> str:
        now = self.clock()
        self._prune(self._login, now)
        code = secrets.token_urlsafe(24)
        self._login[code] = now + LOGIN_TTL
        return code

    def take_login_code(self, code: str) -> bool:
        self._prune(self._login, self.clock())
        return self._take(self._login, code)

    def new_session(self) -> str:
        now = self.clock()
        self._prune(self._sessions, now)
        session = secrets.token_urlsafe(32)
        self._sessions[session] = now + SESSION_TTL
        return session

    def session_valid(self, session: str) -> bool:
        until = next((t for s, t in self._sessions.items() if hmac.compare_digest(s, session)), None)
        return until is not None and until > self.clock()

    @staticmethod
    def _take(codes: dict[str, float], code: str) -> bool:
        found = next((c for c in codes if hmac.compare_digest(c, code)), None)
        if found is None:
            return False
        del codes[found]
        return True


BOOK = CodeBook()


def new_login_code() -> str:
    """A one-time login code for the dashboard (60 s) in this process's book."""
    return BOOK.new_login_code()


def new_pairing_code() -> str:
    """A one-time pairing code (``NNN-NNN``, 5 minutes) in this process's book."""
    return BOOK.new_pairing_code()
