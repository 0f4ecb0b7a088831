"""Our own secrets (Telegram bot token, Slack webhook URL, Anthropic API key, the Claude Code token
for agents in containers) in the OS keyring.

Everything goes through :class:`SecretStore`, which wraps the ``keyring`` library and runs every
call on the runtime's ``keyring`` lane (one daemon worker thread of its own) with a timeout: an
unlock prompt (gcr-prompter, KWallet) can block forever, and neither the GUI thread nor the
ledger or file work may wait on it. There is no plaintext fallback: when no real
backend exists (``keyring``'s ``fail`` backend, or only the ``keyrings.alt`` file backends, which
store secrets base64-encoded or behind a terminal passphrase) every call raises
:class:`NoKeyringBackend` with a message naming what to install. Environment variables override
the keyring for headless use. Values are never logged; errors mention names only.
:func:`validate` says why a value cannot be right for a name (the CLI and the settings page
check with it before storing anything).
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from trayapp.runtime import call_with_timeout, run_blocking

log = logging.getLogger(__name__)

SERVICE = "claude-watch"

# Secret name -> environment variable that overrides it (headless use, CI).
ENV_OVERRIDES: dict[str, str] = {
    "telegram-bot-token": "CLAUDE_WATCH_TELEGRAM_BOT_TOKEN",
    "slack-webhook-url": "CLAUDE_WATCH_SLACK_WEBHOOK_URL",
    "anthropic-api-key": "ANTHROPIC_API_KEY",
    "claude-oauth-token": "CLAUDE_CODE_OAUTH_TOKEN",
}
ALL_NAMES: tuple[str, ...] = tuple(ENV_OVERRIDES)
# The secrets of the alert channels (their Settings page has a row for each); the container token
# belongs to the agents (services.agent_containers) and is set with `claude-watch secrets set`.
NAMES: tuple[str, ...] = tuple(n for n in ALL_NAMES if n != "claude-oauth-token")
DESCRIPTIONS: dict[str, str] = {
    "telegram-bot-token": "Telegram bot token (from @BotFather)",
    "slack-webhook-url": "Slack incoming webhook URL",
    "anthropic-api-key": "Anthropic API key for quips (console.anthropic.com; not your Claude login)",
    "claude-oauth-token": "Claude Code token for agents in containers (from `claude setup-token`)",
}

DEFAULT_TIMEOUT = 10.0
T = TypeVar("T")


class SecretsError(RuntimeError):
    """A keyring operation failed; the message is safe to show (it never holds a value).

    ``reason`` is what went wrong and ``fix`` what to do (``str()`` says both)."""

    def __init__(self, reason: str, fix: str = "") -> None:
        super().__init__(f"{reason}: {fix}" if fix else reason)
        self.reason = reason
        self.fix = fix


class NoKeyringBackend(SecretsError):
    """No acceptable keyring backend exists on this system."""


class KeyringLocked(SecretsError):
    """The keyring is locked and stayed locked (no prompt could be shown, or it was dismissed)."""


class KeyringTimeout(SecretsError):
    """The keyring did not answer in time (often a locked keyring waiting on a prompt)."""


class UnknownSecret(SecretsError):
    """A name outside :data:`NAMES`."""


def install_hint() -> str:
    """What the user should install or start to get a keyring on this platform."""
    if sys.platform == "darwin":
        return "the macOS Keychain should always be available; check that Keychain Access works"
    if sys.platform == "win32":
        return "Windows Credential Manager should always be available; check the Credential Manager service"
    return (
        "install and start a Secret Service provider: gnome-keyring (GNOME and most desktops, "
        "`apt install gnome-keyring`) or KWallet (KDE), and make sure a D-Bus session is running"
    )


def unlock_hint() -> str:
    """How to unlock the keyring on this platform."""
    if sys.platform == "darwin":
        return "unlock the login keychain (Keychain Access, or `security unlock-keychain`) and try again"
    if sys.platform == "win32":
        return "sign in to Windows again to unlock the Credential Manager, then try again"
    return (
        "unlock it and try again: log in to the desktop again, or open Passwords and Keys "
        "(`seahorse`) and unlock the Login keyring; without a desktop, "
        "`gnome-keyring-daemon --replace --unlock` reads the password on stdin"
    )


def _refusal(backend: Any) -> str | None:
    """Why ``backend`` is not acceptable, or None when it is a real OS keyring."""
    module = type(backend).__module__
    name = type(backend).__name__
    if module.startswith("keyrings.alt"):
        return f"{module}.{name} stores secrets in a file: refused"
    if module in ("keyring.backends.fail", "keyring.backends.null"):
        return "no backend"
    return None


def pick_backend() -> Any:
    """Return the highest-priority acceptable keyring backend, or raise :class:`NoKeyringBackend`."""
    import keyring
    from keyring.backends.chainer import ChainerBackend

    try:
        current = keyring.get_keyring()
    except ImportError as exc:
        # PYTHON_KEYRING_BACKEND or keyringrc.cfg names a backend that is not installed (often the
        # plaintext keyrings.alt one, which would be refused anyway).
        raise NoKeyringBackend(
            f"the keyring backend chosen by PYTHON_KEYRING_BACKEND or keyringrc.cfg cannot be loaded "
            f"({exc.name or 'a module'} is missing; file backends are refused anyway)",
            install_hint(),
        ) from None
    candidates = list(current.backends) if isinstance(current, ChainerBackend) else [current]
    candidates.sort(key=lambda b: getattr(b, "priority", 0), reverse=True)
    refused: list[str] = []
    for backend in candidates:
        why = _refusal(backend)
        if why is None:
            return backend
        if why != "no backend":
            refused.append(why)
    detail = f" ({'; '.join(refused)})" if refused else ""
    raise NoKeyringBackend(f"no OS keyring available{detail}", install_hint())


def validate(name: str, value: str) -> str | None:
    """A reason ``value`` cannot be right for ``name``, without quoting the value (None: fine)."""
    if any(c.isspace() for c in value):
        return "the value contains spaces or line breaks"
    if name == "slack-webhook-url" and not value.startswith(("https://", "http://")):
        return "a Slack webhook URL starts with https://hooks.slack.com/..."
    if name == "telegram-bot-token" and ":" not in value:
        return "a Telegram bot token looks like 123456789:AA... (ask @BotFather)"
    if name == "anthropic-api-key" and value.startswith("sk-ant-oat"):
        return "that is a Claude subscription (OAuth) token; quips need an API key from console.anthropic.com"
    if name == "claude-oauth-token" and value.startswith("sk-ant-api"):
        return "that is an API key; containers need the long-lived token `claude setup-token` prints"
    return None


def _timed_out(timeout: float, what: str) -> KeyringTimeout:
    return KeyringTimeout(
        f"the keyring did not answer within {timeout:g} s while trying to {what} "
        "(is it locked and waiting for a password prompt?)"
    )


def _translate(exc: BaseException, what: str) -> SecretsError:
    if isinstance(exc, SecretsError):
        return exc
    from keyring import errors

    if isinstance(exc, errors.NoKeyringError):
        return NoKeyringBackend("no OS keyring available", install_hint())
    if isinstance(exc, ImportError):
        return NoKeyringBackend(f"the keyring backend cannot be loaded ({what})", install_hint())
    if isinstance(exc, errors.KeyringLocked):
        return KeyringLocked(f"the keyring is locked (trying to {what})", unlock_hint())
    if isinstance(exc, errors.InitError):
        return SecretsError(f"the keyring could not be opened ({what}): {type(exc).__name__}", install_hint())
    if isinstance(exc, errors.PasswordDeleteError):
        return SecretsError(f"nothing to delete ({what})")
    # Never include str(exc): some backends echo arguments back.
    return SecretsError(f"keyring error while trying to {what}: {type(exc).__name__}")


@dataclass(frozen=True, slots=True)
class SecretStatus:
    name: str
    is_set: bool
    origin: str  # "environment (VAR)", "keyring", "" when not set, or "keyring unavailable: ..."


class SecretStore:
    """The app's secrets. ``backend`` may be injected (tests); otherwise picked on first use.

    Synchronous methods block the calling thread for at most ``timeout`` seconds; call them from
    the CLI or a worker. Coroutine methods (``aget``, ``aset``, ``adelete``) are what the GUI uses.
    """

    def __init__(self, backend: Any | None = None, timeout: float = DEFAULT_TIMEOUT) -> None:
        self._backend = backend
        self.timeout = timeout
        self._problems: dict[str, SecretsError] = {}  # name -> why the last quiet read found nothing

    @staticmethod
    def check_name(name: str) -> str:
        if name not in ENV_OVERRIDES:
            raise UnknownSecret(f"unknown secret {name!r}; known: {', '.join(ALL_NAMES)}")
        return name

    def backend(self) -> Any:
        if self._backend is None:
            self._backend = pick_backend()
        return self._backend

    def backend_name(self) -> str:
        try:
            b = self.backend()
        except SecretsError as exc:
            return f"unavailable: {exc}"
        return f"{type(b).__module__}.{type(b).__name__}"

    def _call(self, what: str, fn: Callable[[Any], T]) -> T:
        def body() -> T:
            return fn(self.backend())

        try:
            # On the keyring lane already (the coroutine API below), this runs inline and the
            # coroutine's own timeout applies; from any other thread it waits at most self.timeout.
            return call_with_timeout(body, self.timeout, lane="keyring")
        except TimeoutError:
            raise _timed_out(self.timeout, what) from None
        except BaseException as exc:
            raise _translate(exc, what) from None

    # --- synchronous API (worker threads, CLI)
    def get_stored(self, name: str) -> str | None:
        """The keyring's value for ``name`` (ignoring environment overrides)."""
        self.check_name(name)
        value: str | None = self._call(f"read {name}", lambda b: b.get_password(SERVICE, name))
        return value or None

    def get(self, name: str) -> str | None:
        """Environment override first, then the keyring."""
        env = os.environ.get(ENV_OVERRIDES[self.check_name(name)], "").strip()
        if env:
            return env
        return self.get_stored(name)

    def get_quietly(self, name: str) -> str | None:
        """Like :meth:`get`, but a missing keyring means "not set" (logged once, by name)."""
        try:
            value = self.get(name)
        except SecretsError as exc:
            log.info("secret %s unavailable: %s", name, exc)
            self._problems[name] = exc
            return None
        self._problems.pop(name, None)
        return value

    def why_missing(self, name: str, default: str) -> str:
        """Why the last quiet read of ``name`` found nothing: ``default`` (not set: how to set it)
        when the keyring answered; a locked or silent keyring alone (the secret may well be
        stored); ``default`` and the keyring's problem otherwise (no usable keyring)."""
        problem = self._problems.get(name)
        if problem is None:
            return default
        if isinstance(problem, KeyringLocked | KeyringTimeout):
            return str(problem)
        return f"{default} ({problem})"

    def set(self, name: str, value: str) -> None:
        self.check_name(name)
        if not value or not value.strip():
            raise SecretsError(f"refusing to store an empty {name}")
        self._call(f"store {name}", lambda b: b.set_password(SERVICE, name, value.strip()))

    def delete(self, name: str) -> bool:
        """Remove ``name`` from the keyring; False when it was not there."""
        self.check_name(name)
        if self.get_stored(name) is None:
            return False
        self._call(f"delete {name}", lambda b: b.delete_password(SERVICE, name))
        return True

    def status(self, name: str) -> SecretStatus:
        var = ENV_OVERRIDES[self.check_name(name)]
        if os.environ.get(var, "").strip():
            return SecretStatus(name, True, f"environment ({var})")
        try:
            stored = self.get_stored(name)
        except SecretsError as exc:
            return SecretStatus(name, False, f"keyring unavailable: {exc}")
        return SecretStatus(name, stored is not None, "keyring" if stored else "")

    # --- coroutine API (GUI thread under qasync): the work runs on the keyring lane, and the
    # awaiting caller gives up after self.timeout (the call itself cannot be interrupted; a late
    # answer is dropped). Not run_in_executor: qasync's executor logs call arguments and results
    # at DEBUG level, which would put secret values in a log; run_blocking hands them over in
    # closures.
    async def _on_lane(self, what: str, fn: Callable[[], T]) -> T:
        try:
            return await asyncio.wait_for(run_blocking(fn, lane="keyring"), self.timeout)
        except TimeoutError:
            raise _timed_out(self.timeout, what) from None

    async def aget(self, name: str) -> str | None:
        return await self._on_lane(f"read {name}", lambda: self.get(name))

    async def aget_quietly(self, name: str) -> str | None:
        try:
            return await self._on_lane(f"read {name}", lambda: self.get_quietly(name))
        except SecretsError as exc:  # the timeout: get_quietly handles every other failure
            log.info("secret %s unavailable: %s", name, exc)
            self._problems[name] = exc
            return None

    async def aset(self, name: str, value: str) -> None:
        await self._on_lane(f"store {name}", lambda: self.set(name, value))

    async def adelete(self, name: str) -> bool:
        return await self._on_lane(f"delete {name}", lambda: self.delete(name))

    async def astatus(self, name: str) -> SecretStatus:
        try:
            return await self._on_lane(f"read {name}", lambda: self.status(name))
        except KeyringTimeout as exc:
            return SecretStatus(name, False, f"keyring unavailable: {exc}")


