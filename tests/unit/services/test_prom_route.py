"""``GET /metrics`` over real HTTP: the loopback API route (token rules of every data route) and
the opt-in ``metrics.listen`` listener (only /metrics, token still required, wider Host check)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from tests.helpers.prometheus import promtool_check, series_keys
from tests.helpers.states import NOW, account_state
from tests.unit.services.test_local_api import TOKEN, sources
from trayapp import settings as st
from trayapp.core.prom_metrics import CONTENT_TYPE, parse_listen
from trayapp.core.prom_snapshot import Activity
from trayapp.core.telemetry import TelemetryTotals
from trayapp.services import metrics_api
from trayapp.services.local_api import ApiSources, LocalApi
from trayapp.services.local_server import Limits, LocalServer
from trayapp.services.metrics_listener import MetricsListener, host_checker
from trayapp.settings_values import SettingsError
from trayapp.store import api_token

AUTH = {"Authorization": f"Bearer {TOKEN}"}


def activity() -> Activity:
    return Activity(polls={"ok": 4, "network": 1}, sessions=("working", "idle"), hook_events={"Stop": 5})


def with_activity() -> ApiSources:
    base = sources()
    return ApiSources(base.state, base.sessions, base.history, base.report_daily, base.get_setting,
                      base.now, activity=activity)  # fmt: skip


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[tuple[LocalApi, str]]:
    local = LocalApi(with_activity(), token=TOKEN, book=api_token.CodeBook(lambda: 0.0),
                     clients_file=tmp_path / "clients.json")  # fmt: skip
    server = LocalServer(local.routes(), limits=Limits(read_timeout=2.0))
    local.port = await server.start()
    yield local, f"http://127.0.0.1:{local.port}"
    await server.stop()


async def test_metrics_route_serves_the_exposition(api: tuple[LocalApi, str]) -> None:
    _local, base = api
    async with httpx.AsyncClient(base_url=base, timeout=5) as c:
        r = await c.get("/metrics", headers=AUTH)
    assert r.status_code == 200
    assert r.headers["content-type"] == CONTENT_TYPE
    result = promtool_check(r.text)
    assert result.returncode == 0, result.stdout + result.stderr
    assert 'claude_watch_window_utilization_ratio{account="default",window="five_hour"} 0.3' in r.text
    assert 'claude_watch_polls_total{account="default",outcome="ok"} 4' in r.text
    assert 'claude_watch_sessions{state="working"} 1' in r.text
    assert 'claude_watch_hook_events_total{event="Stop"} 5' in r.text
    keys = series_keys(r.text)
    assert len(keys) == len(set(keys))


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Bearer wrong-token"}, 401),
        ({"Authorization": f"Basic {TOKEN}"}, 401),
        ({**AUTH, "Origin": "https://evil.example"}, 403),
        ({**AUTH, "Host": "evil.example"}, 421),
    ],
)
async def test_metrics_route_refuses_like_every_data_route(
    api: tuple[LocalApi, str], headers: dict[str, str], status: int
) -> None:
    async with httpx.AsyncClient(base_url=api[1], timeout=5) as c:
        r = await c.get("/metrics", headers=headers)
    assert r.status_code == status
    assert "claude_watch" not in r.text


async def test_metrics_route_takes_no_query_string(api: tuple[LocalApi, str]) -> None:
    async with httpx.AsyncClient(base_url=api[1], timeout=5) as c:
        r = await c.get("/metrics", params={"token": TOKEN}, headers=AUTH)
    assert r.status_code == 400


async def test_a_paired_clients_token_reads_metrics(api: tuple[LocalApi, str], tmp_path: Path) -> None:
    local, base = api
    token = api_token.add_client("prometheus", "", NOW.isoformat(), tmp_path / "clients.json")
    local.clients = {c.token_sha256: c for c in api_token.load_clients(tmp_path / "clients.json")}
    async with httpx.AsyncClient(base_url=base, timeout=5) as c:
        assert (await c.get("/metrics", headers={"Authorization": f"Bearer {token}"})).status_code == 200


@pytest.mark.parametrize("style", ["value", "callable", "coroutine"])
async def test_telemetry_totals_feed_the_counters(style: str) -> None:
    totals = TelemetryTotals(tokens={("claude-opus-4", "input"): 1200}, cost_usd={"claude-opus-4": 0.75},
                             requests={"claude-opus-4": 3}, rejected_posts=1)  # fmt: skip

    async def coroutine() -> TelemetryTotals:
        return totals

    telemetry: Any = {"value": totals, "callable": lambda: totals, "coroutine": coroutine}[style]
    fake = SimpleNamespace(state=lambda: account_state(), now=lambda: NOW, activity=None, telemetry=telemetry)
    text = await metrics_api.metrics_text(fake)
    model = 'account="default",model="claude-opus-4"'
    assert f'claude_watch_telemetry_tokens_total{{{model},type="input"}} 1200' in text
    assert f"claude_watch_telemetry_cost_usd_total{{{model}}} 0.75" in text
    assert f"claude_watch_telemetry_requests_total{{{model}}} 3" in text
    assert "\nclaude_watch_telemetry_rejected_posts_total 1\n" in text


# ----- metrics.listen


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("0.0.0.0", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0.0.0.0:9464", ("0.0.0.0", 9464)),
        ("[::]:9100", ("::", 9100)),
        ("laptop.lan:9464", ("laptop.lan", 9464)),
    ],
)
def test_parse_listen(value: str, expected: tuple[str, int]) -> None:
    assert parse_listen(value) == expected


@pytest.mark.parametrize(
    "value", ["9464", "0.0.0.0", "0.0.0.0:0", "0.0.0.0:70000", ":9464", "a b:1", "::1:9464", "[::1]"]
)
def test_bad_listen_values_are_refused_by_the_setting(hermetic_env: Path, value: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        parse_listen(value)
    with pytest.raises(SettingsError, match="metrics.listen"):
        st.load().set("metrics.listen", value)


def test_the_listeners_host_check() -> None:
    ok = host_checker("0.0.0.0", hostname="laptop")
    for good in (
        "192.0.2.7:9464",
        "10.1.2.3",
        "[2001:db8::1]:9464",
        "laptop:9464",
        "laptop.lan",
        "LAPTOP.lan:1",
    ):
        assert ok(good), good
    for bad in ("evil.example:9464", "laptopx:9464", "attacker.laptop", "", "[::1"):
        assert not ok(bad), bad
    assert host_checker("metrics.example.org")("metrics.example.org:9464")


async def test_metrics_listener_serves_only_metrics_with_the_token(
    hermetic_env: Path, api: tuple[LocalApi, str]
) -> None:
    local, _base = api
    settings = st.load()
    port = free_port()
    settings.update({"metrics.listen": f"0.0.0.0:{port}"})
    current: list[LocalApi | None] = [local]
    listener = MetricsListener(settings, lambda: current[0])
    assert await listener.start() == port
    try:
        base = f"http://127.0.0.1:{port}"
        remote = {"Host": f"192.0.2.7:{port}"}  # as a scraper on another machine names it
        async with httpx.AsyncClient(base_url=base, timeout=5) as c:
            r = await c.get("/metrics", headers={**AUTH, **remote})
            assert r.status_code == 200
            assert r.headers["content-type"] == CONTENT_TYPE
            assert (await c.get("/metrics", headers=remote)).status_code == 401
            assert (await c.get("/metrics", headers={**AUTH, "Host": "evil.example"})).status_code == 421
            for path in ("/v1/status", "/v1/sessions", "/", "/hooks/v1/event"):
                assert (await c.get(path, headers={**AUTH, **remote})).status_code == 404, path
            local.token = "rotated-token-rotated-token-rotated"  # serve --new-token: revoked here too
            assert (await c.get("/metrics", headers={**AUTH, **remote})).status_code == 401
            current[0] = None  # api.enabled off
            assert (await c.get("/metrics", headers=remote)).status_code == 503
        settings.update({"metrics.listen": ""})  # follows the setting: off
        for _ in range(200):
            if listener.port is None:
                break
            await asyncio.sleep(0.01)
        assert listener.port is None
        with pytest.raises(httpx.ConnectError):
            async with httpx.AsyncClient(timeout=2) as c:
                await c.get(f"{base}/metrics")
    finally:
        await listener.stop()


async def test_no_listener_by_default(hermetic_env: Path, api: tuple[LocalApi, str]) -> None:
    listener = MetricsListener(st.load(), lambda: api[0])
    assert await listener.start() is None
    await listener.stop()


def test_the_loopback_server_still_refuses_other_addresses() -> None:
    with pytest.raises(ValueError, match="loopback"):
        LocalServer([], host="0.0.0.0")


async def test_the_app_feature_follows_the_sessions_hubs_api(
    hermetic_env: Path, api: tuple[LocalApi, str]
) -> None:
    from trayapp.features import metrics

    settings = st.load()
    port = free_port()
    settings.update({"metrics.listen": f"0.0.0.0:{port}"})
    cw = SimpleNamespace(settings=settings, sessions=SimpleNamespace(host=SimpleNamespace(api=api[0])))
    stop = await metrics.start(cw)  # type: ignore[arg-type]
    try:
        async with httpx.AsyncClient(timeout=5) as c:
            r = await c.get(f"http://127.0.0.1:{port}/metrics", headers=AUTH)
            assert r.status_code == 200
            cw.sessions.host = None  # the hub stopped its server
            assert (await c.get(f"http://127.0.0.1:{port}/metrics", headers=AUTH)).status_code == 503
    finally:
        await stop()
