"""Claude Code credentials: found where Claude Code keeps them, interpreted, never modified."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers.fixtures_usage import NOW, TOKEN, write_credentials
from trayapp.core.models import ErrorKind
from trayapp.sources.credentials import (
    KEYCHAIN_SERVICE,
    CredentialStatus,
    keychain_services,
    load_credentials,
    parse_credentials,
    token_key,
)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = tmp_path / "home"
    h.mkdir()
    return h


def test_reads_config_dir_file_and_identity(claude_dir: Path, home: Path) -> None:
    write_credentials(claude_dir)
    (claude_dir / ".claude.json").write_text(
        json.dumps({"oauthAccount": {"emailAddress": "alice@example.com", "organizationName": "Acme"}})
    )
    report = load_credentials(NOW, home=home)
    assert report.status is CredentialStatus.OK
    assert report.usable
    creds = report.credentials
    assert creds is not None
    assert creds.access_token == TOKEN
    assert creds.origin == str(claude_dir / ".credentials.json")
    assert report.account.email == "alice@example.com"
    assert report.account.organization == "Acme"
    assert report.account.plan == "Max 5x"
    assert creds.key == hashlib.sha256(TOKEN.encode()).hexdigest() == token_key(TOKEN)
    assert TOKEN not in repr(creds)
    assert TOKEN not in repr(report)
    assert report.notices == ()
    assert report.error() is None


def test_falls_back_to_home_dot_claude(claude_dir: Path, home: Path) -> None:
    (home / ".claude").mkdir()
    write_credentials(home / ".claude")
    report = load_credentials(NOW, home=home)
    assert report.usable
    assert report.credentials is not None
    assert report.credentials.origin == str(home / ".claude" / ".credentials.json")


def test_identity_from_home_when_no_custom_dir(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLAUDE_CONFIG_DIR")
    monkeypatch.setenv("HOME", str(home))
    (home / ".claude").mkdir()
    write_credentials(home / ".claude")
    (home / ".claude.json").write_text(json.dumps({"oauthAccount": {"emailAddress": "bob@example.com"}}))
    report = load_credentials(NOW, home=home)
    assert report.usable
    assert report.account.email == "bob@example.com"


def test_no_credentials(home: Path) -> None:
    report = load_credentials(NOW, home=home)
    assert report.status is CredentialStatus.MISSING
    assert not report.usable
    err = report.error()
    assert err is not None
    assert err.kind is ErrorKind.NO_CREDENTIALS
    assert "Sign in with `claude`" in err.message
    assert len(report.checked) == 2


def test_mcp_only(claude_dir: Path, home: Path) -> None:
    write_credentials(claude_dir, oauth=False, extra={"mcpOAuth": {"srv|1": {"accessToken": "x"}}})
    report = load_credentials(NOW, home=home)
    assert report.status is CredentialStatus.MCP_ONLY
    assert "MCP" in (report.message or "")


def test_expired_access_token(claude_dir: Path, home: Path) -> None:
    write_credentials(claude_dir, expires_at=NOW - timedelta(minutes=1))
    report = load_credentials(NOW, home=home)
    assert report.status is CredentialStatus.EXPIRED
    err = report.error()
    assert err is not None
    assert err.kind is ErrorKind.AUTH
    assert "Open Claude Code once" in err.message


def test_missing_profile_scope(claude_dir: Path, home: Path) -> None:
    write_credentials(claude_dir, scopes=["user:inference"])
    report = load_credentials(NOW, home=home)
    assert report.status is CredentialStatus.MISSING_SCOPE
    assert "user:profile" in (report.message or "")


def test_cleared_after_rejected_refresh(claude_dir: Path, home: Path) -> None:
    write_credentials(claude_dir, token="")
    assert load_credentials(NOW, home=home).status is CredentialStatus.CLEARED


def test_login_expiring_soon_is_a_notice(claude_dir: Path, home: Path) -> None:
    write_credentials(claude_dir, login_expires_at=NOW + timedelta(days=2, hours=1))
    report = load_credentials(NOW, home=home)
    assert report.usable
    assert report.notices == ("The Claude Code login expires in 2 days: run `/login` in Claude Code.",)


def test_garbage_file_is_missing_not_a_crash(claude_dir: Path, home: Path) -> None:
    (claude_dir / ".credentials.json").write_bytes(b"\x00{not json")
    assert load_credentials(NOW, home=home).status is CredentialStatus.MISSING


def test_stamp_changes_with_content(claude_dir: Path, home: Path) -> None:
    write_credentials(claude_dir)
    a = load_credentials(NOW, home=home).stamp
    assert a == load_credentials(NOW, home=home).stamp
    write_credentials(claude_dir, token=TOKEN + "x")
    assert load_credentials(NOW, home=home).stamp != a


def test_keychain_on_macos(claude_dir: Path, home: Path) -> None:
    asked: list[str] = []
    value = json.dumps({"claudeAiOauth": {"accessToken": "sk-ant-oat01-KC", "scopes": ["user:profile"]}})

    def reader(service: str) -> str | None:
        asked.append(service)
        return value.encode().hex() if service == KEYCHAIN_SERVICE else None

    report = load_credentials(NOW, home=home, platform="darwin", keychain_reader=reader)
    assert report.usable
    assert report.credentials is not None
    assert report.credentials.access_token == "sk-ant-oat01-KC"  # hex-encoded value decoded
    suffix = hashlib.sha256(str(claude_dir).encode()).hexdigest()[:8]
    assert asked == [f"{KEYCHAIN_SERVICE}-{suffix}", KEYCHAIN_SERVICE]
    assert keychain_services() == asked


def test_keychain_not_consulted_elsewhere(home: Path) -> None:
    def reader(service: str) -> str | None:
        raise AssertionError("keychain read on linux")

    load_credentials(NOW, home=home, platform="linux", keychain_reader=reader)


def test_never_writes_the_credentials_file(claude_dir: Path, home: Path) -> None:
    path = write_credentials(claude_dir, expires_at=NOW - timedelta(hours=1))
    os.utime(path, ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))
    before = (path.read_bytes(), path.stat().st_mtime_ns, path.stat().st_mode)
    for _ in range(3):
        load_credentials(NOW, home=home)
    assert (path.read_bytes(), path.stat().st_mtime_ns, path.stat().st_mode) == before
    assert sorted(p.name for p in claude_dir.iterdir()) == [".credentials.json"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=10), c, max_size=4),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(
    body=json_values
    | st.fixed_dictionaries(
        {},
        optional={
            "claudeAiOauth": st.dictionaries(
                st.sampled_from(
                    [
                        "accessToken",
                        "expiresAt",
                        "refreshTokenExpiresAt",
                        "scopes",
                        "subscriptionType",
                        "rateLimitTier",
                    ]
                ),
                json_values,
            )
            | json_values,
            "mcpOAuth": json_values,
        },
    )
)
def test_arbitrary_credential_json_never_crashes(body: object) -> None:
    status, creds = parse_credentials(body, "test")
    assert isinstance(status, CredentialStatus)
    if creds is not None:
        assert isinstance(creds.access_token, str)
