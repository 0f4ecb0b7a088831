"""A REALLY full data disk: the app's home on a small tmpfs filled to the last block.

Every command runs as a child process against it: ``status --json`` prints JSON with the stored
reading and the error kind ``disk_full`` (it printed "disk I/O error" tracebacks), ``report`` and
``report --no-scan`` print what the ledger holds with a "disk full" note, ``config set`` says
"disk full: settings not saved", a cold scan that outgrows the disk says "disk full" (it said
"cannot rollback - no transaction is active"), and the tray app keeps running (it exited after
a burst of tracebacks). Mounting needs root: under ``CI=true`` these tests must run (and fail when
they cannot mount); elsewhere they skip with the reason.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.fixtures_ledger import FIX
from trayapp.demo import DemoHandle

ROOT = Path(__file__).resolve().parents[2]
DISK_FULL_NOTE = "disk full: the ledger could not be updated"


def _cannot(why: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true: {why}")
    pytest.skip(why)


class SmallDisk:
    """A tmpfs of ``size`` mounted at ``path``; :meth:`fill` takes every free block."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.filler = path / "filler"

    def fill(self) -> None:
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            for size in (65536, 4096, 512, 1):  # down to the last byte
                try:
                    while True:
                        os.write(fd, b"\0" * size)
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
        finally:
            os.close(fd)
        assert shutil.disk_usage(self.path).free == 0

    def free(self) -> None:
        self.filler.unlink(missing_ok=True)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[SmallDisk]:
    if os.geteuid() != 0:
        _cannot("mounting a small tmpfs needs root")
    mount = tmp_path / "disk"
    mount.mkdir()
    r = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1536k,mode=0700", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if r.returncode != 0:
        _cannot(f"cannot mount a tmpfs: {r.stderr.strip()}")
    try:
        yield SmallDisk(mount)
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(CLAUDE_WATCH_HOME=str(home), PYTHONPATH=str(ROOT), QT_QPA_PLATFORM="offscreen", **extra)
    env.pop("COLUMNS", None)
    return env


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "trayapp", *args],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=120,
    )  # fmt: skip


def test_status_json_serves_the_stored_reading_with_a_disk_full_error(
    small_disk: SmallDisk, usage_server: DemoHandle
) -> None:
    env = _env(small_disk.path / "home", CLAUDE_WATCH_API_BASE=usage_server.base_url)
    first = _cli(env, "status", "--json")
    assert first.returncode == 0, first.stderr
    stored = json.loads(first.stdout)
    small_disk.fill()
    for _ in range(2):  # the first run on a full disk leaves half-made files behind: run twice
        r = _cli(env, "status", "--json")
        assert "Traceback" not in r.stderr, r.stderr
        doc = json.loads(r.stdout)
        assert doc["error"]["kind"] == "disk_full"
        assert doc["fetched_at"] == stored["fetched_at"]  # the stored reading, not an empty one
        assert [w["utilization"] for w in doc["windows"]] == [w["utilization"] for w in stored["windows"]]
        assert r.returncode == 3  # numbers shown, but stale
    table = _cli(env, "status")
    assert "Traceback" not in table.stderr, table.stderr
    assert "Disk full" in table.stdout
    small_disk.free()
    after = json.loads(_cli(env, "status", "--json").stdout)
    assert (after["error"] or {}).get("kind") != "disk_full"