_default: SecretStore | None = None


def default_store() -> SecretStore:
    """The process-wide store (backend picked lazily on first use)."""
    global _default
    if _default is None:
        _default = SecretStore()
    return _default


def secret_forms(secret: str) -> set[str]:
    """The forms in which a hostile or buggy server may echo ``secret`` back: as it is,
    URL-encoded (with or without ``/`` kept, or with ``+`` for spaces) and, for a URL such as a
    Slack webhook, its path alone and each long segment of it (the secret part of the path).
    Case is handled by :func:`redact`. Forms shorter than 4 characters are left out."""
    from urllib.parse import quote, quote_plus, urlsplit

    forms = {secret, quote(secret, safe=""), quote(secret), quote_plus(secret)}
    if "://" in secret:
        path = urlsplit(secret).path
        forms.update({path, path.lstrip("/")})
        forms.update(part for part in path.split("/") if len(part) >= 8)
        forms.update(quote(form, safe="") for form in list(forms))
    return {f for f in forms if len(f) >= 4}


def redact(text: str, *secrets: str | None) -> str:
    """Replace every form of any of ``secrets`` in ``text`` (error messages, URLs, server answers)
    by ``***``, in any letter case (see :func:`secret_forms`)."""
    import re

    forms: set[str] = set()
    for s in secrets:
        if s and len(s) >= 4:
            forms |= secret_forms(s)
    for form in sorted(forms, key=len, reverse=True):  # longest first: a path before its segments
        text = re.sub(re.escape(form), "***", text, flags=re.IGNORECASE)
    return text


class RedactingFilter(logging.Filter):
    """Replaces known secret values in log records. httpx logs every request URL at INFO, and a
    Telegram URL holds the bot token, so this sits on the HTTP libraries' loggers."""

    def __init__(self) -> None:
        super().__init__()
        self.values: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.values:
            return True
        try:
            message = record.getMessage()
        except Exception:
            return True
        cleaned = redact(message, *self.values)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


_filter = RedactingFilter()
_FILTERED_LOGGERS = ("httpx", "httpx2", "httpcore", "anthropic", "anthropic._base_client")


def register_sensitive(*values: str | None) -> None:
    """Make sure ``values`` never reach a log line through the HTTP libraries' loggers."""
    for v in values:
        if v and len(v) >= 4:
            _filter.values.add(v)
    for name in _FILTERED_LOGGERS:
        logger = logging.getLogger(name)
        if _filter not in logger.filters:
            logger.addFilter(_filter)
