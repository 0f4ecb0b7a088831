"""Quips: Claude-written through the Messages API (loopback), cached per alert, canned otherwise."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime, timedelta, timezone

import pytest

from tests.helpers.fixtures_channels import SettingsDict, make_alert
from tests.helpers.loopback_servers import AnthropicServer
from trayapp.channels import quips
from trayapp.core.clock import FakeClock
from trayapp.core.models import AlertKind, Level
from trayapp.platform.secrets import SecretStore


def writer(settings: SettingsDict, store: SecretStore, clock: FakeClock, **kw) -> quips.QuipWriter:
    return quips.QuipWriter(settings.get, store, now=clock.now, tz=UTC, **kw)


async def test_claude_writes_the_quip_once_per_alert(
    anthropic_server: AnthropicServer, settings: SettingsDict, store: SecretStore, clock: FakeClock
) -> None:
    store.set("anthropic-api-key", anthropic_server.api_key)
    settings["quips.model"] = "claude-haiku-4-5-20251001"
    anthropic_server.reply = (
        '"Ninety percent by noon. Claude is impressed, and slightly worried."\nExtra line'
    )
    w = writer(settings, store, clock)
    alert = make_alert(clock)
    first = await w.write(alert)
    second = await w.write(alert)
    assert first == second
    assert first.source == "claude"
    assert first.text == "Ninety percent by noon. Claude is impressed, and slightly worried."
    assert len(anthropic_server.calls) == 1
    body = anthropic_server.calls[0]["body"]
    assert body["model"] == "claude-haiku-4-5-20251001"
    assert body["max_tokens"] <= 100
    user = body["messages"][0]["content"]
    for fact in ("5-hour", "90%", "Resets in: 3 h\n", "Monday 12:00", "18% per hour"):  # the app's wording
        assert fact in user
    assert "sarcastic" in body["system"]


async def test_long_answers_are_cut_under_100_chars(
    anthropic_server: AnthropicServer, settings: SettingsDict, store: SecretStore, clock: FakeClock
) -> None:
    store.set("anthropic-api-key", anthropic_server.api_key)
    anthropic_server.reply = "word " * 60
    q = await writer(settings, store, clock).write(make_alert(clock))
    assert q.source == "claude"
    assert len(q.text) < 100
    assert q.text.endswith("…")


@pytest.mark.parametrize("mode", ["error", "overloaded"])
async def test_server_errors_give_canned(
    mode: str, anthropic_server: AnthropicServer, settings: SettingsDict, store: SecretStore, clock: FakeClock
) -> None:
    store.set("anthropic-api-key", anthropic_server.api_key)
    anthropic_server.mode = mode
    q = await writer(settings, store, clock).write(make_alert(clock))
    assert q.source == "canned"
    assert len(anthropic_server.calls) == 1


async def test_timeout_gives_canned(
    anthropic_server: AnthropicServer, settings: SettingsDict, store: SecretStore, clock: FakeClock
) -> None:
    store.set("anthropic-api-key", anthropic_server.api_key)
    anthropic_server.delay = 1.5
    q = await writer(settings, store, clock, timeout=0.3).write(make_alert(clock))
    assert q.source == "canned"
    assert q.detail == "timeout"


async def test_wrong_key_gives_canned(
    anthropic_server: AnthropicServer, settings: SettingsDict, store: SecretStore, clock: FakeClock
) -> None:
    store.set("anthropic-api-key", "sk-ant-api03-wrong")
    q = await writer(settings, store, clock).write(make_alert(clock))
    assert q.source == "canned"
    assert "AuthenticationError" in q.detail


async def test_without_a_key_no_call_is_made(
    anthropic_server: AnthropicServer,
    settings: SettingsDict,
    store: SecretStore,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A Claude Code / gateway bearer token in the environment is never borrowed.
    monkeypatch.setenv("ANTHROPIC_AUTH_TOKEN", "sk-ant-oat01-subscription-token")
    q = await writer(settings, store, clock).write(make_alert(clock))
    assert q.source == "canned"
    assert q.detail == "no Anthropic API key"
    assert anthropic_server.requests == []


async def test_subscription_token_is_refused(
    anthropic_server: AnthropicServer,
    settings: SettingsDict,
    store: SecretStore,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-oat01-subscription-token")
    q = await writer(settings, store, clock).write(make_alert(clock))
    assert q.source == "canned"
    assert "subscription" in q.detail
    assert anthropic_server.requests == []


async def test_env_key_and_disabled_setting(
    anthropic_server: AnthropicServer,
    settings: SettingsDict,
    store: SecretStore,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", anthropic_server.api_key)
    assert (await writer(settings, store, clock).write(make_alert(clock, key="a"))).source == "claude"
    settings["quips.enabled"] = False
    assert (await writer(settings, store, clock).write(make_alert(clock, key="b"))).source == "canned"
    assert len(anthropic_server.calls) == 1


def test_canned_table_is_big_and_every_quip_fits() -> None:
    table = quips.canned_table()
    assert sum(len(v) for v in table.values()) >= 40
    assert {"ok", "warning", "critical", "at_limit", "predictive", "fresh"} <= set(table)
    clock = FakeClock(datetime(2026, 8, 10, 0, 0, tzinfo=UTC))
    seen = set()
    for hour in range(0, 24, 3):
        for kind, level in [
            (AlertKind.THRESHOLD, Level.OK),
            (AlertKind.THRESHOLD, Level.WARNING),
            (AlertKind.THRESHOLD, Level.CRITICAL),
            (AlertKind.THRESHOLD, Level.AT_LIMIT),
            (AlertKind.PREDICTIVE, Level.CRITICAL),
            (AlertKind.FRESH_WINDOW, Level.OK),
        ]:
            for n in range(5):
                a = make_alert(
                    clock, key=f"{kind}{level}{hour}{n}", kind=kind, level=level, utilization=100.0
                )
                q = quips.canned(a, clock.now(), UTC)
                assert q.source == "canned", q.text
                assert 0 < len(q.text) < 100, q.text
                assert "{" not in q.text
                seen.add(q.text)
        clock.advance(3 * 3600)
    assert len(seen) >= 30  # the choice varies with level, time of day and alert


def test_canned_quip_follows_time_of_day() -> None:
    table = quips.canned_table()
    night = {q["text"].split("{")[0] for q in table["critical"] if q["when"] in ("night", "any")}
    clock = FakeClock(datetime(2026, 8, 10, 23, 30, tzinfo=timezone(timedelta(hours=0))))
    q = quips.canned(make_alert(clock), clock.now(), UTC)
    assert any(q.text.startswith(prefix) for prefix in night)


def test_sdk_is_not_imported_at_startup() -> None:
    import subprocess

    code = (
        "import sys, trayapp.channels.dispatcher, trayapp.channels.quips, trayapp.channels.telegram;"
        "import trayapp.cli.notify, trayapp.cli.secrets;"
        "print('anthropic' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_clean() -> None:
    assert quips.clean("  Hello   there \n second") == "Hello there"
    assert quips.clean("\n\n") is None
    assert quips.clean("'Quoted.'") == "Quoted."


async def test_concurrent_writers_share_one_call_and_key_stays_out_of_logs(
    anthropic_server: AnthropicServer,
    settings: SettingsDict,
    store: SecretStore,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    import asyncio
    import logging

    caplog.set_level(logging.DEBUG)
    store.set("anthropic-api-key", anthropic_server.api_key)
    anthropic_server.delay = 0.2
    w = writer(settings, store, clock)
    alert = make_alert(clock)
    a, b = await asyncio.gather(w.write(alert), w.write(alert))
    assert a == b
    assert a.source == "claude"
    assert len(anthropic_server.calls) == 1
    assert anthropic_server.api_key not in caplog.text


async def test_sdk_import_is_off_the_loop_and_outside_the_timeout(
    anthropic_server: AnthropicServer,
    settings: SettingsDict,
    store: SecretStore,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A slow first import of the SDK (about 1 s on a loaded machine) neither freezes the event
    loop (the GUI) nor eats the request's timeout: the quip still comes from Claude."""
    import time

    real_load = quips.QuipWriter.load_sdk

    def slow_load() -> object:
        time.sleep(0.6)  # a cold import on a busy machine
        return real_load()

    monkeypatch.setattr(quips.QuipWriter, "load_sdk", staticmethod(slow_load))
    store.set("anthropic-api-key", anthropic_server.api_key)
    anthropic_server.reply = "Steady as she goes."
    gaps: list[float] = []

    async def ticker() -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.02)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    ticking = asyncio.ensure_future(ticker())
    try:
        q = await writer(settings, store, clock, timeout=0.5).write(make_alert(clock))
    finally:
        ticking.cancel()
    assert q.source == "claude", q.detail
    assert max(gaps) < 0.45, max(gaps)  # a 0.6 s import on the loop thread would show here


@pytest.mark.parametrize("kind", sorted(quips.NO_QUIP_KINDS))
async def test_session_notices_get_no_quip_and_no_call(
    kind: AlertKind,
    anthropic_server: AnthropicServer,
    settings: SettingsDict,
    store: SecretStore,
    clock: FakeClock,
) -> None:
    """ "Claude needs you" is about a prompt, not a limit: no "Used: 0%" quip, no Messages API call."""
    from dataclasses import replace

    store.set("anthropic-api-key", anthropic_server.api_key)
    alert = replace(make_alert(clock), kind=kind, window_label="my-project", utilization=0.0)
    q = await writer(settings, store, clock).write(alert)
    assert q.text == ""
    assert anthropic_server.requests == []
