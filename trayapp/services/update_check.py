"""The optional "update available" check (setting ``updates.check``, off by default).

At most once a day (the last attempt is remembered in ``state/update-check.json``, success or
not, so a failing server is never asked again within the day) it fetches a small document from
``updates.url`` with a timeout and a size cap, reads the newest version and its link, and compares
it with the running version. Accepted answers: GitHub's ``releases/latest`` JSON (``tag_name``,
``html_url``), a plain ``{"version": ..., "url": ...}`` JSON, or an Atom feed (the first entry's
title and link). It never downloads or runs anything else: a newer version is a notification with
the link and a line in ``doctor``. A bad answer (HTML, a huge body, a version that does not parse)
is one clear log line through the loop's :class:`~trayapp.runtime.LoopHealth` and no retry before
the next day.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from trayapp.runtime import LoopHealth
from trayapp.store.files import atomic_write

if TYPE_CHECKING:
    from trayapp.core.clock import Clock

log = logging.getLogger(__name__)

DEFAULT_URL = "https://api.github.com/repos/claude-watch/claude-watch/releases/latest"
INTERVAL = timedelta(days=1)
TIMEOUT = 10.0
MAX_BYTES = 256 * 1024
STATE_FILE = "update-check.json"
_ATOM = "{http://www.w3.org/2005/Atom}"
_RELEASE = re.compile(r"^v?(\d+(?:\.\d+){0,3})((?:a|b|rc)\d+)?$")


class UpdateCheckError(Exception):
    """The releases URL gave no usable answer (the message says why)."""


class Release(NamedTuple):
    version: str
    link: str


def version_key(text: str) -> tuple[Any, ...]:
    """A sortable key for a version string (``v1.2.3``, ``1.2.0rc1``); UpdateCheckError if it is
    not one. packaging.version when installed, else a parser for plain releases and a/b/rc."""
    text = text.strip()
    try:
        from packaging.version import InvalidVersion, Version
    except ImportError:  # pragma: no cover - packaging is in the venv and the bundle's build deps
        match = _RELEASE.match(text)
        if match is None:
            raise UpdateCheckError(f"not a version: {text[:40]!r}") from None
        release = tuple(int(p) for p in match.group(1).split("."))
        release += (0,) * (4 - len(release))
        pre = match.group(2)
        return (release, (0, pre) if pre else (1, ""))
    try:
        return (Version(text),)
    except InvalidVersion:
        raise UpdateCheckError(f"not a version: {text[:40]!r}") from None


def is_newer(latest: str, current: str) -> bool:
    return version_key(latest) > version_key(current)


def parse_release(body: bytes, base_url: str) -> Release:
    """The newest release named by ``body`` (JSON or Atom); UpdateCheckError when there is none."""
    text = body.lstrip()
    if text[:1] in (b"{", b"["):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise UpdateCheckError(f"bad JSON: {exc}") from None
        if isinstance(data, list):  # GitHub's /releases list: newest first
            data = data[0] if data and isinstance(data[0], dict) else {}
        if not isinstance(data, dict):
            raise UpdateCheckError("JSON without a release object")
        version = data.get("tag_name", data.get("version"))
        link = data.get("html_url", data.get("url", base_url))
    elif text.startswith(b"<?xml") or text.startswith(b"<feed"):
        import xml.etree.ElementTree as ET

        try:
            root = ET.fromstring(text)
        except ET.ParseError as exc:
            raise UpdateCheckError(f"bad Atom feed: {exc}") from None
        entry = root.find(f"{_ATOM}entry")
        if entry is None:
            raise UpdateCheckError("Atom feed without entries")
        title = entry.findtext(f"{_ATOM}title") or ""
        version = title.split()[-1] if title.split() else ""
        link_el = entry.find(f"{_ATOM}link")
        link = link_el.get("href", base_url) if link_el is not None else base_url
    else:
        raise UpdateCheckError(f"not JSON or Atom (starts {text[:20]!r})")
    if not isinstance(version, str) or not isinstance(link, str):
        raise UpdateCheckError("release without a version string")
    if not link.startswith(("https://", "http://")):
        raise UpdateCheckError(f"release link is not a web address: {link[:60]!r}")
    version_key(version)
    return Release(version.strip().removeprefix("v"), link)


def fetch_release(url: str, *, timeout: float = TIMEOUT, max_bytes: int = MAX_BYTES) -> Release:
    """GET ``url`` (at most ``max_bytes`` read) and parse it; UpdateCheckError on any failure."""
    import urllib.request

    from trayapp import version

    request = urllib.request.Request(
        url,
        headers={
            "Accept": "application/vnd.github+json, application/json, application/atom+xml",
            "User-Agent": f"claude-watch/{version()} (update check)",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read(max_bytes + 1)
    except (OSError, ValueError) as exc:  # URLError, HTTPError, timeouts, bad URLs
        raise UpdateCheckError(f"{url}: {exc}") from None
    if len(body) > max_bytes:
        raise UpdateCheckError(f"{url}: answer larger than {max_bytes} bytes")
    return parse_release(body, url)


class UpdateChecker:
    """Decides when to check, checks, remembers, and tells ``notify(text, link)`` about news."""

    def __init__(
        self,
        state_dir: Path,
        clock: Clock,
        *,
        current: str | Callable[[], str],
        notify: Callable[[str, str], None] | None = None,
        health: LoopHealth | None = None,
        fetch: Callable[[str], Release] = fetch_release,
    ) -> None:
        self.path = state_dir / STATE_FILE
        self.clock = clock
        self._current = current
        self.notify = notify
        self.health = health or LoopHealth("update check")
        self.fetch = fetch

    @property
    def current(self) -> str:
        """The running version; given as a function, it is read when first needed (the app's
        reads package metadata: importlib.metadata, over 1 MB that an idle app does without)."""
        if callable(self._current):
            self._current = self._current()
        return self._current

    def state(self) -> dict[str, Any]:
        return read_state(self.path)

    def due(self) -> bool:
        last = _parse_time(self.state().get("checked_at"))
        return last is None or not (timedelta(0) <= self.clock.now() - last < INTERVAL)

    def check_if_due(self, url: str) -> Release | None:
        """Check when a day has passed since the last attempt; the newer release, else None."""
        if not self.due():
            return None
        state: dict[str, Any] = {"checked_at": self.clock.now().isoformat(), "url": url}
        try:
            release = self.fetch(url)
            newer = is_newer(release.version, self.current)
        except UpdateCheckError as exc:
            state["error"] = str(exc)
            self._save(state)
            log.warning("update check: %s (next try in a day)", exc)
            self.health.failed(exc)
            return None
        self.health.succeeded()
        state.update(latest=release.version, link=release.link, newer=newer)
        self._save(state)
        if not newer:
            log.info("update check: %s is current (latest %s)", self.current, release.version)
            return None
        log.info("update check: %s available at %s", release.version, release.link)
        if self.notify is not None:
            self.notify(message(release, self.current), release.link)
        return release

    def _save(self, state: dict[str, Any]) -> None:
        try:
            atomic_write(self.path, json.dumps(state))
        except OSError as exc:
            log.warning("update check: cannot remember the check in %s: %s", self.path, exc)


def message(release: Release, current: str) -> str:
    return f"Claude Watch {release.version} is available (you have {current})."


async def run_loop(
    checker: UpdateChecker,
    setting: Callable[[str], object],
    notify: Callable[[str, str], None],
    *,
    every: float = 3600.0,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> None:
    """The app's loop: every ``every`` seconds, when ``updates.check`` is on, check if due (on the
    io lane) and hand news to ``notify(text, link)`` on the loop's thread. An unexpected error is
    counted by the checker's LoopHealth and backed off; it never ends the loop."""
    from trayapp.runtime import run_blocking

    while True:
        delay = every
        if setting("updates.check"):
            try:
                release = await run_blocking(checker.check_if_due, str(setting("updates.url")))
            except Exception as exc:  # a bug must not end the loop or retry in a storm
                delay = max(every, checker.health.failed(exc))
            else:
                if release is not None:
                    notify(message(release, checker.current), release.link)
        await sleep(delay)


def start(
    clock: Clock, setting: Callable[[str], object], tray_message: Callable[[str, str, bool], None]
) -> Callable[[], Awaitable[None]]:
    """Run :func:`run_loop` for the app (state in the state folder, news as a tray message with
    the link); returns the stop the app runs at shutdown."""
    from trayapp import paths, version
    from trayapp.runtime import spawn

    def notify(text: str, link: str) -> None:
        tray_message("Update available", f"{text}\n{link}", False)

    checker = UpdateChecker(paths.state_dir(), clock, current=version)
    task = spawn(run_loop(checker, setting, notify), "update check")

    async def stop() -> None:
        task.cancel()

    return stop


def read_state(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def doctor_line(state_dir: Path, enabled: bool, current: str) -> str:
    """One line for ``doctor``: off, never checked, the last error, up to date, or the news."""
    if not enabled:
        return "off (setting updates.check)"
    state = read_state(state_dir / STATE_FILE)
    when = state.get("checked_at")
    if not isinstance(when, str):
        return "on, not checked yet"
    if "error" in state:
        return f"last check {when} failed: {state['error']}"
    if state.get("newer"):
        return f"{state.get('latest')} available (you have {current}): {state.get('link')}"
    return f"up to date ({current}; checked {when})"


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None
