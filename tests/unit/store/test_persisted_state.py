"""One room for persisted state: one atomic writer (``store/files.py``) used by every small file
the app writes whole, the outbox's storage in ``store/``, and the table of files in ``paths``."""

from __future__ import annotations

import ast
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from trayapp import paths
from trayapp.store import files
from trayapp.store.files import atomic_write

ROOT = Path(__file__).parents[2]
PACKAGE = ROOT / "trayapp"

# Hand-rolled temp-file-and-rename writes still living in files other changes own; each should
# move to atomic_write and leave this set. statusline/log.py renames its log to ``.1`` (a
# rotation, not a write), and store/files.py is the writer itself.
NOT_A_WRITE = {"trayapp/store/files.py", "trayapp/statusline/log.py"}
PENDING = {
    "trayapp/settings.py",
    "trayapp/services/alerts.py",
}


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask() -> object:
    old = os.umask(0o022)
    yield os.umask
    os.umask(old)


def test_replaces_the_contents_whole_with_exact_modes(tmp_path: Path, umask) -> None:
    target = tmp_path / "a" / "b" / "x.json"
    atomic_write(target, '{"é": 1}')
    assert target.read_bytes() == '{"é": 1}'.encode()
    assert _mode(target) == 0o600
    assert _mode(target.parent) == 0o700
    atomic_write(str(target), b"\x00\xff", mode=0o644)
    assert target.read_bytes() == b"\x00\xff"
    assert _mode(target) == 0o644
    umask(0o077)  # the mode is applied exactly, whatever the umask says
    atomic_write(target, "x", mode=0o644)
    assert _mode(target) == 0o644
    umask(0o000)
    atomic_write(target, "x")
    assert _mode(target) == 0o600
    assert sorted(p.name for p in target.parent.iterdir()) == ["x.json"]  # no temp file left


def test_a_failed_write_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "dir" / "x.txt"
    target.parent.mkdir()
    target.write_text("old")

    def broken(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "replace", broken)
    with pytest.raises(OSError, match="No space"):
        atomic_write(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in target.parent.iterdir()] == ["x.txt"]


def test_without_parents_a_missing_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        atomic_write(tmp_path / "typo" / "x.csv", "a", parents=False)
    assert not (tmp_path / "typo").exists()


def test_the_writer_is_import_light() -> None:
    """The statusline command imports it on every run: nothing beyond os (no site, so no
    editable-install finder pulling pathlib in behind our back)."""
    code = (
        f"import os, sys; sys.path.insert(0, {str(ROOT)!r}); before = set(sys.modules)\n"
        "import trayapp.store.files\n"
        "print(' '.join(sorted({k for k, v in sys.modules.items() if v is not None} - before)))"
    )
    done = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, check=True)
    assert set(done.stdout.split()) <= {"__future__", "trayapp", "trayapp.store", "trayapp.store.files"}


def _hand_rolled_writes() -> set[str]:
    """Files under trayapp/ that call os.replace or tempfile.mkstemp themselves."""
    found = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                owner = node.func.value
                name = owner.id if isinstance(owner, ast.Name) else ""
                if (name, node.func.attr) in {("os", "replace"), ("tempfile", "mkstemp")}:
                    found.add(path.relative_to(ROOT).as_posix())
    return found


def test_no_new_hand_rolled_atomic_writes() -> None:
    rogue = _hand_rolled_writes() - NOT_A_WRITE
    assert rogue <= PENDING, sorted(rogue - PENDING)


def test_capture_files_go_through_the_one_writer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from trayapp.statusline import capture

    seen: list[str] = []

    def spy(path: str, data: bytes) -> None:
        seen.append(os.path.basename(path))
        atomic_write(path, data)

    monkeypatch.setattr(capture, "atomic_write", spy)
    capture.update_latest(str(tmp_path), {"captured_at": 5.0, "rate_limits": {"five_hour": {}}})
    assert seen == [capture.LATEST]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="XDG autostart")
def test_autostart_entry_is_world_readable_and_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from trayapp.platform import autostart

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    written = autostart.enable(["/usr/bin/claude-watch"])
    assert written == tmp_path / "autostart" / "claude-watch.desktop"
    assert _mode(written) == 0o644
    assert "Exec=/usr/bin/claude-watch\n" in written.read_text()
    assert autostart.is_enabled()
    assert [p.name for p in written.parent.iterdir()] == ["claude-watch.desktop"]


def test_install_keeps_the_mode_of_claude_codes_settings(tmp_path: Path) -> None:
    from trayapp.statusline import install

    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({"model": "opus"}))
    settings.chmod(0o640)
    assert install.install(settings, "claude-watch statusline").code == 0
    assert _mode(settings) == 0o640
    assert "statusLine" in json.loads(settings.read_text())
    assert _mode(install.sidecar_for(settings)) == 0o600


def test_export_writes_crlf_csv_privately(tmp_path: Path) -> None:
    from trayapp.services.export import write_csv

    out = write_csv(tmp_path / "x.csv", ["a", "b"], [[1, "é,2"]])
    assert out.read_bytes() == 'a,b\r\n1,"é,2"\r\n'.encode()
    assert _mode(out) == 0o600


def test_outbox_storage_lives_in_the_store() -> None:
    from trayapp.channels import outbox as channel
    from trayapp.store import outbox_repo

    assert channel.Outbox is outbox_repo.Outbox
    assert outbox_repo.Outbox.__module__ == "trayapp.store.outbox_repo"
    assert not hasattr(channel, "MIGRATIONS")  # the schema has one home
    assert "sqlite3" not in vars(channel)  # the channel module sends; it does not open databases


def test_paths_docstring_lists_every_file_the_app_writes() -> None:
    from trayapp import logging_setup, runtime
    from trayapp.services import ledger_service
    from trayapp.sources import claude_version
    from trayapp.sources.transcripts import discovery
    from trayapp.statusline import capture, install
    from trayapp.store import ledger, outbox_repo

    table = paths.__doc__ or ""
    names = {
        paths.settings_file().name,
        paths.database_file().name,
        ledger.LEDGER_FILENAME,
        outbox_repo.outbox_file().name,
        "alerts.json",
        ledger_service.TODAY_FILE,
        runtime.HEALTH_FILE,
        capture.LATEST,
        discovery.CACHE_FILENAME,
        claude_version.CACHE_NAME,
        logging_setup.LOG_NAME,
        "statusline.log",
        install.SIDECAR_NAME,
        "claude-watch.desktop",
    }
    assert {n for n in names if n not in table} == set()
