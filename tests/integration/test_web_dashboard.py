"""The web dashboard and the API's browser safety, in a real headless Chromium (issue 17).

One ``claude-watch serve --demo`` child process (the simulated account, its own CLAUDE_WATCH_HOME)
and one browser for the module. Chromium maps ``rebind.test`` to 127.0.0.1 (a DNS rebinding
attacker's name), and a second tiny HTTP server on another port plays the other web site that
tries to read the API. For the wording, the real API routes also run in-process on a state the
test chooses (``tests/helpers/api_in_thread``). Set ``CW_SCREENSHOT_DIR`` to keep the light and dark
screenshots.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers.api_in_thread import InProcessApi
from tests.helpers.browser import Browser, start_browser
from tests.helpers.serve_process import ServeProcess
from tests.helpers.states import account_state, error, window_state
from trayapp.core import humanize
from trayapp.core.models import ErrorKind, ExtraUsage
from trayapp.ui.theme import DARK, LIGHT

REPO = Path(__file__).resolve().parents[2]
# What the page may show only when it has read the API: the demo account's email and our fields.
SECRET_MARKERS = ("demo@example.invalid", "utilization", "five_hour", "Max 20x")


class Serve(ServeProcess):
    """``claude-watch serve --demo`` (:class:`ServeProcess`) plus authenticated calls and login links."""

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def api(self, method: str, path: str) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token()}"}
        return httpx.request(method, self.base + path, headers=headers, timeout=10)

    def login_url(self) -> str:
        """A fresh one-time login link, made the way ``serve --open`` asks the server for one."""
        r = self.api("POST", "/v1/login/new")
        r.raise_for_status()
        url = str(r.json()["url"])
        assert url.startswith(self.base + "/login?code=")
        return url


ATTACK_PAGE = b"""<!DOCTYPE html><html><body><pre id="out">running</pre><script>
const target = new URLSearchParams(location.search).get("t");
async function attempt(mode, credentials) {
  try {
    const r = await fetch(target, {mode, credentials, cache: "no-store"});
    const text = await r.text();
    return `${mode}/${credentials}: read type=${r.type} status=${r.status} body=${text}`;
  } catch (err) { return `${mode}/${credentials}: error ${err.name}`; }
}
Promise.all([attempt("cors", "omit"), attempt("cors", "include"), attempt("no-cors", "include")])
  .then((rs) => { document.getElementById("out").textContent = rs.join("\\n"); document.title = "done"; });
