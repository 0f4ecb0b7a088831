"""``claude-watch --self-test``: build the tray and the popup (offscreen when there is no display),
check what packaging and a bare desktop break, print ``SELF-TEST OK`` and exit 0, or say what
failed and exit 1. The frozen app runs it before anything is packed, and the packaging smoke test
runs it in the installed app.

Each check is a function returning a problem (a short sentence) or None; :func:`checks` lists
them so a test can run them one by one against a broken install.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from trayapp.app import ClaudeWatch

# What the app reads from resources/ (a missing one breaks a feature, not the start).
RESOURCE_FILES = (
    "icons/claude-watch-128.png",
    "icons/claude-watch.svg",
    "sounds/threshold-warning.wav",
    "pricing.json",
    "quips.json",
    "claude-watch.desktop",
)

# Two tiny sessions for the scan check (one usage line each).
_LINE = (
    '{"type":"assistant","timestamp":"2026-01-0%dT10:00:00Z","sessionId":"s%d","requestId":"r%d",'
    '"message":{"id":"m%d","model":"claude-sonnet-4-5","usage":{"input_tokens":10,"output_tokens":5,'
    '"cache_creation_input_tokens":0,"cache_read_input_tokens":0}}}\n'
)


def check_resources(resources: Path | None = None) -> str | None:
    from trayapp import paths

    root = paths.resources_dir() if resources is None else resources
    missing = [name for name in RESOURCE_FILES if not (root / name).is_file()]
    if missing:
        return f"resources missing in {root}: {', '.join(missing)}"
    return None


def check_commands() -> str | None:
    """Every CLI command's module is importable (a frozen app loses those it did not collect)."""
    from importlib import import_module

    from trayapp.__main__ import COMMANDS

    lost = []
    for name, module in COMMANDS.items():
        try:
            import_module(module)
        except Exception as exc:
            lost.append(f"{name} ({exc})")
    return f"commands missing: {', '.join(lost)}" if lost else None


def check_version() -> str | None:
    """The package metadata is there (a bundle without it says ``0+unknown``)."""
    from trayapp import version

    return "package metadata missing: version unknown" if version() == "0+unknown" else None


def check_sqlite() -> str | None:
    import sqlite3

    try:
        conn = sqlite3.connect(":memory:")
        try:
            conn.execute("CREATE TABLE t (x INTEGER)")
            conn.execute("INSERT INTO t VALUES (42)")
            value = conn.execute("SELECT x FROM t").fetchone()[0]
        finally:
            conn.close()
    except Exception as exc:
        return f"SQLite: {exc}"
    return None if value == 42 else "SQLite: wrong answer"


def check_keyring() -> str | None:
    """A keyring backend is chosen (the session's one may refuse: that is reported, not a failure
    of the bundle, unless keyring's backends themselves are missing)."""
    try:
        from trayapp.platform.secrets import NoKeyringBackend, pick_backend
    except Exception as exc:
        return f"keyring: {exc}"
    try:
        pick_backend()
    except NoKeyringBackend:
        return None  # no keyring in this session: the app falls back, as designed
    except Exception as exc:
        return f"keyring: {exc}"
    return None


def check_notifier() -> str | None:
    try:
        from importlib.resources import files

        import desktop_notifier  # noqa: F401

        if not files("desktop_notifier.resources").joinpath("python.png").is_file():
            return "desktop-notifier: resources missing"
    except Exception as exc:
        return f"desktop-notifier: {exc}"
    return None


def check_multimedia() -> str | None:
    try:
        from PySide6.QtMultimedia import QSoundEffect

        QSoundEffect()
    except Exception as exc:
        return f"QtMultimedia: {exc}"
    return None


def check_icon() -> str | None:
    from trayapp.core.models import AccountState
    from trayapp.ui.icon import make_icon

    pixmap = make_icon(AccountState(snapshot=None)).pixmap(32, 32)
    if pixmap.isNull():
        return "tray icon not painted"
    image = pixmap.toImage()
    if not any(image.pixelColor(x, y).alpha() for x in range(32) for y in range(32)):
        return "tray icon painted empty"
    return None


def check_scan(workers: int = 2) -> str | None:
    """A tiny transcript scan through the process pool (in one process where no pool starts)."""
    import tempfile

    from trayapp.services.ledger_writer import scan
    from trayapp.store.ledger import LedgerRepo

    try:
        with tempfile.TemporaryDirectory(prefix="claude-watch-self-test-") as tmp:
            project = Path(tmp) / "projects" / "-self-test"
            project.mkdir(parents=True)
            for i in (1, 2):
                (project / f"0000000{i}-0000-4000-8000-000000000000.jsonl").write_text(
                    _LINE % (i, i, i, i), encoding="utf-8"
                )
            repo = LedgerRepo.open(Path(tmp) / "ledger.sqlite3")
            try:
                stats = scan(repo, [Path(tmp) / "projects"], workers=workers, pool_min_bytes=1)
            finally:
                repo.close()
    except Exception as exc:
        return f"transcript scan: {type(exc).__name__}: {exc}"
    if stats.records != 2:
        return f"transcript scan: {stats.records} records instead of 2"
    return None


def checks() -> dict[str, Callable[[], str | None]]:
    """The checks that need no app object, by name."""
    return {
        "resources": check_resources,
        "commands": check_commands,
        "version": check_version,
        "sqlite": check_sqlite,
        "keyring": check_keyring,
        "notifier": check_notifier,
        "multimedia": check_multimedia,
        "icon": check_icon,
        "scan": check_scan,
    }


def run_checks() -> list[str]:
    problems = []
    for check in checks().values():
        problem = check()
        if problem:
            problems.append(problem)
    return problems


def run_self_test(cw: ClaudeWatch) -> int:
    from trayapp.core.models import AccountState

    t0 = time.perf_counter()
    problems = []
    cw.tray.set_state(AccountState(snapshot=None))
    cw.popup.set_state(AccountState(snapshot=None))
    if cw.tray.action_texts()[:1] != ["Open dashboard"]:
        problems.append("tray menu")
    problems += run_checks()
    if problems:
        print("SELF-TEST FAILED: " + "; ".join(problems))
        return 1
    print(f"SELF-TEST OK (tray available: {cw.tray_available}; {time.perf_counter() - t0:.2f} s)")
    return 0