def test_reports_show_what_is_committed_with_a_note(small_disk: SmallDisk, tmp_path: Path) -> None:
    claude = tmp_path / "claude"
    shutil.copytree(FIX / "cases" / "projects", claude / "projects")
    env = _env(small_disk.path / "home", CLAUDE_CONFIG_DIR=str(claude))
    before = _cli(env, "report", "--json")
    assert before.returncode == 0, before.stderr
    totals = json.loads(before.stdout)["totals"]
    small_disk.fill()
    # A new session appears while the disk is full: it cannot be recorded, the rest is shown.
    extra = claude / "projects" / "-work-new"
    extra.mkdir()
    src = next((FIX / "cases" / "projects" / "-work-other").glob("*.jsonl"))
    (extra / "44444444-4444-4444-8444-444444444444.jsonl").write_bytes(
        src.read_bytes().replace(b"req_", b"req_new_").replace(b"msg_", b"msg_new_")
    )
    for args in (["report", "--json"], ["report", "--json", "--no-scan"], ["report", "daily", "--no-scan"]):
        r = _cli(env, *args)
        assert r.returncode == 0, r.stderr
        assert "Traceback" not in r.stderr, r.stderr
        assert DISK_FULL_NOTE in r.stderr, (args, r.stderr)
        if "--json" in args:
            assert json.loads(r.stdout)["totals"] == totals
        else:
            assert "Total" in r.stdout
    small_disk.free()
    r = _cli(env, "report", "--json")
    assert DISK_FULL_NOTE not in r.stderr
    assert json.loads(r.stdout)["totals"]["totalTokens"] > totals["totalTokens"]  # caught up


def test_config_set_says_disk_full(small_disk: SmallDisk) -> None:
    env = _env(small_disk.path / "home")
    assert _cli(env, "config", "set", "poll.interval_minutes", "6").returncode == 0
    settings = small_disk.path / "home" / "config" / "settings.toml"
    saved = settings.read_bytes()
    small_disk.fill()
    r = _cli(env, "config", "set", "poll.interval_minutes", "9")
    assert r.returncode == 1
    assert "disk full: settings not saved" in r.stderr
    assert "Traceback" not in r.stderr
    assert "Errno" not in r.stderr
    assert settings.read_bytes() == saved


def _transcripts(folder: Path, files: int, lines: int) -> None:
    """Unique usage lines, enough for a ledger larger than the small disk."""
    for f in range(files):
        session = f"{f:08d}-5555-4555-8555-555555555555"
        out = []
        for n in range(lines):
            stamp = f"2026-03-{1 + n % 28:02d}T{n % 24:02d}:{n % 60:02d}:00.000Z"
            out.append(json.dumps({
                "type": "assistant", "sessionId": session, "cwd": f"/work/p{f}", "timestamp": stamp,
                "requestId": f"req_{f}_{n}", "uuid": f"u{f}-{n}",
                "message": {"id": f"msg_{f}_{n}", "model": "claude-sonnet-4-5-20250929", "role": "assistant",
                            "usage": {"input_tokens": n, "output_tokens": 2 * n,
                                      "cache_creation_input_tokens": 0, "cache_read_input_tokens": 7}},
            }))  # fmt: skip
        (folder / f"{session}.jsonl").write_text("\n".join(out) + "\n")


def test_a_cold_scan_that_outgrows_the_disk_says_disk_full(small_disk: SmallDisk, tmp_path: Path) -> None:
    claude = tmp_path / "claude"
    project = claude / "projects" / "-work-big"
    project.mkdir(parents=True)
    _transcripts(project, files=8, lines=2500)  # about 20,000 entries: several MB of ledger
    env = _env(small_disk.path / "home", CLAUDE_CONFIG_DIR=str(claude))
    r = _cli(env, "report", "--json")
    assert "Traceback" not in r.stderr, r.stderr
    assert "cannot rollback" not in r.stderr
    assert DISK_FULL_NOTE in r.stderr, r.stderr
    assert r.returncode == 0
    assert json.loads(r.stdout)["totals"]["totalTokens"] == 0  # nothing half-loaded: one transaction


def test_the_tray_app_keeps_running_on_a_full_disk(small_disk: SmallDisk, usage_server: DemoHandle) -> None:
    home = small_disk.path / "home"
    env = _env(home, CLAUDE_WATCH_API_BASE=usage_server.base_url)
    assert _cli(env, "status", "--json").returncode == 0  # a stored reading and every database
    small_disk.fill()
    proc = subprocess.Popen(
        [sys.executable, "-m", "trayapp"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT,
    )  # fmt: skip
    try:
        time.sleep(12)
        alive = proc.poll() is None
    finally:
        proc.terminate()
        try:
            _, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
    assert alive, err
    assert "Logging error" not in err, err
    assert err.count("usage database: disk full") == 1, err  # logged once, not once per poll
