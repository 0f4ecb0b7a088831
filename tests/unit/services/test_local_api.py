"""The local API against real HTTP (httpx) on a real loopback server: every route, who may read
what, pairing, the login link, and hostile requests."""

from __future__ import annotations

import asyncio
import json
import stat
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers.states import NOW, account_state, window_state
from trayapp.services.local_api import COOKIE, ApiSources, LocalApi, parse_query
from trayapp.services.local_server import Limits, LocalServer
from trayapp.store import api_token

TOKEN = "api-token-for-tests-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
SETTINGS = {
    "alerts.enabled": True,
    "alerts.desktop": False,
    "alerts.five_hour_thresholds": [90, 50],
    "alerts.weekly_thresholds": [80],
}


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


class Api:
    """A started server with the API routes and a client bound to it."""

    def __init__(self, api: LocalApi, server: LocalServer, clock: Clock) -> None:
        self.api, self.server, self.clock = api, server, clock
        self.base = f"http://127.0.0.1:{server.port}"
        self.auth = {"Authorization": f"Bearer {TOKEN}"}

    def client(self, **kwargs: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.base, timeout=5, **kwargs)


async def history(since: datetime) -> list[tuple[datetime, str, float, Any]]:
    return [(since + timedelta(minutes=5), "five_hour", 12.5, None), (NOW, "seven_day", 20.0, None)]


async def report(since: date | None) -> dict[str, Any]:
    return {"daily": [{"date": str(since)}], "totals": {}}


def sources(state: object = None) -> ApiSources:
    the_state = state if state is not None else account_state()
    return ApiSources(
        state=lambda: the_state,
        sessions=lambda: {"schema_version": 1, "sessions": [{"session_id": "s1"}]},
        history=history,
        report_daily=report,
        get_setting=SETTINGS.__getitem__,
        now=lambda: NOW,
    )


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Api]:
    clock = Clock()
    page = tmp_path / "dashboard.html"
    page.write_text("<!doctype html><p>THE DASHBOARD</p>")
    api = LocalApi(
        sources(),
        token=TOKEN,
        book=api_token.CodeBook(clock),
        dashboard=page,
        clients_file=tmp_path / "clients.json",
    )
    server = LocalServer(api.routes(), limits=Limits(read_timeout=2.0))
    api.port = await server.start()
    yield Api(api, server, clock)
    await server.stop()


async def test_status_is_the_status_document_with_settings(running: Api) -> None:
    async with running.client() as c:
        r = await c.get("/v1/status", headers=running.auth)
    assert r.status_code == 200
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["content-type"] == "application/json"
    assert "access-control-allow-origin" not in r.headers
    doc = r.json()
    assert doc["schema_version"] == 1
    assert [w["id"] for w in doc["windows"]] == ["five_hour", "seven_day"]
    assert doc["windows"][0]["utilization"] == 30.0
    assert doc["desktop_notifications"] is False  # alerts.desktop is off
    assert doc["thresholds"]["five_hour"] == [50, 90]
    assert doc["thresholds"]["weekly"] == [80]


async def test_every_data_route_answers(running: Api) -> None:
    async with running.client(headers=running.auth) as c:
        h = (await c.get("/v1/history", params={"range": "7d"})).json()
        assert h["range"] == "7d"
        assert h["schema_version"] == 1
        assert h["points"][0] == {"t": (NOW - timedelta(days=7, minutes=-5)).isoformat(),
                                  "window": "five_hour", "utilization": 12.5}  # fmt: skip
        assert (await c.get("/v1/history")).json()["range"] == "24h"
        assert (await c.get("/v1/sessions")).json()["sessions"] == [{"session_id": "s1"}]
        assert (await c.get("/v1/agents")).json() == {"schema_version": 1, "agents": []}
        daily = await c.get("/v1/report/daily", params={"since": "2026-08-01"})
        assert daily.json()["daily"] == [{"date": "2026-08-01"}]
        assert (await c.get("/health")).json() == {"ok": True, "app": "claude-watch"}


