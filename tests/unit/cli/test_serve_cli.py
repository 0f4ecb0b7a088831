"""``claude-watch serve`` end to end: a real child process serving the demo account over HTTP, and
the commands that talk to a server already running (second serve, --pair, --new-token)."""

from __future__ import annotations

import os
import re
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from trayapp.store import api_token

pytestmark = pytest.mark.slow


def run_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "trayapp", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=os.environ,
    )


def read_line_matching(proc: subprocess.Popen[str], pattern: str, timeout: float = 60) -> re.Match[str]:
    assert proc.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        if not selector.select(timeout=0.5):
            if proc.poll() is not None:
                break
            continue
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        found = re.search(pattern, line)
        if found:
            return found
    raise AssertionError(f"no line matching {pattern!r} in {seen!r}")


@pytest.fixture
def served(hermetic_env: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "trayapp", "serve", "--demo"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ,
    )
    try:
        url = read_line_matching(proc, r"at (http://127\.0\.0\.1:\d+/)").group(1)
        yield proc, url
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def status(url: str, token: str) -> httpx.Response:
    return httpx.get(url + "v1/status", headers={"Authorization": f"Bearer {token}"}, timeout=10)


def test_serve_demo_prints_its_url_and_serves_the_demo_numbers(
    served: tuple[subprocess.Popen[str], str],
) -> None:
    proc, url = served
    token = api_token.load_token()
    assert token is not None
    doc: dict[str, object] = {}
    for _ in range(50):  # the first demo poll lands a moment after the server listens
        r = status(url, token)
        if r.status_code == 200 and r.json()["windows"]:
            doc = r.json()
            break
        time.sleep(0.2)
    assert doc["source"] == "demo"
    assert doc["schema_version"] == 1
    assert doc["plan"] == "Max 20x"
    windows = doc["windows"]
    assert isinstance(windows, list)
    assert [w["id"] for w in windows][:2] == ["five_hour", "seven_day"]
    assert all(0 <= w["utilization"] <= 100 for w in windows)
    assert status(url, "wrong" * 10).status_code == 401
    assert httpx.get(url + "health", timeout=5).json()["app"] == "claude-watch"
    # SIGTERM ends it along the normal path.
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(20) == 0


def test_a_second_serve_names_the_running_one_and_asks_it(served: tuple[subprocess.Popen[str], str]) -> None:
    _proc, url = served
    second = run_cli("serve")
    assert second.returncode == 1
    assert url in second.stderr
    paired = run_cli("serve", "--pair")
    assert paired.returncode == 0, paired.stderr
    code = re.search(r"Pairing code: \d{1,5}:(\d{3}-\d{3})", paired.stdout)
    assert code is not None
    r = httpx.post(url + "v1/pair", json={"code": code.group(1), "name": "test"}, timeout=10)
    assert r.status_code == 200
    client_token = r.json()["token"]
    old = api_token.load_token()
    assert old is not None
    assert status(url, client_token).status_code in (200, 503)
    rotated = run_cli("serve", "--new-token")
    assert rotated.returncode == 0, rotated.stderr
    new = api_token.load_token()
    assert new is not None
    assert new != old
    assert status(url, old).status_code == 401
    assert status(url, client_token).status_code == 401
    assert status(url, new).status_code in (200, 503)
