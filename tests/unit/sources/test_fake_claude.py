"""The scripted ``claude`` stand-in the session tests run as a real child process."""

from __future__ import annotations

import json
import subprocess

from tests.helpers.fixtures_sessions import FakeClaude


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["claude", *argv], capture_output=True, text=True, timeout=30, check=False)


def test_version_agents_and_unknown_commands(fake_claude: FakeClaude) -> None:
    assert run("--version").stdout == "2.1.219 (Claude Code)\n"
    fake_claude.script(version="2.1.300", agents=[{"id": "a"}], agents_all=[{"id": "a"}, {"id": "b"}])
    assert run("--version").stdout.startswith("2.1.300 ")
    assert json.loads(run("agents", "--json").stdout) == [{"id": "a"}]
    assert json.loads(run("agents", "--json", "--all").stdout) == [{"id": "a"}, {"id": "b"}]
    assert run("agents").returncode != 0  # the TUI: no terminal here
    unknown = run("frobnicate")
    assert (unknown.returncode, unknown.stdout) == (2, "")
    assert run().returncode == 2
    assert [c["argv"] for c in fake_claude.calls()][:2] == [["--version"], ["--version"]]


def test_scripted_output_and_exit(fake_claude: FakeClaude) -> None:
    fake_claude.script(stdout={"agents": "garbage"}, exit={"--version": 3})
    assert run("agents", "--json").stdout == "garbage"
    failed = run("--version")
    assert (failed.returncode, failed.stdout) == (3, "2.1.219 (Claude Code)\n")