</script></body></html>"""


class OtherSite:
    """Another origin (another port) serving the page that tries to read the API."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(ATTACK_PAGE)))
                self.end_headers()
                self.wfile.write(ATTACK_PAGE)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serve]:
    server = Serve(tmp_path_factory.mktemp("cw-web-home"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    b = start_browser(["--host-resolver-rules=MAP rebind.test 127.0.0.1"])
    yield b
    b.quit()


@pytest.fixture(scope="module")
def logged_in(serve: Serve, browser: Browser) -> Browser:
    """The browser after following a login link: the dashboard open with the session cookie."""
    browser.set_size(900, 1400)
    browser.get(serve.login_url())
    browser.wait_for("return document.body.dataset.conn === 'live' && !!document.querySelector('.gauge')")
    return browser


def page_percents(browser: Browser) -> dict[str, str]:
    return dict(
        browser.run(
            "return [...document.querySelectorAll('#windows .gauge')]"
            ".map((g) => [g.dataset.window, g.querySelector('.pct').textContent]);"
        )
    )


def test_the_dashboard_renders_the_demo_accounts_numbers(serve: Serve, logged_in: Browser) -> None:
    b = logged_in
    assert b.url == serve.base + "/"  # the code left the address bar
    amount = "return document.querySelector('#extra-usage .amount').textContent"
    for _ in range(5):  # the demo moves; compare with a reading taken at the same moment
        doc = serve.status()
        expected = {w["id"]: f"{w['utilization']:.0f}%" for w in doc["windows"]}
        e = doc["extra_usage"]
        money = f"{humanize.format_money(e['used'], e['currency'])} / "
        money += humanize.format_money(e["monthly_limit"], e["currency"])
        if page_percents(b) == expected and b.run(amount) == money:
            break
        time.sleep(1)
    assert page_percents(b) == expected
    assert b.run(amount) == money
    assert "five_hour" in expected
    text = b.run("return document.querySelector('main').innerText")
    assert "demo@example.invalid" in text
    assert re.search(r"resets in (\d+ (d|h|min|s))( \d+ (h|min))? · ", text)
    assert "via demo data" in text
    # The countdowns are recomputed in the page every second, between two readings.
    reset = "document.querySelector('.gauge .reset')"
    first = b.run(f"const t = {reset}.textContent; {reset}.textContent = 'x'; return t;")
    assert b.wait_for(f"const t = {reset}.textContent; return t !== 'x' && t", 3)
    assert first.startswith("resets in ")


def test_the_timeline_draws_history_from_the_api(serve: Serve, logged_in: Browser) -> None:
    b = logged_in
    points = serve.api("GET", "/v1/history?range=24h").json()["points"]
    drawn = b.wait_for(
        "const p = [...document.querySelectorAll('#timeline path[data-window]')];"
        "return p.length ? p.map((x) => x.dataset.window) : null;"
        if points
        else "return document.querySelector('#timeline svg') ? ['none'] : null;"
    )
    assert set(drawn) <= {p["window"] for p in points} | {"none"}
    b.run("document.querySelector('.range button[data-range=\"7d\"]').click();")
    b.wait_for("return document.querySelector('#timeline svg').getAttribute('aria-label').includes('7d')")


def test_light_and_dark_follow_the_system_scheme(logged_in: Browser, tmp_path: Path) -> None:
    b = logged_in
    shots = Path(os.environ.get("CW_SCREENSHOT_DIR") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    background = "return getComputedStyle(document.body).backgroundColor"

    def rgb(hex_colour: str) -> str:
        r, g, bl = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
        return f"rgb({r}, {g}, {bl})"

    b.color_scheme("light")
    assert b.wait_for(f"{background} === arguments[0]", 5, rgb(LIGHT.bg))
    light = b.screenshot(shots / "web-dashboard-light.png")
    b.color_scheme("dark")
    assert b.wait_for(f"{background} === arguments[0]", 5, rgb(DARK.bg))
    dark = b.screenshot(shots / "web-dashboard-dark.png")
    b.color_scheme("light")
    assert light.stat().st_size > 10_000
    assert dark.stat().st_size > 10_000


def test_the_login_link_works_once_and_the_cookie_is_httponly(serve: Serve, browser: Browser) -> None:
    b = browser
    link = serve.login_url()
    b.delete_cookies()
    b.get(link)
    b.wait_for("return document.body.dataset.conn === 'live'")
    [cookie] = [c for c in b.cookies() if c["name"] == "cw_session"]
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert cookie["path"] == "/"
    assert "cw_session" not in b.run("return document.cookie")
    # The same link again, without the cookie: refused, and the browser is not signed in.
    b.delete_cookies()
    b.get(link)
    assert not b.cookies()
    status = b.run_async(
        "const done = arguments[arguments.length - 1];"
        "fetch('/v1/status', {credentials: 'same-origin'}).then((r) => done(r.status), () => done(-1));"
    )
    assert status in (401, 403)
    assert not b.run("return document.querySelector('.gauge') !== null")
    b.get(serve.login_url())  # sign in again for the tests that follow
    b.wait_for("return document.body.dataset.conn === 'live'")


def test_a_page_from_another_origin_reads_nothing(serve: Serve, logged_in: Browser) -> None:
    b = logged_in
    assert any(c["name"] == "cw_session" for c in b.cookies())  # the browser is signed in
    site = OtherSite()
    try:
        b.get(f"http://127.0.0.1:{site.port}/?t={serve.base}/v1/status")
        b.wait_for("return document.title === 'done'")
        out = b.run("return document.getElementById('out').textContent")
    finally:
        site.stop()
    lines = dict(line.split(": ", 1) for line in out.splitlines())
    assert lines["cors/omit"] == "error TypeError"
    assert lines["cors/include"] == "error TypeError"
    assert lines["no-cors/include"] == "read type=opaque status=0 body="
    for marker in SECRET_MARKERS:
        assert marker not in out


@pytest.mark.parametrize("path", ["/v1/status", "/"])
def test_a_rebound_name_is_refused(serve: Serve, logged_in: Browser, path: str) -> None:
    b = logged_in
    b.get(f"http://rebind.test:{serve.port}{path}")
    text = b.run("return document.documentElement.outerHTML")
    status = b.run_async(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0]).then(async (r) => done([r.status, await r.text()]),"
        " (e) => done([-1, String(e)]));",
        path,
    )
    assert status[0] in (403, 421)
    for marker in SECRET_MARKERS:
        assert marker not in text
        assert marker not in status[1]
    assert "<svg" not in text  # not the dashboard either


def test_the_page_says_when_the_app_is_gone_and_when_its_session_ended(
    serve: Serve, logged_in: Browser
) -> None:
    b = logged_in
    b.get(serve.base + "/")
    b.wait_for("return document.body.dataset.conn === 'live'")
    serve.stop()
    b.wait_for("return document.body.dataset.conn === 'offline'", 20)
    banner = b.run("return document.getElementById('banner').textContent")
    assert "not answering" in banner
    assert b.run("return document.querySelector('.gauge') !== null")  # the last numbers stay
    # The app comes back on the same port, but sessions live in its memory: signed out, said so.
    serve.start()
    b.wait_for("return document.body.dataset.conn === 'expired'", 45)
    assert "open it again from the tray menu" in b.run("return document.getElementById('banner').textContent")


def gauge_texts(browser: Browser) -> dict[str, list[str]]:
    return dict(
        browser.run(
            "return [...document.querySelectorAll('#windows .gauge')].map((g) => [g.dataset.window,"
            " ['.pct', '.reset', '.burn', '.pace'].map((s) => g.querySelector(s).textContent)"
            ".concat([g.dataset.level])]);"
        )
    )


def same_words(browser: Browser, expected: Callable[[], dict[str, list[str]]]) -> bool:
    """The page's gauge texts equal the popup's; asked again when a countdown's minute turned
    between the two readings."""
    for _ in range(3):
        page, words = gauge_texts(browser), expected()
        if page == words:
            return True
        time.sleep(0.3)
    assert page == words
    return False


def test_the_page_words_a_reading_like_the_popup(browser: Browser) -> None:
    now = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(seconds=30)  # far from a minute edge
    windows = (
        window_state("five_hour", 82.0, timedelta(hours=1, minutes=12), now, rate=20.0),
        window_state("seven_day", 100.0, timedelta(days=2, hours=3), now, rate=0.0),
        window_state("seven_day_opus", 40.5, timedelta(days=3), now, rate=0.5),  # half to even: 40%
    )
    extra = ExtraUsage(
        is_enabled=True, monthly_limit_minor=5000, used_minor=1234, utilization=24.68, currency="EUR"
    )
    fresh = account_state(*windows, now=now, extra=extra, age=0.0)
    served = InProcessApi(fresh)
    try:
        browser.get(served.login_url())
        browser.wait_for("return document.body.dataset.conn === 'live' && !!document.querySelector('.gauge')")

        def popup_words(state: Any) -> dict[str, list[str]]:
            at = datetime.now(UTC)
            return {
                ws.window.id: [
                    humanize.format_percent(ws.window.utilization),
                    humanize.reset_text(ws, at),
                    "" if state.stale else humanize.burn_text(ws),
                    "" if state.stale else humanize.pace_text(ws, at),
                    "stale" if state.stale else str(ws.level),
                ]
                for ws in state.windows
            }

        assert same_words(browser, lambda: popup_words(fresh))
        assert "at this pace: 100% at " in gauge_texts(browser)["five_hour"][3]
        amount = browser.run("return document.querySelector('#extra-usage .amount').textContent")
        assert amount == f"{humanize.format_money(12.34, 'EUR')} / {humanize.format_money(50.0, 'EUR')}"
        assert browser.run("return document.getElementById('banner').hidden")
        # The next reading failed: the popup's banner (fix and retry countdown), grey gauges, no pace.
        retry = now + timedelta(minutes=5)
        failed = account_state(*windows, now=now, extra=extra, age=90.0, error=error(ErrorKind.RATE_LIMITED))
        failed = replace(failed, error=replace(failed.error, retry_at=retry))
        served.publish(failed)
        browser.wait_for("return !document.getElementById('banner').hidden")
        banner = browser.run("return document.getElementById('banner').textContent")
        assert banner == humanize.banner_text(failed, datetime.now(UTC))
        assert same_words(browser, lambda: popup_words(failed))
    finally:
        served.stop()


def test_session_names_are_shown_as_text_never_run(browser: Browser) -> None:
    """Session names and paths come from files any local program can write: never HTML."""
    served = InProcessApi(account_state())
    hostile = '<img src="x" onerror="window.__pwned = 1">'
    try:
        browser.get(served.login_url())
        browser.wait_for("return document.body.dataset.conn === 'live'")
        served.publish_sessions(
            {
                "schema_version": 1,
                "sessions": [
                    {"session_id": "s1", "state": "needs_you", "name": hostile, "project_dir": hostile},
                    {"session_id": "s2", "state": "working", "project": "claude-watch", "model": "opus"},
                ],
            }
        )
        browser.wait_for("return document.querySelectorAll('#sessions .session').length === 2")
        names = browser.run(
            "return [...document.querySelectorAll('#sessions .name')].map((n) => n.textContent)"
        )
        assert names == [hostile, "claude-watch"]
        assert browser.run("return document.querySelectorAll('#sessions img').length") == 0
        assert browser.run("return window.__pwned === undefined")
        assert browser.run("return document.getElementById('needs-you').textContent") == "1 needs you"
    finally:
        served.stop()
