"""The installed launcher, per kind of install: real files and links in a temp folder, with
``sys.frozen``, ``sys.executable``, ``sys.platform`` and the AppImage variables set as each
install would set them."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from trayapp.platform import autostart, launcher
from trayapp.platform.launcher import NoStableLauncher, launcher_command
from trayapp.statusline import install


def _file(path: Path, text: str = "#!/bin/sh\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755)
    return path


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Pretend to be a PyInstaller bundle whose executable is the given file."""
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.delenv("APPIMAGE", raising=False)
    monkeypatch.delenv("APPDIR", raising=False)

    def run_from(exe: Path) -> Path:
        monkeypatch.setattr(sys, "executable", str(exe))
        return exe

    return run_from


def test_appimage_is_the_launcher_not_its_mount(tmp_path, monkeypatch, frozen) -> None:
    mount = tmp_path / ".mount_claudeXYZ"
    frozen(_file(mount / "usr" / "lib" / "claude-watch" / "claude-watch"))
    image = _file(tmp_path / "Apps" / "claude-watch-0.1.0-x86_64.AppImage")
    monkeypatch.setenv("APPIMAGE", str(image))
    monkeypatch.setenv("APPDIR", str(mount))
    assert launcher_command() == [str(image)]
    assert launcher_command(gui=True) == [str(image)]


def test_appimage_extract_and_run_is_the_appimage_too(tmp_path, monkeypatch, frozen) -> None:
    extracted = tmp_path / "appimage_extracted_0123abcd"
    frozen(_file(extracted / "usr" / "lib" / "claude-watch" / "claude-watch"))
    image = _file(tmp_path / "claude-watch.AppImage")
    monkeypatch.setenv("APPIMAGE", str(image))
    monkeypatch.setenv("APPDIR", str(extracted))
    assert launcher_command() == [str(image)]


def test_appimage_variables_leaked_from_another_app_are_ignored(tmp_path, monkeypatch, frozen) -> None:
    """A terminal started from some other AppImage passes APPIMAGE/APPDIR to everything it runs."""
    exe = frozen(_file(tmp_path / "claude-watch-0.1.0" / "claude-watch"))
    monkeypatch.setenv("APPIMAGE", str(_file(tmp_path / "Terminal.AppImage")))
    monkeypatch.setenv("APPDIR", str(tmp_path / ".mount_termABC"))
    assert launcher_command() == [str(exe)]


def test_a_temporary_mount_without_appimage_is_refused(tmp_path, frozen) -> None:
    frozen(_file(tmp_path / ".mount_claudeXYZ" / "usr" / "lib" / "claude-watch" / "claude-watch"))
    with pytest.raises(NoStableLauncher, match="temporary"):
        launcher_command()


def test_deb_bundle_runs_through_usr_bin(tmp_path, monkeypatch, frozen) -> None:
    lib = tmp_path / "usr" / "lib" / "claude-watch"
    exe = frozen(_file(lib / "claude-watch"))
    link = tmp_path / "usr" / "bin" / "claude-watch"
    link.parent.mkdir(parents=True)
    link.symlink_to("../lib/claude-watch/claude-watch")
    monkeypatch.setattr(launcher, "DEB_LIB", lib)
    monkeypatch.setattr(launcher, "DEB_BIN", link)
    assert launcher_command() == [str(link)]
    # /usr/bin/claude-watch belonging to something else: the bundle's own executable.
    link.unlink()
    link.symlink_to(_file(tmp_path / "elsewhere" / "claude-watch"))
    assert launcher_command() == [str(exe)]


def test_portable_folder_is_its_own_executable(tmp_path, frozen) -> None:
    exe = frozen(_file(tmp_path / "opt" / "claude-watch-0.1.0" / "claude-watch"))
    assert launcher_command() == [str(exe)]
    assert launcher_command(gui=True) == [str(exe)]


def test_windows_console_exe_for_commands_windowed_exe_for_the_tray(tmp_path, monkeypatch, frozen) -> None:
    folder = tmp_path / "Programs" / "Claude Watch"
    console = _file(folder / "claude-watch.exe")
    windowed = frozen(_file(folder / "ClaudeWatch.exe"))  # the tray started from the Start menu
    monkeypatch.setattr(sys, "platform", "win32")
    assert launcher_command() == [str(console)]
    assert launcher_command(gui=True) == [str(windowed)]
    frozen(console)  # `claude-watch.exe statusline --install` typed in a terminal: the same answers
    assert launcher_command() == [str(console)]
    assert launcher_command(gui=True) == [str(windowed)]
    windowed.unlink()  # a bundle built without the windowed exe
    assert launcher_command(gui=True) == [str(console)]


def _venv(root: Path) -> tuple[Path, Path]:
    python = _file(root / "bin" / "python")
    return python, _file(root / "bin" / "claude-watch")


def test_venv_install_uses_its_console_script(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(sys, "frozen", False, raising=False)
    python, script = _venv(tmp_path / "venv")
    monkeypatch.setattr(sys, "executable", str(python))
    monkeypatch.setattr(sys, "argv", ["-m"])  # `python -m trayapp` from this venv
    other = _file(tmp_path / "other" / "claude-watch")  # another install earlier on PATH
    monkeypatch.setenv("PATH", str(other.parent))
    assert launcher_command() == [str(script)]


def test_pipx_install_uses_the_link_on_path(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(sys, "frozen", False, raising=False)
    python, script = _venv(tmp_path / "pipx" / "venvs" / "claude-watch")
    link = tmp_path / "local" / "bin" / "claude-watch"
    link.parent.mkdir(parents=True)
    link.symlink_to(script)
    monkeypatch.setattr(sys, "executable", str(python))
    monkeypatch.setattr(sys, "argv", [str(link)])
    monkeypatch.setenv("PATH", str(link.parent))
    assert launcher_command() == [str(link)]


def test_checkout_without_a_script_runs_the_module(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(sys, "frozen", False, raising=False)
    python = _file(tmp_path / "py" / "bin" / "python3")
    monkeypatch.setattr(sys, "executable", str(python))
    monkeypatch.setattr(sys, "argv", ["-m"])
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    assert launcher_command() == [str(python), "-m", "trayapp"]


def test_autostart_entry_starts_the_appimage(tmp_path, monkeypatch, frozen) -> None:
    mount = tmp_path / ".mount_claudeXYZ"
    frozen(_file(mount / "usr" / "lib" / "claude-watch" / "claude-watch"))
    image = _file(tmp_path / "Apps" / "claude-watch.AppImage")
    monkeypatch.setenv("APPIMAGE", str(image))
    monkeypatch.setenv("APPDIR", str(mount))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    entry = autostart.enable()
    assert f"Exec={image}\n" in Path(entry).read_text()


def test_statusline_install_writes_the_appimage_refuses_a_bare_mount(tmp_path, monkeypatch, frozen) -> None:
    mount = tmp_path / ".mount_claudeXYZ"
    frozen(_file(mount / "usr" / "lib" / "claude-watch" / "claude-watch"))
    settings = tmp_path / "claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_text('{"theme": "dark"}\n')
    refused = install.install(settings)
    assert refused.code == 2
    assert "temporary" in refused.message
    assert settings.read_text() == '{"theme": "dark"}\n'
    image = _file(tmp_path / "Apps" / "claude-watch-0.1.0-x86_64.AppImage")
    monkeypatch.setenv("APPIMAGE", str(image))
    monkeypatch.setenv("APPDIR", str(mount))
    assert install.install(settings).code == 0
    command = json.loads(settings.read_text())["statusLine"]["command"]
    assert command == f"{image} statusline"
    assert install.is_ours({"command": command})
