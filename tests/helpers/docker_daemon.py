"""A private Docker engine for the container tests: Debian's ``dockerd`` started by the test
session itself, with its own data root, exec root, pid file and socket under /tmp, the vfs storage
driver (works on any filesystem, no overlay mounts), cgroupfs, and no networking at all (no
iptables rules, no bridge: containers run with ``--network none``). Stopped (and its folders
removed) at the end of the session.

Needs root and the ``docker.io`` package (``packaging/system-deps.sh test`` installs it). Without
them the tests skip with the reason; under ``CI=true`` they fail instead. When ``dockerd`` is there
but will not start, the reason given is its own last log lines.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest


@dataclass
class PrivateDockerd:
    root: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def socket(self) -> str:
        return str(self.root / "docker.sock")

    @property
    def host(self) -> str:
        return f"unix://{self.socket}"

    @property
    def log(self) -> Path:
        return self.root / "dockerd.log"

    def argv(self, dockerd: str) -> list[str]:
        return [
            dockerd,
            f"--data-root={self.root / 'data'}",
            f"--exec-root={self.root / 'exec'}",
            f"--pidfile={self.root / 'docker.pid'}",
            f"-H=unix://{self.socket}",
            "--storage-driver=vfs",
            "--exec-opt=native.cgroupdriver=cgroupfs",
            "--iptables=false",
            "--ip6tables=false",
            "--bridge=none",
            "--ip-masq=false",
        ]

    def start(self, dockerd: str, timeout: float = 60.0) -> None:
        env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": str(self.root)}
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                self.argv(dockerd), stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dockerd exited with status {self.proc.returncode}: {self.tail()}")
            if self.ping():
                return
            time.sleep(0.2)
        raise RuntimeError(f"dockerd did not answer within {timeout:g} s: {self.tail()}")

    def ping(self) -> bool:
        if not os.path.exists(self.socket):
            return False
        try:
            with httpx.Client(transport=httpx.HTTPTransport(uds=self.socket), timeout=2.0) as client:
                return client.get("http://docker/_ping").text == "OK"
        except httpx.HTTPError:
            return False

    def tail(self, lines: int = 8) -> str:
        try:
            text = self.log.read_text("utf-8", "replace").splitlines()
        except OSError:
            return "(no log)"
        important = [
            ln for ln in text if "level=error" in ln or "level=fatal" in ln or "failed" in ln.lower()
        ]
        return " | ".join((important or text)[-lines:])

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM (dockerd stops its containers and its containerd), then SIGKILL to the group."""
        proc = self.proc
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
        if proc is not None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # a containerd left in the group
            except ProcessLookupError:
                pass
        shutil.rmtree(self.root, ignore_errors=True)


def unavailable(reason: str) -> None:
    """Skip with ``reason``; under ``CI=true`` fail (CI must run the container tests)."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true: the Docker engine tests cannot run: {reason}")
    pytest.skip(f"the Docker engine tests cannot run: {reason}")


def start_private_dockerd() -> PrivateDockerd:
    """Start the engine, or skip/fail with why it cannot."""
    dockerd = shutil.which("dockerd") or (
        "/usr/sbin/dockerd" if os.path.exists("/usr/sbin/dockerd") else None
    )
    if dockerd is None:
        unavailable("dockerd is not installed (packaging/system-deps.sh test installs docker.io)")
    if os.geteuid() != 0:
        unavailable("dockerd needs root here (the tests start their own private engine)")
    daemon = PrivateDockerd(Path(tempfile.mkdtemp(prefix="cw-dockerd-", dir="/tmp")))
    try:
        daemon.start(str(dockerd))
    except RuntimeError as exc:
        daemon.stop()
        unavailable(str(exc))
    return daemon


@pytest.fixture(scope="session")
def private_dockerd() -> Iterator[PrivateDockerd]:
    """One private engine for the whole session (about a second to start)."""
    daemon = start_private_dockerd()
    try:
        yield daemon
    finally:
        daemon.stop()
