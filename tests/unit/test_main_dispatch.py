"""``claude-watch COMMAND`` builds only that command's parser (start-up time), while ``--help``, no
command and unknown commands still see every command; a warm report imports none of the other
commands' modules, nor the transcript scanner when it does not scan."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path

import pytest

from trayapp.__main__ import COMMANDS, _build_parser, main

ROOT = Path(__file__).parents[2]
AVAILABLE = [name for name, module in COMMANDS.items() if find_spec(module) is not None]


def _commands(parser: argparse.ArgumentParser) -> set[str]:
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return set(sub.choices)


def test_a_named_command_registers_only_itself() -> None:
    for name in AVAILABLE:
        assert _commands(_build_parser(name)) == {name}


def test_no_command_or_an_unknown_one_registers_all() -> None:
    assert _commands(_build_parser(None)) == set(AVAILABLE)
    assert _commands(_build_parser("--help")) == set(AVAILABLE)
    assert _commands(_build_parser("no-such-command")) == set(AVAILABLE)
    assert {"report", "export", "config", "status", "doctor"} <= set(AVAILABLE)


def test_top_level_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    # Command lines are indented by exactly four spaces (wrapped help text by more).
    listed = {line.split()[0] for line in out.splitlines() if line[:4] == "    " and line[4:5] not in " -"}
    assert listed == set(AVAILABLE)


def test_command_help_and_errors_still_work(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["report", "--help"])
    assert exc.value.code == 0
    assert "{daily,weekly,monthly,session,project,blocks}" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        main(["report", "hourly"])
    assert exc.value.code == 2
    assert "invalid choice: 'hourly'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["reprot", "daily"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'reprot'" in err
    assert "'report'" in err
    assert "'export'" in err


def test_every_command_parses_through_the_fast_path() -> None:
    samples = {
        "report": ["report", "daily", "--json"],
        "export": ["export", "csv", "--what", "daily", "--out", "-"],
        "config": ["config", "list"],
    }
    for name, argv in samples.items():
        args = _build_parser(name).parse_args(argv)
        assert args.command == name
        assert callable(args.func)


def _modules_after(argv: list[str], tmp_path: Path) -> set[str]:
    code = (
        "import sys\n"
        "from trayapp.__main__ import main\n"
        f"rc = main({argv!r})\n"
        "sys.stdout.flush()\n"
        "print('MODULES', ' '.join(sorted(sys.modules)), file=sys.stderr)\n"
        "sys.exit(rc)\n"
    )
    env = dict(os.environ, CLAUDE_WATCH_HOME=str(tmp_path / "home"), CLAUDE_CONFIG_DIR=str(tmp_path / "cc"))
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    line = next(x for x in done.stderr.splitlines() if x.startswith("MODULES "))
    return set(line.split()[1:])


def test_warm_report_imports_only_what_it_needs(tmp_path: Path) -> None:
    loaded = _modules_after(["report", "daily", "--json", "--timezone", "UTC", "--no-scan"], tmp_path)
    assert "trayapp.cli.report" in loaded
    others = {m for name, m in COMMANDS.items() if name != "report"}
    assert not others & loaded, others & loaded
    # Not scanning: neither the scanner nor the decoder; no settings file: no TOML parser; UTC: no
    # zoneinfo; and none of this module's own heavy-weights.
    for heavy in ("trayapp.services.ledger_writer", "trayapp.sources.transcripts.decode",
                  "trayapp.sources.transcripts.reader", "tomllib", "zoneinfo", "tempfile", "msgspec",
                  "platformdirs", "shutil"):  # fmt: skip
        assert heavy not in loaded, heavy
    scanned = _modules_after(["report", "daily", "--json", "--timezone", "UTC"], tmp_path)
    assert "trayapp.services.ledger_writer" in scanned
    assert not others & scanned
    # A warm rescan (nothing to read) needs no decoder, and its records need neither dataclasses
    # (which import inspect) nor typing.
    for heavy in ("trayapp.sources.transcripts.decode", "trayapp.sources.transcripts.reader", "dataclasses",
                  "typing"):  # fmt: skip
        assert heavy not in scanned, heavy


@pytest.mark.parametrize("columns", [None, "60", "132", "0", "wide"])
def test_light_formatter_has_argparse_width(columns: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    from trayapp.cli._parser import Formatter, Parser

    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    assert Formatter("claude-watch")._width == argparse.HelpFormatter("claude-watch")._width
    ours = _build_parser(None)
    stock = argparse.ArgumentParser(prog="claude-watch", description=ours.description)
    assert isinstance(ours, Parser)
    assert ours.formatter_class is Formatter
    assert ours._get_formatter()._width == stock._get_formatter()._width


def test_version_is_the_package_metadata_read_only_when_asked(capsys: pytest.CaptureFixture[str]) -> None:
    from importlib.metadata import version

    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out == f"claude-watch {version('claude-watch')}\n"
    # Building the parser (every command does) must not import importlib.metadata.
    code = (
        "import sys; from trayapp.__main__ import _build_parser; _build_parser('report'); "
        "print(sorted(m for m in ('importlib.metadata', 'email') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


def test_the_tray_app_imports_no_command_module() -> None:
    """Starting the tray app (options only) registers no subcommand: their modules would stay
    resident for the app's lifetime. Help and unknown words still get every command."""
    import subprocess
    import sys

    from trayapp.__main__ import _command_in

    assert _command_in([]) == ""
    assert _command_in(["--demo"]) == ""
    assert _command_in(["--demo", "--help"]) is None
    assert _command_in(["status", "--json"]) == "status"
    code = (
        "import sys; from trayapp.__main__ import _build_parser;"
        "_build_parser('').parse_args(['--demo']);"
        "print(sorted(m for m in sys.modules if m.startswith('trayapp.cli.') and m != 'trayapp.cli._parser'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
