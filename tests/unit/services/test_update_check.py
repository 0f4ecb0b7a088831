"""The update check against a loopback releases server, on a fake clock: at most once a day
(failures included), newer/older/equal, the accepted formats, bad bodies, the size cap, a timeout."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

import pytest

import trayapp
from tests.helpers.loopback_servers import LoopbackServer, Scripted
from trayapp.core.clock import FakeClock
from trayapp.runtime import HealthRegistry, LoopHealth
from trayapp.services import update_check
from trayapp.services.update_check import Release, UpdateChecker, UpdateCheckError, fetch_release

ATOM = b"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Release notes</title>
<entry><title>Claude Watch 0.3.0</title><link rel="alternate" href="https://example.org/r/0.3.0"/></entry>
<entry><title>Claude Watch 0.2.0</title><link rel="alternate" href="https://example.org/r/0.2.0"/></entry>
</feed>"""


class ReleasesServer(LoopbackServer):
    """``GET /latest`` answers ``self.answer`` (a JSON-able object, or bytes sent as they are)."""

    def __init__(self) -> None:
        super().__init__()
        self.answer: Any = {"tag_name": "v0.2.0", "html_url": "https://example.org/r/0.2.0"}

    def handle(
        self, method: str, path: str, query: dict[str, str], body: Any, headers: dict[str, str]
    ) -> Scripted:
        if self.script:
            return self.script.popleft()
        return (200, self.answer, {})

    @property
    def url(self) -> str:
        return f"{self.base_url}/latest"


@pytest.fixture
def server() -> Any:
    with ReleasesServer() as srv:
        yield srv


def _checker(
    tmp_path: Path, clock: FakeClock, current: str = "0.1.0"
) -> tuple[UpdateChecker, list[tuple[str, str]]]:
    shown: list[tuple[str, str]] = []
    health = LoopHealth("update check", registry=HealthRegistry())
    checker = UpdateChecker(
        tmp_path, clock, current=current, notify=lambda text, link: shown.append((text, link)), health=health
    )
    return checker, shown


def test_newer_release_notifies_with_its_link_and_doctor_says_so(
    tmp_path: Path, server: ReleasesServer
) -> None:
    checker, shown = _checker(tmp_path, FakeClock())
    assert checker.check_if_due(server.url) == Release("0.2.0", "https://example.org/r/0.2.0")
    assert shown == [("Claude Watch 0.2.0 is available (you have 0.1.0).", "https://example.org/r/0.2.0")]
    line = update_check.doctor_line(tmp_path, True, "0.1.0")
    assert line == "0.2.0 available (you have 0.1.0): https://example.org/r/0.2.0"
    assert server.requests[0]["headers"]["User-Agent"].startswith("claude-watch/")


@pytest.mark.parametrize("latest", ["0.1.0", "v0.1.0", "0.0.9", "0.1.0rc1"])
def test_equal_or_older_release_is_quiet(tmp_path: Path, server: ReleasesServer, latest: str) -> None:
    server.answer = {"version": latest, "url": "https://example.org/r"}
    checker, shown = _checker(tmp_path, FakeClock())
    assert checker.check_if_due(server.url) is None
    assert shown == []
    assert update_check.doctor_line(tmp_path, True, "0.1.0").startswith("up to date (0.1.0; checked ")


def test_versions_compare_as_versions_not_text() -> None:
    assert update_check.is_newer("0.10.0", "0.9.0")
    assert update_check.is_newer("1.0.0", "1.0.0rc2")
    assert not update_check.is_newer("0.9.0", "0.10.0")


def test_at_most_once_a_day(tmp_path: Path, server: ReleasesServer) -> None:
    clock = FakeClock()
    checker, shown = _checker(tmp_path, clock)
    checker.check_if_due(server.url)
    clock.advance(23 * 3600)
    assert checker.check_if_due(server.url) is None
    # A new checker (the app restarted) reads the last check from the state folder.
    again, _ = _checker(tmp_path, clock)
    assert again.check_if_due(server.url) is None
    assert len(server.requests) == 1
    clock.advance(3600)
    checker.check_if_due(server.url)
    assert len(server.requests) == 2
    assert len(shown) == 2
    # A wall clock set back before the last check does not silence the check for ever.
    clock.jump_wall(-10 * 86400)
    checker.check_if_due(server.url)
    assert len(server.requests) == 3


def test_atom_feed_first_entry(tmp_path: Path, server: ReleasesServer) -> None:
    server.answer = ATOM
    assert fetch_release(server.url) == Release("0.3.0", "https://example.org/r/0.3.0")


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (b"<!DOCTYPE html><html><body>Rate limited</body></html>", "not JSON or Atom"),
        (b"{not json", "bad JSON"),
        ({"tag_name": "latest-and-greatest", "html_url": "https://example.org"}, "not a version"),
        ({"tag_name": 3, "html_url": "https://example.org"}, "without a version string"),
        ({"version": "0.2.0", "url": "javascript:alert(1)"}, "not a web address"),
        (b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"></feed>', "without entries"),
        (b"\x00\x01 garbage", "not JSON or Atom"),
    ],
)
def test_bad_answers_are_one_clear_log_line_and_no_retry_that_day(
    tmp_path: Path, server: ReleasesServer, caplog: pytest.LogCaptureFixture, answer: Any, reason: str
) -> None:
    server.answer = answer
    clock = FakeClock()
    checker, shown = _checker(tmp_path, clock)
    with caplog.at_level(logging.WARNING, logger="trayapp"):
        assert checker.check_if_due(server.url) is None
    assert shown == []
    warnings = [r.getMessage() for r in caplog.records if r.name == update_check.__name__]
    assert len(warnings) == 1
    assert reason in warnings[0]
    assert checker.health.streak == 1
    clock.advance(3600)
    assert checker.check_if_due(server.url) is None
    assert len(server.requests) == 1
    assert reason in update_check.doctor_line(tmp_path, True, "0.1.0")


