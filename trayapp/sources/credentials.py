"""Claude Code's OAuth login, read-only.

Looks in ``$CLAUDE_CONFIG_DIR/.credentials.json`` (every configured dir), then
``~/.claude/.credentials.json``, then on macOS the Keychain item ``Claude Code-credentials``
(and its ``-<8 hex of sha256(config dir)>`` variant when ``CLAUDE_CONFIG_DIR`` is set). The
account's identity comes from ``oauthAccount`` in ``.claude.json`` next to the config dir.

This module NEVER writes, and never refreshes a token: refresh tokens are single-use, and a
refresh done behind Claude Code's back logs the user out of it. An expired access token is
reported ("open Claude Code once"); Claude Code refreshes it on its next request. The token is
kept out of ``repr`` and is only ever identified by its SHA-256 (:attr:`Credentials.key`).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from trayapp import paths
from trayapp.core.models import AccountInfo, ErrorKind, FetchError
from trayapp.store.files import read_capped

KEYCHAIN_SERVICE = "Claude Code-credentials"
REQUIRED_SCOPE = "user:profile"
LOGIN_WARNING = timedelta(days=5)
MAX_FILE_BYTES = 1_000_000

MSG_SIGN_IN = "No Claude Code login found. Sign in with `claude` (run it once and log in)."
MSG_MCP_ONLY = (
    "Claude Code has only MCP server logins, no claude.ai login. Sign in with `claude` and run `/login`."
)
MSG_EXPIRED = "The Claude Code login token has expired. Open Claude Code once to refresh the login."
MSG_CLEARED = "Claude Code's login was rejected and cleared. Sign in again with `claude` (`/login`)."
MSG_SCOPE = (
    "The Claude Code token lacks the user:profile scope, so it cannot read usage "
    "(tokens from `claude setup-token` cannot). Sign in with `claude` and `/login`."
)


class CredentialStatus(StrEnum):
    OK = "ok"
    MISSING = "missing"
    MCP_ONLY = "mcp_only"
    EXPIRED = "expired"
    CLEARED = "cleared"
    MISSING_SCOPE = "missing_scope"


@dataclass(frozen=True, slots=True)
class Credentials:
    """The ``claudeAiOauth`` block. ``access_token`` never appears in repr or logs."""

    access_token: str = field(repr=False)
    expires_at: datetime | None
    login_expires_at: datetime | None
    scopes: tuple[str, ...] | None
    subscription_type: str | None
    rate_limit_tier: str | None
    origin: str

    @property
    def key(self) -> str:
        """SHA-256 of the token: identifies it (cooldowns, caches) without revealing it."""
        return token_key(self.access_token)


@dataclass(frozen=True, slots=True)
class CredentialsReport:
    """What was found, whether it can be used, and what to tell the user."""

    status: CredentialStatus
    credentials: Credentials | None
    account: AccountInfo
    message: str | None  # user-facing reason when status is not OK
    notices: tuple[str, ...]  # hints even when OK: "login expires in 2 days"
    checked: tuple[str, ...]  # where we looked, for `doctor`
    # Changes whenever the credential source changes (mtime, size, content hash).
    stamp: str | None

    @property
    def usable(self) -> bool:
        return self.status is CredentialStatus.OK and self.credentials is not None

    def error(self) -> FetchError | None:
        if self.usable:
            return None
        kind = (
            ErrorKind.NO_CREDENTIALS
            if self.status in (CredentialStatus.MISSING, CredentialStatus.MCP_ONLY)
            else ErrorKind.AUTH
        )
        return FetchError(kind, self.message or MSG_SIGN_IN)


def token_key(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def _ms_to_datetime(value: Any) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    try:
        return datetime.fromtimestamp(float(value) / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def parse_credentials(data: Any, origin: str) -> tuple[CredentialStatus, Credentials | None]:
    """Interpret the credential JSON (file or Keychain value)."""
    if not isinstance(data, dict):
        return CredentialStatus.MISSING, None
    oauth = data.get("claudeAiOauth")
    if not isinstance(oauth, dict):
        if isinstance(data.get("mcpOAuth"), dict):
            return CredentialStatus.MCP_ONLY, None
        return CredentialStatus.MISSING, None
    token = oauth.get("accessToken")
    raw_scopes = oauth.get("scopes")
    scopes = tuple(s for s in raw_scopes if isinstance(s, str)) if isinstance(raw_scopes, list) else None
    creds = Credentials(
        access_token=token if isinstance(token, str) else "",
        expires_at=_ms_to_datetime(oauth.get("expiresAt")),
        login_expires_at=_ms_to_datetime(oauth.get("refreshTokenExpiresAt")),
        scopes=scopes,
        subscription_type=_str(oauth.get("subscriptionType")),
        rate_limit_tier=_str(oauth.get("rateLimitTier")),
        origin=origin,
    )
    if not creds.access_token:
        # Claude Code leaves empty strings behind after a rejected refresh.
        return CredentialStatus.CLEARED, creds
    return CredentialStatus.OK, creds


def _stamp_of(path: Path, raw: bytes) -> str:
    st = path.stat()
    digest = hashlib.sha256(raw).hexdigest()[:16]
    return f"{path}:{st.st_mtime_ns}:{st.st_size}:{digest}"


def candidate_files(config_dirs: Sequence[Path] | None = None, home: Path | None = None) -> list[Path]:
    dirs = list(config_dirs) if config_dirs is not None else paths.claude_config_dirs()
    files = [d / ".credentials.json" for d in dirs]
    default = (home or Path.home()) / ".claude" / ".credentials.json"
    if default not in files:
        files.append(default)
    return files


def identity_files(config_dirs: Sequence[Path] | None = None, home: Path | None = None) -> list[Path]:
    """``.claude.json`` candidates: inside a custom config dir, else ``~/.claude.json``."""
    home = home or Path.home()
    out: list[Path] = []
    if config_dirs is not None or os.environ.get("CLAUDE_CONFIG_DIR"):
        # A custom config dir is a separate account: never borrow ~/.claude.json's identity.
        for d in config_dirs if config_dirs is not None else paths.claude_config_dirs():
            out += [d / ".claude.json", d / ".config.json"]
        return out
    return [home / ".claude.json", home / ".claude" / ".config.json"]


def keychain_services(config_dirs: Sequence[Path] | None = None) -> list[str]:
    """Keychain service names to try, most specific first."""
    services: list[str] = []
    raw = os.environ.get("CLAUDE_CONFIG_DIR", "").strip()
    dirs = [str(d) for d in config_dirs] if config_dirs is not None else ([raw] if raw else [])
    for d in dirs:
        suffix = hashlib.sha256(d.encode()).hexdigest()[:8]
        services.append(f"{KEYCHAIN_SERVICE}-{suffix}")
    services.append(KEYCHAIN_SERVICE)
    return services


def read_keychain(service: str) -> str | None:
    """The Keychain value for ``service`` via ``security`` (macOS only), or None."""
    try:
        proc = subprocess.run(
            ["security", "find-generic-password", "-s", service, "-w"],
            capture_output=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if proc.returncode != 0:
        return None
    return proc.stdout.decode("utf-8", "replace").strip() or None


def decode_keychain_value(value: str) -> str:
    """Some macOS versions hand the value back hex-encoded; undo that."""
    value = value.strip()
    if value and not value.startswith("{") and all(c in "0123456789abcdefABCDEF" for c in value):
        try:
            return bytes.fromhex(value).decode("utf-8", "replace")
        except ValueError:
            return value
    return value


def read_identity(candidates: Sequence[Path]) -> dict[str, Any]:
    for path in candidates:
        try:
            data = json.loads(read_capped(path, 50 * MAX_FILE_BYTES))
        except (OSError, ValueError, RecursionError):
            continue
        account = data.get("oauthAccount") if isinstance(data, dict) else None
        if isinstance(account, dict):
            return account
    return {}


def load_credentials(
    now: datetime,
    *,
    config_dirs: Sequence[Path] | None = None,
    home: Path | None = None,
    platform: str = sys.platform,
    keychain_reader: Callable[[str], str | None] = read_keychain,
) -> CredentialsReport:
    """Find and interpret Claude Code's login. Blocking (file reads, maybe ``security``): call
    it from a worker thread."""
    checked: list[str] = []
    seen: list[tuple[CredentialStatus, Credentials | None, str | None]] = []
    for path in candidate_files(config_dirs, home):
        checked.append(str(path))
        try:
            raw = read_capped(path, MAX_FILE_BYTES)  # never a FIFO or /dev/zero
            stamp = _stamp_of(path, raw)
        except OSError:
            continue
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):
            seen.append((CredentialStatus.MISSING, None, stamp))
            continue
        status, creds = parse_credentials(data, str(path))
        seen.append((status, creds, stamp))
        if status is CredentialStatus.OK:
            break
    if platform == "darwin" and not any(s is CredentialStatus.OK for s, _, _ in seen):
        for service in keychain_services(config_dirs):
            checked.append(f"macOS Keychain item {service!r}")
            value = keychain_reader(service)
            if value is None:
                continue
            value = decode_keychain_value(value)
            stamp = "keychain:" + hashlib.sha256(value.encode()).hexdigest()[:16]
            try:
                status, creds = parse_credentials(json.loads(value), f"macOS Keychain ({service})")
            except (ValueError, RecursionError):
                continue
            seen.append((status, creds, stamp))
            if status is CredentialStatus.OK:
                break
    identity = read_identity(identity_files(config_dirs, home))
    return _report(now, seen, identity, tuple(checked))


def _report(
    now: datetime,
    seen: list[tuple[CredentialStatus, Credentials | None, str | None]],
    identity: dict[str, Any],
    checked: tuple[str, ...],
) -> CredentialsReport:
    # Best find wins: a usable login, then a cleared one, then MCP-only, then nothing.
    rank = {CredentialStatus.OK: 0, CredentialStatus.CLEARED: 1, CredentialStatus.MCP_ONLY: 2}
    seen.sort(key=lambda item: rank.get(item[0], 3))
    status, creds, stamp = seen[0] if seen else (CredentialStatus.MISSING, None, None)
    account = AccountInfo(
        email=_str(identity.get("emailAddress")),
        organization=_str(identity.get("organizationName")),
        subscription_type=creds.subscription_type if creds else None,
        rate_limit_tier=creds.rate_limit_tier if creds else None,
        access_token_expires_at=creds.expires_at if creds else None,
        login_expires_at=creds.login_expires_at if creds else None,
    )
    notices: list[str] = []
    message: str | None = None
    if status is CredentialStatus.MISSING:
        message = MSG_SIGN_IN
    elif status is CredentialStatus.MCP_ONLY:
        message = MSG_MCP_ONLY
    elif status is CredentialStatus.CLEARED:
        message = MSG_CLEARED
    elif creds is not None:
        if creds.scopes is not None and REQUIRED_SCOPE not in creds.scopes:
            status, message = CredentialStatus.MISSING_SCOPE, MSG_SCOPE
        elif creds.expires_at is not None and creds.expires_at <= now:
            status, message = CredentialStatus.EXPIRED, MSG_EXPIRED
        if creds.login_expires_at is not None:
            left = creds.login_expires_at - now
            if left <= timedelta(0):
                notices.append("The Claude Code login has expired: sign in again with `claude` (`/login`).")
            elif left <= LOGIN_WARNING:
                days = max(1, round(left.total_seconds() / 86400))
                unit = "day" if days == 1 else "days"
                notices.append(
                    f"The Claude Code login expires in {days} {unit}: run `/login` in Claude Code."
                )
    return CredentialsReport(status, creds, account, message, tuple(notices), checked, stamp)
