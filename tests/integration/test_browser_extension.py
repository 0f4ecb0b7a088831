"""The browser extension in a real headless Chromium, against real ``claude-watch serve --demo``
child processes (issue 17 item 3).

Chromium loads ``packaging/browser-extension`` unpacked (its manifest ``key`` fixes the id), the
test opens the extension's own pages by URL and drives them like a user: paste what
``serve --pair`` printed, press Pair; then it reads the toolbar badge (``chrome.action``), the
popup page, the notifications the extension made and its storage, from an extension page.

Two servers, each with its own home and a 1 % threshold: in one the desktop app notifies (the
default), so the extension must not; in the other ``alerts.desktop = false``, so it must. The
tests run in file order: errors before pairing, pairing, notifications, then the token revoked
and the server stopped.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.browser import Browser, free_port, start_browser
from tests.helpers.serve_process import ServeProcess
from tests.helpers.status_api_server import ApiStandIn, status_doc
from trayapp.core.models import Level
from trayapp.ui.theme import ICON

EXT = Path(__file__).resolve().parents[2] / "packaging" / "browser-extension"
EXTENSION_ID = "ambagjgmgmhcaiojlkoaogpfnnlpjcno"
ORIGIN = f"chrome-extension://{EXTENSION_ID}"
CODE_RE = re.compile(r"Pairing code: \d{1,5}:(\d{3}-\d{3})")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    b = start_browser([f"--load-extension={EXT}", f"--disable-extensions-except={EXT}"])
    try:
        yield b
    finally:
        b.quit()


def _served(home: Path, desktop: bool) -> Iterator[ServeProcess]:
    """``serve --demo --pair`` with a 1 % threshold on both windows, notifying on the desktop or not."""
    serve = ServeProcess(home)
    for key, value in (
        ("alerts.desktop", "true" if desktop else "false"),
        ("alerts.five_hour_thresholds", "1"),
        ("alerts.weekly_thresholds", "1"),
    ):
        serve.cli("config", "set", key, value)
    serve.start("--pair")
    try:
        yield serve
    finally:
        serve.stop()


@pytest.fixture(scope="module")
def desktop_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    """The app notifies on the desktop itself: the extension must not."""
    yield from _served(tmp_path_factory.mktemp("desktop") / "home", desktop=True)


@pytest.fixture(scope="module")
def quiet_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    """Desktop notifications off: the extension notifies."""
    yield from _served(tmp_path_factory.mktemp("quiet") / "home", desktop=False)


def ext(b: Browser, expression: str) -> Any:
    """Await ``expression`` (a promise) on the current extension page and return its value."""
    return b.run_async(
        f"const done = arguments[arguments.length - 1];"
        f"Promise.resolve({expression}).then(done, (e) => done({{error: String(e)}}));"
    )


def badge(b: Browser) -> tuple[str, list[int]]:
    return ext(b, "chrome.action.getBadgeText({})"), ext(b, "chrome.action.getBadgeBackgroundColor({})")


def storage(b: Browser) -> dict[str, Any]:
    return dict(ext(b, "chrome.storage.local.get(null)"))


def pair(b: Browser, code_text: str, port_text: str = "") -> tuple[bool, str]:
    """Fill the options page like a user and press Pair; the result line and whether it is good."""
    b.get(f"{ORIGIN}/options.html")
    b.wait_for("return document.getElementById('pair-state')")
    b.run(
        "document.getElementById('code').value = arguments[0];"
        "document.getElementById('port').value = arguments[1];"
        "document.getElementById('pair').click();",
        code_text,
        port_text,
    )
    ok, text = b.wait_for(
        "const r = document.querySelector('#result [data-ok]');"
        "return r && [r.dataset.ok === 'true', r.textContent];",
        30,
    )
    return bool(ok), str(text)


def refresh(b: Browser) -> None:
    """Ask the service worker for one /v1/status now (what the one-minute alarm does)."""
    b.get(f"{ORIGIN}/options.html")
    reply = ext(b, "chrome.runtime.sendMessage({type: 'refresh'})")
    assert reply == {"ok": True}


def popup(b: Browser) -> dict[str, Any]:
    b.get(f"{ORIGIN}/popup.html")
    b.wait_for(
        "return document.getElementById('footer').textContent || document.querySelector('[data-state]')"
    )
    return dict(
        b.run(
            "const notice = document.querySelector('[data-state]');"
            "return {state: notice && notice.dataset.state, notice: notice && notice.textContent,"
            " text: document.body.innerText,"
            " windows: [...document.querySelectorAll('[data-window]')].map(w => ({"
            "   id: w.dataset.window, level: w.dataset.level, stale: w.classList.contains('stale'),"
            "   label: w.querySelector('.label').textContent, pct: w.querySelector('.pct').textContent,"
            "   reset: w.querySelector('.reset').textContent}))};"
        )
    )


def rgb(hex_colour: str) -> list[int]:
    return [int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)]


def test_before_pairing_errors_are_clear(browser: Browser, desktop_app: ServeProcess) -> None:
    b = browser
    b.get(f"{ORIGIN}/options.html")
    assert ext(b, "chrome.action.getBadgeText({})") == "?"
    shown = popup(b)
    assert shown["state"] == "not_paired"
    assert "Not paired" in shown["notice"]

    code = CODE_RE.search(desktop_app.output())
    assert code is not None
    wrong = "".join(str((int(c) + 1) % 10) if c.isdigit() else c for c in code.group(1))
    ok, text = pair(b, f"{desktop_app.port}:{wrong}")
    assert not ok
    assert "did not accept this code" in text
    ok, text = pair(b, code.group(1), str(free_port()))
    assert not ok
    assert "Nothing answers on 127.0.0.1" in text
    ok, text = pair(b, "hello")
    assert not ok
    assert "Paste the pairing code" in text
    assert "pairing" not in storage(b)


def test_pairing_shows_the_badge_and_every_window(browser: Browser, desktop_app: ServeProcess) -> None:
    b = browser
    printed = desktop_app.output()  # the URL line and "Pairing code: NNN-NNN ...", pasted as they are
    ok, text = pair(b, printed)
    assert ok, text
    stored = storage(b)
    assert stored["pairing"]["port"] == desktop_app.port
    assert stored["pairing"]["token"] != desktop_app.token()  # its own token, not the app's
    view = stored["view"]
    assert view["state"] == "ok"

    # The numbers are the demo account's (the simulated windows move, so allow a little drift).
    api = desktop_app.status()
    api_windows = {w["id"]: w for w in api["windows"]}
    seen = {w["id"]: w for w in view["status"]["windows"]}
    assert seen.keys() == api_windows.keys()
    for wid, w in seen.items():
        assert w["label"] == api_windows[wid]["label"]
        assert abs(w["utilization"] - api_windows[wid]["utilization"]) < 5
    binding = seen[view["status"]["binding"] or next(iter(seen))]
    text_, colour = badge(b)
    assert text_ == f"{round(binding['utilization'])}%"
    assert colour[:3] == rgb(ICON.levels[Level(binding["level"])])

    shown = popup(b)
    assert shown["state"] is None
    assert [w["id"] for w in shown["windows"]] == [w["id"] for w in view["status"]["windows"]]
    for row in shown["windows"]:
        assert row["label"] == seen[row["id"]]["label"]
        assert abs(int(row["pct"].rstrip("%")) - seen[row["id"]]["utilization"]) <= 1
        assert re.fullmatch(r"resets in (now|\d+ (d|h|min|s)( \d+ (h|min))?)", row["reset"]), row["reset"]
        assert not row["stale"]
    assert api["plan"] in shown["text"]

    # The app notifies on the desktop itself here: the extension stays quiet, thresholds crossed or not.
    assert api["desktop_notifications"] is True
    assert any(w["utilization"] >= 1 for w in api["windows"])
    assert ext(b, "chrome.storage.local.get('alerted')")["alerted"]  # the crossings were seen
    assert ext(b, "chrome.notifications.getAll()") == {}


def test_notifies_at_thresholds_only_when_the_app_does_not(browser: Browser, quiet_app: ServeProcess) -> None:
    b = browser
    code = CODE_RE.search(quiet_app.output())
    assert code is not None
    ok, text = pair(b, f"{quiet_app.port}:{code.group(1)}")
    assert ok, text
    api = quiet_app.status()
    assert api["desktop_notifications"] is False
    crossed = {f"cw-{w['id']}-1" for w in api["windows"] if w["utilization"] >= 1}
    assert crossed, api["windows"]
    notes = ext(b, "chrome.notifications.getAll()")
    assert crossed <= set(notes), notes
    # Once per crossing: another status with the same numbers makes no new notification.
    ext(
        b,
        "chrome.notifications.getAll()"
        ".then(a => Promise.all(Object.keys(a).map((id) => chrome.notifications.clear(id))))",
    )
    refresh(b)
    assert ext(b, "chrome.notifications.getAll()") == {}


def test_revoked_token_is_said(browser: Browser, quiet_app: ServeProcess) -> None:
    b = browser
    quiet_app.cli("serve", "--new-token")
    refresh(b)
    text_, colour = badge(b)
    assert text_ == "!"
    assert colour[:3] == rgb(ICON.levels[Level.AT_LIMIT])
    shown = popup(b)
    assert shown["state"] == "revoked"
    assert "Pair again" in shown["notice"]


def test_app_not_running_is_said(browser: Browser, quiet_app: ServeProcess) -> None:
    b = browser
    code = quiet_app.cli("serve", "--pair").stdout
    found = CODE_RE.search(code)
    assert found is not None
    ok, text = pair(b, f"{quiet_app.port}:{found.group(1)}")
    assert ok, text
    quiet_app.stop()
    refresh(b)
    assert badge(b)[0] == "off"
    shown = popup(b)
    assert shown["state"] == "offline"
    assert f"127.0.0.1:{quiet_app.port}" in shown["notice"]
    # The last numbers stay, marked as old.
    assert shown["windows"]
    assert all(w["stale"] for w in shown["windows"])
    assert "last seen" in shown["text"]


@pytest.mark.parametrize("chunked", [False, True], ids=["close-delimited", "chunked"])
def test_badge_follows_the_event_stream(browser: Browser, chunked: bool) -> None:
    """Changes arrive through /v1/events without another /v1/status; a malformed event is skipped.

    A loopback stand-in speaking the API contract (tests/helpers/status_api_server) lets the test
    push a change at once; the real server pushes on its next poll, minutes away.
    """
    b = browser
    with ApiStandIn(status_doc(40, 10), chunked=chunked) as app:
        b.get(f"{ORIGIN}/options.html")
        pairing = {"port": app.port, "token": app.token, "paired_at": "2030-01-01T00:00:00Z"}
        ext(b, f"chrome.storage.local.set({{pairing: {json.dumps(pairing)}}})")
        refresh(b)
        wait_badge(b, "40%")
        wait_streams(app)
        asked = status_requests(app)
        app.push_raw("event: status\ndata: {not json\n\n")
        app.push(status_doc(40, 93))
        text_, colour = wait_badge(b, "93%")
        assert colour[:3] == rgb(ICON.levels[Level.CRITICAL])
        assert status_requests(app) == asked  # the stream brought it, not another GET /v1/status
        shown = popup(b)
        assert [w["pct"] for w in shown["windows"]] == ["40%", "93%"]


def status_requests(app: ApiStandIn) -> int:
    with app.lock:
        return sum(1 for path, _ in app.requests if path == "/v1/status")


def wait_streams(app: ApiStandIn, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while app.stream_count() == 0:
        assert time.monotonic() < deadline, "the extension never opened /v1/events"
        time.sleep(0.05)


def wait_badge(b: Browser, expected: str, timeout: float = 20) -> tuple[str, list[int]]:
    deadline = time.monotonic() + timeout
    while True:
        text_, colour = badge(b)
        if text_ == expected:
            return text_, colour
        assert time.monotonic() < deadline, f"badge {text_!r}, expected {expected!r}"
        time.sleep(0.1)


def test_forgetting_the_pairing(browser: Browser, desktop_app: ServeProcess) -> None:
    b = browser
    code = desktop_app.cli("serve", "--pair").stdout
    ok, text = pair(b, code, str(desktop_app.port))
    assert ok, text
    assert badge(b)[0].endswith("%")
    b.run("document.getElementById('forget').click();")
    b.wait_for("return document.getElementById('pair-state').textContent === 'Not paired yet.'")
    assert "pairing" not in storage(b)
    assert badge(b)[0] == "?"
    assert popup(b)["state"] == "not_paired"
