"""``claude-watch status --format ... --watch``: a real child process following a real loopback
``/v1/events`` stream prints exactly one line per change, flushed, survives the app restarting, and
shows the stored reading when no app runs."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.helpers.status_api_server import ApiStandIn, status_doc
from trayapp import paths
from trayapp.cli import status_api
from trayapp.core.models import Source, UsageSnapshot, Window, WindowKind
from trayapp.store.usage_repo import UsageRepo

QUIET = 0.8  # seconds with no new line that count as "nothing more was printed"


def child_env() -> dict[str, str]:
    env = dict(os.environ, HOME=os.environ["CLAUDE_WATCH_HOME"] + "-fakehome")
    env.pop("PYTHONUNBUFFERED", None)  # as a bar runs it: stdout is a pipe, so every line must be flushed
    return env


class Watcher:
    """``status --watch`` as a child process; its stdout lines arrive on a queue as they are flushed."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "trayapp", "status", *args, "--watch"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=child_env(),
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def next(self, timeout: float = 10.0) -> str:
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no line within {timeout} s (alive: {self.proc.poll() is None})") from None

    def assert_quiet(self, seconds: float = QUIET) -> None:
        time.sleep(seconds)
        assert self.lines.empty(), f"unexpected line: {self.lines.get()}"

    def stop(self) -> str:
        self.proc.terminate()
        _, err = self.proc.communicate(timeout=10)
        return err


@pytest.fixture
def watcher_factory() -> Iterator[list[Watcher]]:
    made: list[Watcher] = []
    yield made
    for w in made:
        if w.proc.poll() is None:
            w.stop()
        else:
            w.proc.communicate(timeout=10)


