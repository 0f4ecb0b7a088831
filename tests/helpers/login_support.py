"""Shared by the login and achievements tests: a channel that records what it is sent, and a
stand-in terminal (a script on PATH that runs what follows ``-e``, as a real one does) with a
stand-in ``claude`` that writes its arguments to a file (and the ``CLAUDE_CONFIG_DIR`` it was run
with to another, :func:`ran_env`)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from trayapp.channels.base import Delivery
from trayapp.core.models import Alert


class Recorder:
    """An always-enabled channel named ``name`` keeping every alert it is sent."""

    def __init__(self, name: str = "desktop") -> None:
        self.name = name
        self.alerts: list[Alert] = []

    def enabled(self) -> bool:
        return True

    async def send(self, alert: Alert, quip: str | None = None) -> Delivery:
        self.alerts.append(alert)
        return Delivery(self.name, True)


def stand_in_terminal(bin_dir: Path, terminal: str) -> Path:
    """``bin_dir`` with the terminal ``terminal``, ``claude`` and ``sh`` (nothing else: put it alone
    on PATH); returns the file the stand-in claude writes its arguments to."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    record = bin_dir.parent / "claude-ran.txt"
    (bin_dir / terminal).write_text('#!/bin/sh\n[ "$1" = "-e" ] && shift\nexec "$@" </dev/null\n')
    env_record = bin_dir.parent / "claude-env.txt"
    (bin_dir / "claude").write_text(
        f'#!/bin/sh\nprintf %s "${{CLAUDE_CONFIG_DIR-<unset>}}" > {env_record}\necho "$@" > {record}\n'
    )
    for f in bin_dir.iterdir():
        f.chmod(0o755)
    (bin_dir / "sh").symlink_to("/bin/sh")
    return record


def ran(record: Path, timeout: float = 10.0) -> str:
    """What the stand-in claude was run with (waits for the detached terminal)."""
    deadline = time.monotonic() + timeout
    while not record.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return record.read_text().strip()


def ran_env(record: Path, timeout: float = 10.0) -> str:
    """The ``CLAUDE_CONFIG_DIR`` the stand-in claude saw ("<unset>" when none)."""
    ran(record, timeout)
    return (record.parent / "claude-env.txt").read_text()


def two_logins(claude_dir: Path, tmp_path: Path) -> Path:
    """The default login lapsing in 12 days and a Work folder's in 5 (not yet an account);
    returns Work's folder."""
    from datetime import UTC, datetime, timedelta

    from tests.helpers.fixtures_usage import write_credentials

    now = datetime.now(UTC)
    write_credentials(claude_dir, login_expires_at=now + timedelta(days=12, hours=3))
    work = tmp_path / "claude-work"
    work.mkdir()
    write_credentials(work, login_expires_at=now + timedelta(days=5, hours=3))
    return work


def app_with_usage(qapp: object, claude_dir: Path, tmp_path: Path) -> Any:
    """The real composition root, built, with a real usage service that is never started (no
    request goes out): what the login and accounts features follow. Close with :func:`close_app`."""
    from functools import partial

    from trayapp.app import ClaudeWatch
    from trayapp.services.usage_engine import UsageEngine
    from trayapp.services.usage_service import UsageService
    from trayapp.sources.credentials import load_credentials
    from trayapp.sources.usage_api import UsageClient
    from trayapp.store.usage_repo import UsageRepo

    cw = ClaudeWatch(qapp, demo=False, self_test=True)  # type: ignore[arg-type]
    cw.build()
    engine = UsageEngine(
        UsageRepo.open(tmp_path / "usage.sqlite3"),
        client=UsageClient("http://127.0.0.1:9"),
        credentials_loader=partial(load_credentials, config_dirs=[claude_dir], home=claude_dir),
        probe_version=False,
    )
    cw.usage = UsageService(engine)
    return cw


async def close_app(cw: Any, stops: list[Any]) -> None:
    """Stop what was started (last first), close every engine and the database, hide the tray."""
    for stop in reversed(stops):
        if stop is not None:
            await stop()
    for engine in cw.usage.engines.values():
        await engine.aclose()
    cw.usage.engine.repo.close()
    cw.tray.hide()
