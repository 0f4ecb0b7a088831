"""Opening a terminal running ``claude auth login``: the command line per platform (pure, every OS
checked from Linux) and a real detached start on Linux with a stand-in terminal on PATH."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers.login_support import ran, ran_env, stand_in_terminal
from trayapp.platform.terminal import NoTerminalError, open_terminal, terminal_command

LOGIN = ["claude", "auth", "login"]


def only(*names: str):
    return lambda name: f"/usr/bin/{name}" if name in names else None


def test_windows_prefers_windows_terminal_then_cmd_start() -> None:
    wt = terminal_command(LOGIN, platform="win32", env={}, which=only("wt"))
    assert wt is not None
    assert wt.argv == ("wt", "cmd", "/k", "claude auth login")
    cmd = terminal_command(LOGIN, platform="win32", env={}, which=only())
    assert cmd is not None
    assert cmd.argv == ("cmd", "/c", "start", "", "cmd", "/k", "claude auth login")


def test_linux_order_terminal_variable_then_the_known_terminals() -> None:
    shell = ("sh", "-c")
    env = {"TERMINAL": "alacritty"}
    first = terminal_command(LOGIN, platform="linux", env=env, which=only("alacritty", "xterm"))
    assert first is not None
    assert first.argv[:4] == ("alacritty", "-e", *shell)
    assert first.argv[4].startswith("claude auth login; ")
    # $TERMINAL naming a program that is not there is skipped.
    missing = terminal_command(LOGIN, platform="linux", env={"TERMINAL": "nope"}, which=only("xterm"))
    assert missing is not None
    assert missing.argv[:2] == ("xterm", "-e")
    expected = {
        ("x-terminal-emulator", "gnome-terminal", "konsole", "xterm"): ("x-terminal-emulator", "-e"),
        ("gnome-terminal", "konsole", "xterm"): ("gnome-terminal", "--"),
        ("konsole", "xterm"): ("konsole", "-e"),
        ("xterm",): ("xterm", "-e"),
    }
    for present, head in expected.items():
        launch = terminal_command(LOGIN, platform="linux", env={}, which=only(*present))
        assert launch is not None, present
        assert launch.argv[:2] == head, present
    assert terminal_command(LOGIN, platform="linux", env={}, which=only()) is None


def test_macos_uses_terminal_with_a_command_script_or_osascript(tmp_path: Path) -> None:
    script = tmp_path / "sign-in.command"
    launch = terminal_command(LOGIN, platform="darwin", env={}, which=only(), script_path=script)
    assert launch is not None
    assert launch.argv == ("open", "-a", "Terminal", str(script))
    assert launch.script is not None
    assert "\nclaude auth login\n" in launch.script
    osa = terminal_command(LOGIN, platform="darwin", env={}, which=only())
    assert osa is not None
    assert osa.argv[0] == "osascript"
    assert 'do script "claude auth login"' in osa.argv[2]


def test_arguments_are_quoted_for_the_shell() -> None:
    launch = terminal_command(["claude", "it's"], platform="linux", env={}, which=only("xterm"))
    assert launch is not None
    assert launch.argv[4].startswith("claude 'it'\"'\"'s'; ")


@pytest.mark.skipif(os.name != "posix", reason="a shell-script stand-in terminal")
def test_a_real_stand_in_terminal_on_path_runs_the_command(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    record = stand_in_terminal(bin_dir, "x-terminal-emulator")
    env = {"PATH": str(bin_dir)}
    from shutil import which

    launch = open_terminal(LOGIN, platform="linux", env=env, which=lambda n: which(n, path=env["PATH"]))
    assert launch.argv[0] == "x-terminal-emulator"
    assert ran(record) == "auth login"


def test_no_terminal_is_a_typed_error() -> None:
    with pytest.raises(NoTerminalError):
        open_terminal(LOGIN, platform="linux", env={}, which=only())


WORK = {"CLAUDE_CONFIG_DIR": "/home/me/claude work"}


def test_an_accounts_folder_is_set_in_the_command_line_itself_on_every_platform(tmp_path: Path) -> None:
    linux = terminal_command(LOGIN, platform="linux", env={}, which=only("xterm"), command_env=WORK)
    assert linux is not None
    assert linux.argv[4].startswith("CLAUDE_CONFIG_DIR='/home/me/claude work' claude auth login; ")
    mac = terminal_command(
        LOGIN, platform="darwin", env={}, which=only(), script_path=tmp_path / "s.command", command_env=WORK
    )
    assert mac is not None
    assert mac.script is not None
    assert "\nCLAUDE_CONFIG_DIR='/home/me/claude work' claude auth login\n" in mac.script
    win = terminal_command(
        LOGIN, platform="win32", env={}, which=only("wt"), command_env={"CLAUDE_CONFIG_DIR": r"C:\me\a&b (x)"}
    )
    assert win is not None
    assert win.argv[3] == r"set CLAUDE_CONFIG_DIR=C:\me\a^&b ^(x^)&& claude auth login"
    with pytest.raises(NoTerminalError):
        terminal_command(LOGIN, platform="linux", env={}, which=only("xterm"), command_env={"A B": "x"})
    with pytest.raises(NoTerminalError):
        terminal_command(LOGIN, platform="linux", env={}, which=only("xterm"), command_env={"X": "a\nb"})


@pytest.mark.skipif(os.name != "posix", reason="a shell-script stand-in terminal")
def test_a_real_stand_in_terminal_runs_the_command_with_the_accounts_folder(tmp_path: Path) -> None:
    """The terminal's own environment names another folder: the command line's wins."""
    bin_dir = tmp_path / "bin"
    record = stand_in_terminal(bin_dir, "xterm")
    env = {"PATH": str(bin_dir), "CLAUDE_CONFIG_DIR": str(tmp_path / "the-default")}
    from shutil import which

    folder = tmp_path / "claude work"
    open_terminal(
        LOGIN,
        platform="linux",
        env=env,
        which=lambda n: which(n, path=env["PATH"]),
        command_env={"CLAUDE_CONFIG_DIR": str(folder)},
    )
    assert ran_env(record) == str(folder)
    assert ran(record) == "auth login"