@pytest.mark.parametrize(
    "target",
    [
        "/v1/history?range=30d",
        "/v1/history?range=24h&range=7d",
        "/v1/history?range=24h&extra=1",
        "/v1/history?token=" + TOKEN,
        "/v1/report/daily?since=yesterday",
        "/v1/report/daily?since=20260801",
        "/v1/report/daily?until=2026-08-01",
        "/v1/status?token=" + TOKEN,
        "/v1/status?x",
    ],
)
async def test_strict_queries_are_refused(running: Api, target: str) -> None:
    async with running.client(headers=running.auth) as c:
        assert (await c.get(target)).status_code == 400


def test_parse_query_rules() -> None:
    assert parse_query("range=7d", {"range": frozenset({"7d"})}) == {"range": "7d"}
    for bad in ("range", "range=8d", "x=1", "range=7d&range=7d"):
        with pytest.raises(ValueError, match="query parameter|bad value|twice"):
            parse_query(bad, {"range": frozenset({"7d"})})


@pytest.mark.parametrize("path", ["/v1/status", "/v1/history", "/v1/sessions", "/v1/agents",
                                  "/v1/report/daily", "/v1/events"])  # fmt: skip
async def test_no_token_or_a_wrong_one_is_401(running: Api, path: str) -> None:
    async with running.client() as c:
        assert (await c.get(path)).status_code == 401
        assert (await c.get(path, headers={"Authorization": f"Bearer {TOKEN}x"})).status_code == 401
        assert (await c.get(path, headers={"Authorization": f"Basic {TOKEN}"})).status_code == 401
        assert (
            await c.get(path, headers={"Authorization": "Bearer ünïcode".encode("latin-1")})
        ).status_code in (400, 401)


@pytest.mark.parametrize("origin", ["https://evil.example", "http://127.0.0.1:1", "null", "http://localhost"])
async def test_a_web_page_origin_is_refused_even_with_the_token(running: Api, origin: str) -> None:
    async with running.client() as c:
        r = await c.get("/v1/status", headers={**running.auth, "Origin": origin})
        assert r.status_code == 403
        assert "access-control-allow-origin" not in r.headers
        pair = await c.post("/v1/pair", json={"code": "123-456"}, headers={"Origin": origin})
        assert pair.status_code == 403


async def test_the_own_origin_is_not_a_foreign_page(running: Api) -> None:
    async with running.client() as c:
        r = await c.get("/v1/status", headers={**running.auth, "Origin": running.base})
    assert r.status_code == 200
    assert "access-control-allow-origin" not in r.headers


async def test_bad_host_is_refused(running: Api) -> None:
    async with running.client() as c:
        r = await c.get("/v1/status", headers={**running.auth, "Host": "evil.example"})
    assert r.status_code == 421


async def test_oversized_and_malformed_bodies(running: Api) -> None:
    async with running.client() as c:
        big = await c.post("/v1/pair", content=b"{" + b" " * 5000 + b"}")
        assert big.status_code == 413
        for body in (b"not json", b"[]", b'{"code": 123456}', b'{"code": "12-3456"}', b'{"name": "x"}',
                     b'{"code": "123-456", "name": 5}'):  # fmt: skip
            assert (await c.post("/v1/pair", content=body)).status_code == 400, body


