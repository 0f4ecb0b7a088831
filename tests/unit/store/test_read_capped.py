"""Files read whole are read safely: special files refused at once, sizes capped (issue 20).

The audit found a FIFO as ``settings.toml`` hanging every command (the status line included,
which Claude Code runs on every render), a FIFO as the credentials file hanging ``status`` and
``doctor``, ``/dev/zero`` as credentials exhausting memory (read whole before the 1 MB cap), and a
settings file nested 50,000 deep crashing every command with RecursionError.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from trayapp.store.files import UnsafeFileError, read_capped

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="FIFOs and /dev/zero are POSIX")


def test_regular_files_and_symlinks_to_them_are_read(tmp_path: Path) -> None:
    f = tmp_path / "a.toml"
    f.write_bytes(b"x" * 100)
    (tmp_path / "link").symlink_to(f)
    assert read_capped(f, 100) == b"x" * 100
    assert read_capped(tmp_path / "link", 100) == b"x" * 100


def test_special_files_and_big_files_are_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # nobody writes: a plain open() would wait forever
    with pytest.raises(UnsafeFileError, match="not a regular file"):
        read_capped(fifo, 1000)
    with pytest.raises(UnsafeFileError, match="not a regular file"):
        read_capped("/dev/zero", 1000)
    with pytest.raises(UnsafeFileError, match="not a regular file"):
        read_capped(tmp_path, 1000)
    big = tmp_path / "big"
    big.write_bytes(b"x" * 101)
    with pytest.raises(UnsafeFileError, match="larger than 100 bytes"):
        read_capped(big, 100)
    with pytest.raises(FileNotFoundError):
        read_capped(tmp_path / "missing", 100)


def run(args: list[str], env: dict[str, str], stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "trayapp", *args],
        input=stdin,
        capture_output=True,
        env={**os.environ, **env},
        timeout=60,  # a hang is the failure this guards against
    )


@pytest.mark.parametrize(
    "args",
    [["config", "list"], ["statusline"], ["status", "--json"], ["config", "set", "alerts.sound", "off"]],
    ids=" ".join,
)
def test_a_fifo_settings_file_never_hangs_a_command(args: list[str], tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    os.mkfifo(tmp_path / "config" / "settings.toml")
    done = run(
        args, {"CLAUDE_WATCH_HOME": str(tmp_path), "CLAUDE_CONFIG_DIR": str(tmp_path / "claude")}, b"{}"
    )
    assert b"Traceback" not in done.stderr, done.stderr
    if args[:2] == ["config", "set"]:
        assert done.returncode != 0
        assert b"not a regular file" in done.stderr


def test_a_deeply_nested_settings_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "settings.toml").write_text("a = " + "[" * 50_000 + "]" * 50_000 + "\n")
    env = {"CLAUDE_WATCH_HOME": str(tmp_path), "CLAUDE_CONFIG_DIR": str(tmp_path / "claude")}
    for args in (["config", "list"], ["statusline"], ["config", "set", "alerts.sound", "off"]):
        done = run(args, env, b"{}")
        assert b"Traceback" not in done.stderr, (args, done.stderr[-500:])
        assert b"RecursionError" not in done.stderr
    assert b"nested too deeply" in done.stderr


@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_special_credentials_files_never_hang_or_exhaust_memory(kind: str, tmp_path: Path) -> None:
    claude = tmp_path / "claude"
    claude.mkdir()
    creds = claude / ".credentials.json"
    if kind == "fifo":
        os.mkfifo(creds)
    else:
        creds.symlink_to("/dev/zero")
    env = {
        "CLAUDE_WATCH_HOME": str(tmp_path / "home"),
        "CLAUDE_CONFIG_DIR": str(claude),
        "HOME": str(tmp_path),
    }
    for args in (["status", "--json"], ["doctor", "--json"]):
        done = run(args, env)
        assert b"Traceback" not in done.stderr, (args, done.stderr[-500:])
        assert b"MemoryError" not in done.stderr