def test_http_error_is_a_failure_not_a_crash(tmp_path: Path, server: ReleasesServer) -> None:
    server.script.append((503, {"message": "down"}, {}))
    checker, _ = _checker(tmp_path, FakeClock())
    assert checker.check_if_due(server.url) is None
    assert "503" in json.loads((tmp_path / update_check.STATE_FILE).read_text())["error"]


def test_size_cap(server: ReleasesServer) -> None:
    server.answer = {"tag_name": "v0.2.0", "html_url": "https://example.org/r", "body": "x" * 5000}
    assert fetch_release(server.url, max_bytes=8000).version == "0.2.0"
    with pytest.raises(UpdateCheckError, match="larger than 1000 bytes"):
        fetch_release(server.url, max_bytes=1000)


def test_timeout(server: ReleasesServer) -> None:
    server.delay = 1.0
    with pytest.raises(UpdateCheckError, match="timed out"):
        fetch_release(server.url, timeout=0.2)


def test_unreachable_server(tmp_path: Path) -> None:
    with ReleasesServer() as srv:
        url = srv.url
    with pytest.raises(UpdateCheckError, match="127.0.0.1"):
        fetch_release(url, timeout=1)


def test_doctor_line_when_off_or_never_checked(tmp_path: Path) -> None:
    assert update_check.doctor_line(tmp_path, False, "0.1.0") == "off (setting updates.check)"
    assert update_check.doctor_line(tmp_path, True, "0.1.0") == "on, not checked yet"


async def test_the_loop_checks_only_when_on_and_notifies_on_its_thread(
    tmp_path: Path, server: ReleasesServer
) -> None:
    settings: dict[str, object] = {"updates.check": False, "updates.url": server.url}
    checker, _ = _checker(tmp_path, FakeClock())
    checker.notify = None
    shown: list[tuple[str, str]] = []
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 1:
            settings["updates.check"] = True
        if len(sleeps) == 3:
            raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        await update_check.run_loop(
            checker, settings.__getitem__, lambda t, u: shown.append((t, u)), sleep=sleep
        )
    assert len(server.requests) == 1  # off for the first turn, then once (the third turn is not due)
    assert shown == [("Claude Watch 0.2.0 is available (you have 0.1.0).", "https://example.org/r/0.2.0")]
    assert sleeps == [3600.0, 3600.0, 3600.0]


async def test_an_unexpected_error_in_the_loop_is_backed_off(tmp_path: Path) -> None:
    clock = FakeClock()
    health = LoopHealth("update check", base=7200, cap=86400, registry=HealthRegistry())

    def broken(url: str) -> Release:
        raise RuntimeError("bug")

    checker = UpdateChecker(tmp_path, clock, current="0.1.0", health=health, fetch=broken)
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock.advance(2 * 86400)
        if len(sleeps) == 2:
            raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        await update_check.run_loop(
            checker, {"updates.check": True, "updates.url": "x"}.__getitem__, print, sleep=sleep
        )
    assert sleeps == [7200.0, 14400.0]
    assert health.failures == 2


async def test_start_shows_news_as_a_tray_message_with_the_link(
    hermetic_env: Path, server: ReleasesServer
) -> None:
    from trayapp import paths

    server.answer = {"tag_name": "v99.0.0", "html_url": "https://example.org/r/99"}
    messages: list[tuple[str, str, bool]] = []
    settings = {"updates.check": True, "updates.url": server.url}
    stop = update_check.start(FakeClock(), settings.__getitem__, lambda *m: messages.append(m))
    for _ in range(200):
        if messages:
            break
        await asyncio.sleep(0.01)
    await stop()
    assert messages == [
        (
            "Update available",
            f"{update_check.message(Release('99.0.0', ''), trayapp.version())}\nhttps://example.org/r/99",
            False,
        )
    ]
    assert (paths.state_dir() / update_check.STATE_FILE).exists()


def test_the_current_version_is_read_when_first_needed(tmp_path: Path) -> None:
    reads: list[str] = []

    def current() -> str:
        reads.append("read")
        return "0.1.0"

    checker = UpdateChecker(tmp_path, FakeClock(), current=current)
    assert reads == []  # the app starts its checker without reading package metadata
    assert (checker.current, checker.current) == ("0.1.0", "0.1.0")
    assert reads == ["read"]
    newer = Release("0.2.0", "https://example.invalid/r")
    assert update_check.message(newer, checker.current) == "Claude Watch 0.2.0 is available (you have 0.1.0)."