async def test_pairing_gives_a_working_token_once(running: Api, tmp_path: Path) -> None:
    async with running.client() as c:
        assert (await c.post("/v1/pair/new")).status_code == 401
        made = (await c.post("/v1/pair/new", headers=running.auth)).json()
        assert made["expires_in"] == 300
        ext = "chrome-extension://abcdefghijklmnop"
        body = {"code": made["code"], "name": "Chromium"}
        r = await c.post("/v1/pair", json=body, headers={"Origin": ext})
        assert r.status_code == 200
        assert r.headers["content-type"] == "application/json"
        token = r.json()["token"]
        assert r.json()["port"] == running.server.port
        assert (await c.post("/v1/pair", json=body)).status_code == 403  # single use
        mine = {"Authorization": f"Bearer {token}", "Origin": ext}
        status = await c.get("/v1/status", headers=mine)
        assert status.status_code == 200
        assert status.headers["access-control-allow-origin"] == ext
        # The API token is not the extension's: no CORS for it; another extension gets none either.
        assert (
            "access-control-allow-origin"
            not in (await c.get("/v1/status", headers={**running.auth, "Origin": ext})).headers
        )
        other = await c.get("/v1/status", headers={**mine, "Origin": "moz-extension://other"})
        assert "access-control-allow-origin" not in other.headers
        # A paired client may read but not make codes.
        assert (await c.post("/v1/pair/new", headers=mine)).status_code == 401
    saved = json.loads((tmp_path / "clients.json").read_text())
    assert saved[0]["origin"] == ext
    assert saved[0]["name"] == "Chromium"
    assert token not in (tmp_path / "clients.json").read_text()
    assert stat.S_IMODE((tmp_path / "clients.json").stat().st_mode) == 0o600


async def test_pairing_codes_expire(running: Api) -> None:
    async with running.client() as c:
        code = (await c.post("/v1/pair/new", headers=running.auth)).json()["code"]
        running.clock.t += 301
        assert (await c.post("/v1/pair", json={"code": code})).status_code == 403


async def test_wrong_pairing_codes_are_rate_limited(running: Api) -> None:
    async with running.client() as c:
        code = (await c.post("/v1/pair/new", headers=running.auth)).json()["code"]
        wrong = "000-000" if code != "000-000" else "000-001"
        for _ in range(5):
            assert (await c.post("/v1/pair", json={"code": wrong})).status_code == 403
        limited = await c.post("/v1/pair", json={"code": code})
        assert limited.status_code == 429  # even the right code waits
        running.clock.t += 61
        assert (await c.post("/v1/pair", json={"code": code})).status_code == 200


async def test_login_link_sets_a_strict_cookie_once(running: Api) -> None:
    async with running.client() as c:
        assert (await c.post("/v1/login/new")).status_code == 401
        url = (await c.post("/v1/login/new", headers=running.auth)).json()["url"]
        assert url.startswith(f"{running.base}/login?code=")
        signed_out = await c.get("/")
        assert "THE DASHBOARD" not in signed_out.text
        assert "serve --open" in signed_out.text
        r = await c.get(url)
        assert r.status_code == 303
        assert r.headers["location"] == "/"
        cookie = r.headers["set-cookie"]
        assert cookie.startswith(f"{COOKIE}=")
        for flag in ("HttpOnly", "SameSite=Strict", "Path=/"):
            assert flag in cookie
        page = await c.get("/")  # httpx keeps the cookie
        assert "THE DASHBOARD" in page.text
        assert "connect-src 'self'" in page.headers["content-security-policy"]
        assert (await c.get("/v1/status")).status_code == 200  # the dashboard reads with its cookie
        # The cookie is not the owner's token: it cannot make codes.
        assert (await c.post("/v1/pair/new")).status_code == 401
        assert (await c.post("/v1/login/new")).status_code == 401
    async with running.client() as fresh:
        again = await fresh.get(url, follow_redirects=False)
        assert again.status_code == 403
        assert "set-cookie" not in again.headers
        forged = await fresh.get("/v1/status", headers={"Cookie": f"{COOKIE}=" + "A" * 43})
        assert forged.status_code == 401


async def test_login_codes_expire_and_sessions_too(running: Api) -> None:
    async with running.client() as c:
        url = (await c.post("/v1/login/new", headers=running.auth)).json()["url"]
        running.clock.t += 61
        assert (await c.get(url)).status_code == 403
        url = (await c.post("/v1/login/new", headers=running.auth)).json()["url"]
        assert (await c.get(url)).status_code == 303
        assert (await c.get("/v1/status")).status_code == 200
        running.clock.t += 12 * 3600 + 1
        assert (await c.get("/v1/status")).status_code == 401