def wait_for_streams(app: ApiStandIn, count: int = 1, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while app.stream_count() < count:
        assert time.monotonic() < deadline, "the watcher never connected"
        time.sleep(0.02)


def text_of(line: str) -> str:
    return str(json.loads(line)["text"])


@pytest.mark.parametrize("chunked", [False, True])
def test_one_line_per_change_and_none_for_duplicates(
    hermetic_env: Path, watcher_factory: list[Watcher], chunked: bool
) -> None:
    a, b, c = status_doc(10.0, 5.0), status_doc(20.0, 5.0), status_doc(30.0, 6.0)
    with ApiStandIn(a, chunked=chunked) as app:
        app.write_state(paths.state_dir())
        w = Watcher("--format", "waybar")
        watcher_factory.append(w)
        assert text_of(w.next()) == "5h 10% · wk 5%"  # the document sent on connect
        wait_for_streams(app)
        moved = dict(a, age_seconds=500.0)  # only the age moved: the same reading
        app.push(moved)
        app.push(b)
        app.push(b)
        app.push(c)
        assert text_of(w.next()) == "5h 20% · wk 5%"
        assert text_of(w.next()) == "5h 30% · wk 6%"
        w.assert_quiet()
    assert [path for path, _ in app.requests] == ["/v1/events"]


def test_the_watch_survives_the_app_restarting(hermetic_env: Path, watcher_factory: list[Watcher]) -> None:
    app = ApiStandIn(status_doc(40.0, 9.0)).start()
    try:
        app.write_state(paths.state_dir())
        w = Watcher("--format", "polybar")
        watcher_factory.append(w)
        first = w.next()
        assert first.endswith("5h 40% · wk 9%%{F-}")
        wait_for_streams(app)
        port = app.port
        app.stop()  # the app quits: the stream ends, the port is closed
        time.sleep(1.5)  # longer than the first retry: one attempt fails, the bar keeps its line
        app.start(port)  # ... and comes back on the same port with the same numbers
        wait_for_streams(app)
        w.assert_quiet(0.5)  # the unchanged document sent on reconnect prints nothing
        app.push(status_doc(41.0, 9.0))
        assert w.next().endswith("5h 41% · wk 9%%{F-}")
        w.assert_quiet()
    finally:
        app.stop()
    assert [path for path, _ in app.requests].count("/v1/events") >= 2


def store_reading(five: float) -> None:
    now = datetime.now(UTC)
    repo = UsageRepo.open(paths.database_file())
    window = Window("five_hour", "5-hour", WindowKind.FIVE_HOUR, five, now + timedelta(hours=3))
    repo.save_snapshot(UsageSnapshot(now - timedelta(minutes=1), Source.API, (window,)))
    repo.close()


def test_no_app_prints_the_stored_reading_once_then_follows_the_app(
    hermetic_env: Path, watcher_factory: list[Watcher]
) -> None:
    store_reading(33.0)
    w = Watcher("--format", "i3blocks")
    watcher_factory.append(w)
    stored = json.loads(w.next())  # persist mode: one JSON object per line
    assert stored["full_text"] == "5h 33%"
    w.assert_quiet(1.5)  # retrying the connection prints nothing more
    with ApiStandIn(status_doc(50.0, 7.0)) as app:
        app.write_state(paths.state_dir())
        assert json.loads(w.next(timeout=15))["full_text"] == "5h 50% · wk 7%"


def test_a_malformed_message_is_skipped(hermetic_env: Path, watcher_factory: list[Watcher]) -> None:
    with ApiStandIn(status_doc(10.0, 1.0)) as app:
        app.on_connect = "{not json"
        app.write_state(paths.state_dir())
        w = Watcher("--format", "json")
        watcher_factory.append(w)
        wait_for_streams(app)
        app.push_raw("event: status\ndata: [1, 2]\n\n")  # JSON, not an object
        app.push_raw("event: sessions\ndata: {}\n\n")  # another event: not ours
        app.push(status_doc(12.0, 1.0))
        line = w.next()
        assert json.loads(line)["windows"][0]["utilization"] == 12.0
        assert "\n" not in line
        w.assert_quiet()


def test_a_closed_pipe_ends_the_watch_quietly(hermetic_env: Path) -> None:
    with ApiStandIn(status_doc(10.0, 1.0)) as app:
        app.write_state(paths.state_dir())
        proc = subprocess.Popen(
            [sys.executable, "-m", "trayapp", "status", "--format", "waybar", "--watch"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=child_env(),
        )
        assert proc.stdout is not None
        assert proc.stderr is not None
        assert text_of(proc.stdout.readline().decode()) == "5h 10% · wk 1%"
        proc.stdout.close()  # the bar went away
        app.push(status_doc(11.0, 1.0))
        app.push(status_doc(12.0, 1.0))
        assert proc.wait(timeout=10) == 141
        assert proc.stderr.read() == b""
        proc.stderr.close()


# ----- the loop in this process: the stored reading after the app is gone for good --------------


class Stop(Exception):
    pass


def test_the_stored_reading_replaces_an_app_that_stays_away(hermetic_env: Path) -> None:
    store_reading(77.0)
    app = ApiStandIn(status_doc(60.0, 2.0)).start()
    app.write_state(paths.state_dir())
    lines: list[str] = []
    deadline = time.monotonic() + 10

    def sleep(seconds: float) -> None:
        if len(lines) >= 2 or time.monotonic() > deadline:
            raise Stop
        app.stop()  # after the first stream ends: gone for good
        time.sleep(min(seconds, 0.05))

    def emit(line: str) -> None:
        lines.append(line)
        if len(lines) == 1:
            app.stop()

    with pytest.raises(Stop):
        status_api.watch("text", emit, first_delay=0.01, max_delay=0.05, give_up_after=0.3, sleep=sleep)
    assert lines == ["5h 60% · wk 2%", "5h 77%"]


def test_with_no_app_a_newer_stored_reading_is_shown_and_an_unchanged_one_is_not(hermetic_env: Path) -> None:
    store_reading(20.0)
    lines: list[str] = []
    attempts = 0

    def sleep(seconds: float) -> None:
        nonlocal attempts
        attempts += 1
        if attempts == 3:
            store_reading(25.0)  # e.g. `claude-watch status` fetched while the app was closed
        if attempts == 5:
            raise Stop

    with pytest.raises(Stop):
        status_api.watch("text", lines.append, first_delay=0, max_delay=0, sleep=sleep)
    assert lines == ["5h 20%", "5h 25%"]


def test_the_watch_follows_a_real_serve_demo(tmp_path: Path) -> None:
    from tests.helpers.serve_process import ServeProcess

    serve = ServeProcess(tmp_path / "serve-home")
    serve.start()
    env = child_env() | serve.env()
    env.pop("PYTHONUNBUFFERED")
    proc = subprocess.Popen(
        [sys.executable, "-m", "trayapp", "status", "--format", "json", "--watch"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        first = json.loads(proc.stdout.readline())
        assert first["schema_version"] == 1
        assert [w["id"] for w in first["windows"]][:2] == ["five_hour", "seven_day"]
    finally:
        proc.terminate()
        proc.communicate(timeout=10)
        serve.stop()