async def test_rotating_revokes_the_old_token_and_clients(running: Api) -> None:
    async with running.client() as c:
        code = (await c.post("/v1/pair/new", headers=running.auth)).json()["code"]
        client_token = (await c.post("/v1/pair", json={"code": code})).json()["token"]
        assert (await c.post("/v1/token/rotate", headers=running.auth)).json() == {"rotated": True}
        assert (await c.get("/v1/status", headers=running.auth)).status_code == 401
        old_client = {"Authorization": f"Bearer {client_token}"}
        assert (await c.get("/v1/status", headers=old_client)).status_code == 401
        new = {"Authorization": f"Bearer {api_token.load_token()}"}
        assert (await c.get("/v1/status", headers=new)).status_code == 200


async def test_no_data_yet_is_503(tmp_path: Path) -> None:
    api = LocalApi(ApiSources(lambda: None, dict, history, report, SETTINGS.__getitem__), token=TOKEN)
    server = LocalServer(api.routes())
    port = await server.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as c:
            r = await c.get("/v1/status", headers={"Authorization": f"Bearer {TOKEN}"})
        assert r.status_code == 503
    finally:
        await server.stop()


async def test_status_follows_the_state(tmp_path: Path) -> None:
    states = [account_state(window_state("five_hour", 42.0))]
    api = LocalApi(
        ApiSources(lambda: states[-1], dict, history, report, SETTINGS.__getitem__, now=lambda: NOW),
        token=TOKEN,
    )
    server = LocalServer(api.routes())
    port = await server.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as c:
            auth = {"Authorization": f"Bearer {TOKEN}"}
            assert (await c.get("/v1/status", headers=auth)).json()["windows"][0]["utilization"] == 42.0
            states.append(account_state(window_state("five_hour", 77.0)))
            await asyncio.sleep(0)
            assert (await c.get("/v1/status", headers=auth)).json()["windows"][0]["utilization"] == 77.0
    finally:
        await server.stop()


def test_token_file_is_private_and_rotates(hermetic_env: Path) -> None:
    first = api_token.load_or_create_token()
    assert api_token.load_or_create_token() == first
    assert stat.S_IMODE(api_token.token_path().stat().st_mode) == 0o600
    api_token.add_client("x", "moz-extension://a", "2026-01-01")
    second = api_token.rotate_token()
    assert second != first
    assert api_token.load_token() == second
    assert api_token.load_clients() == []
    api_token.token_path().write_text("short\n")
    assert api_token.load_or_create_token() not in ("short", second)


async def test_status_follows_the_alert_settings() -> None:
    settings = dict(SETTINGS)
    api = LocalApi(
        ApiSources(lambda: the_state, dict, history, report, settings.__getitem__, now=lambda: NOW),
        token=TOKEN,
    )
    the_state = account_state()
    assert api.status_document(the_state)["desktop_notifications"] is False
    settings["alerts.desktop"] = True
    settings["alerts.weekly_thresholds"] = [70, 95]
    doc = api.status_document(the_state)
    assert doc["desktop_notifications"] is True
    assert doc["thresholds"]["weekly"] == [70, 95]


async def test_a_slow_report_is_503_and_the_server_stays_up(running: Api) -> None:
    async def slow(_since: date | None) -> dict[str, Any]:
        await asyncio.sleep(5)
        return {}

    running.api.sources = ApiSources(
        running.api.sources.state, dict, history, slow, SETTINGS.__getitem__, now=lambda: NOW
    )
    running.api.report_timeout = 0.1
    async with running.client(headers=running.auth) as c:
        r = await c.get("/v1/report/daily")
        assert r.status_code == 503
        assert r.headers["retry-after"] == "10"
        assert (await c.get("/v1/agents")).status_code == 200
