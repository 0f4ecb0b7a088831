"""The command end to end: real child processes, fuzzed stdin, import hygiene, the log."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers.statusline_support import EXAMPLES, FULL, run_inprocess, run_process
from trayapp.statusline import fastpaths


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_through_the_real_command(path: Path, state_dir: Path) -> None:
    data = json.loads(path.read_text())
    done = run_process(path.read_bytes())
    assert done.returncode == 0
    assert done.stderr == b""
    line = done.stdout.decode()
    assert line.endswith("\n")
    assert line.count("\n") == 1
    assert data["model"]["display_name"] in line
    assert "\x1b" not in line  # NO_COLOR=1 is set by the test conftest
    stored = json.loads((state_dir / "statusline" / "sessions" / f"{data['session_id']}.json").read_text())
    assert stored["session_id"] == data["session_id"]


def test_colour_unless_no_color(state_dir: Path) -> None:
    payload = Path(EXAMPLES[0]).read_bytes()
    coloured = run_process(payload, env={"NO_COLOR": ""})
    assert b"\x1b[" in coloured.stdout
    assert b"\x1b[" not in run_process(payload, ["--no-color"], env={"NO_COLOR": ""}).stdout


@pytest.mark.parametrize("raw", [b"", b"garbage\n", b"[]", b"{" * 50000, b'{"rate_limits": "x"}'])
def test_bad_stdin_real_process_exits_zero_with_a_line_and_logs(raw: bytes, hermetic_env: Path) -> None:
    done = run_process(raw)
    assert done.returncode == 0
    assert done.stderr == b""
    assert done.stdout.strip()
    if raw in (b"", b"garbage\n", b"[]", b"{" * 50000):
        log = (hermetic_env / "logs" / "statusline.log").read_text()
        assert log.strip()


def test_unwritable_state_dir_still_prints(hermetic_env: Path) -> None:
    hermetic_env.mkdir(parents=True, exist_ok=True)
    (hermetic_env / "state").write_text("a file where a directory should be")
    rc, out = run_inprocess(FULL.read_bytes())
    assert rc == 0
    assert out.strip()
    assert "cannot write capture" in (hermetic_env / "logs" / "statusline.log").read_text()


def test_segments_setting_is_honoured(hermetic_env: Path) -> None:
    cfg = hermetic_env / "config"
    cfg.mkdir(parents=True)
    (cfg / "settings.toml").write_text('[statusline]\nsegments = ["session_cost", "model"]\n')
    rc, out = run_inprocess(FULL.read_bytes())
    assert rc == 0
    assert out == "$0.42 · Opus 4.8\n"


def test_today_cost_segment(hermetic_env: Path) -> None:
    cfg = hermetic_env / "config"
    cfg.mkdir(parents=True)
    (cfg / "settings.toml").write_text('[statusline]\nsegments = ["today_cost"]\n')
    for sid, cost in (("a", 0.25), ("b", 1.0)):
        payload = {"session_id": sid, "cost": {"total_cost_usd": cost, "total_duration_ms": 1000}}
        rc, out = run_inprocess(json.dumps(payload).encode())
    assert out == "today $1.25\n"


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=25,
)
_known_keys = st.sampled_from(
    ["session_id", "model", "cost", "context_window", "rate_limits", "workspace", "version", "cwd"]
)
_stdin_objects = st.dictionaries(_known_keys, _json_values, max_size=8) | st.fixed_dictionaries(
    {
        "session_id": st.text(max_size=40),
        "rate_limits": st.dictionaries(
            st.sampled_from(["five_hour", "seven_day", "seven_day_opus", "x"]),
            st.fixed_dictionaries({"used_percentage": _json_values, "resets_at": _json_values})
            | _json_values,
        ),
        "cost": st.dictionaries(st.sampled_from(["total_cost_usd", "total_lines_added"]), _json_values),
    }
)


def _encode(obj: object) -> bytes:
    return json.dumps(obj, allow_nan=True).encode()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=_stdin_objects.map(_encode) | st.binary(max_size=200))
def test_fuzzed_stdin_in_process_always_prints_a_line(payload: bytes, hermetic_env: Path) -> None:
    rc, out = run_inprocess(payload)
    assert rc == 0
    assert out.endswith("\n")
    assert out.count("\n") == 1
    assert out.strip()


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=_stdin_objects.map(_encode) | st.binary(max_size=100))
def test_fuzzed_stdin_real_process_sample(payload: bytes, hermetic_env: Path) -> None:
    done = run_process(payload)
    assert done.returncode == 0
    assert done.stderr == b""
    assert done.stdout.strip()


FORBIDDEN = ("PySide6", "httpx", "anthropic", "platformdirs", "keyring", "qasync", "argparse", "logging")


def test_hot_path_imports_nothing_heavy(tmp_path: Path) -> None:
    """Run the console-script path in a fresh interpreter with the real platform dirs."""
    code = (
        "import io, sys, json\n"
        "from trayapp.__main__ import main\n"
        "sys.stdin = io.TextIOWrapper(io.BytesIO(open(sys.argv[1], 'rb').read()))\n"
        "rc = main(['statusline'])\n"
        "print(json.dumps(sorted(k for k, v in sys.modules.items() if v is not None)), file=sys.stderr)\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("CLAUDE_WATCH_HOME",)}
    env.update(HOME=str(tmp_path), XDG_STATE_HOME=str(tmp_path / "xdg-state"))
    env.pop("XDG_CONFIG_HOME", None)
    done = subprocess.run(
        [sys.executable, "-c", code, str(FULL)], capture_output=True, env=env, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr.decode()
    modules = json.loads(done.stderr.decode().strip().splitlines()[-1])
    heavy = [m for m in modules if m.split(".")[0] in FORBIDDEN]
    assert heavy == []
    assert "dataclasses" not in modules  # models/settings/paths are not on the hot path either
    assert (tmp_path / "xdg-state" / fastpaths.APP_ID / "statusline" / "sessions").is_dir()


def test_chain_runs_the_original_command_with_the_same_stdin(tmp_path: Path, state_dir: Path) -> None:
    seen = tmp_path / "seen.json"
    sidecar = tmp_path / "sidecar.json"
    sidecar.write_text(json.dumps({"original": {"type": "command", "command": f"cat > {seen}; echo THEIRS"}}))
    payload = FULL.read_bytes()
    done = run_process(payload, ["--chain", str(sidecar)], env={"COLUMNS": "200"})
    assert done.returncode == 0
    # Both lines show (issue 20: ours never did): theirs first, on one row where both fit.
    assert done.stdout.startswith(b"THEIRS \xc2\xb7 Opus 4.8"), done.stdout
    assert done.stdout.count(b"\n") == 1
    assert seen.read_bytes() == payload
    assert list((state_dir / "statusline" / "sessions").glob("*.json"))  # our capture happened too
    narrow = run_process(payload, ["--chain", str(sidecar)], env={"COLUMNS": "20"})
    first, second = narrow.stdout.decode().splitlines()
    assert first == "THEIRS"
    assert second.startswith("5h ")  # our own line, narrowed to the limit figures


def test_failing_chain_falls_back_to_our_line(tmp_path: Path, hermetic_env: Path) -> None:
    sidecar = tmp_path / "sidecar.json"
    sidecar.write_text(json.dumps({"original": {"type": "command", "command": "exit 3"}}))
    rc, out = run_inprocess(FULL.read_bytes(), ["--chain", str(sidecar)])
    assert rc == 0
    assert "Opus 4.8" in out
    assert "exited 3" in (hermetic_env / "logs" / "statusline.log").read_text()
    rc, out = run_inprocess(b"{}", ["--chain", str(tmp_path / "missing.json")])
    assert rc == 0
    assert out.strip()


def test_log_is_size_capped(hermetic_env: Path) -> None:
    from trayapp.statusline import log

    logs = hermetic_env / "logs"
    for _ in range(3):
        log.write(str(logs), ["x" * 400] * 800)
    assert (logs / "statusline.log").stat().st_size <= log.MAX_BYTES + 400 * 800
    assert (logs / "statusline.log.1").exists()
    assert len(list(logs.iterdir())) == 2


def test_help_and_cli_routing(capsys: pytest.CaptureFixture[str]) -> None:
    from trayapp.__main__ import main

    assert main(["statusline", "--help"]) == 0
    assert "--install" in capsys.readouterr().out


def test_stdin_left_open_never_hangs(hermetic_env: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "trayapp", "statusline"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdin is not None
    assert proc.stdout is not None
    proc.stdin.write(FULL.read_bytes())
    proc.stdin.flush()  # ...and the pipe stays open
    try:
        out = proc.stdout.read()
        assert proc.wait(timeout=30) == 0
    finally:
        proc.stdin.close()
        proc.kill()
        proc.wait()
        proc.stderr.close()
        proc.stdout.close()
    assert b"Opus 4.8" in out
    assert "still open" in (hermetic_env / "logs" / "statusline.log").read_text()


def test_columns_environment_limits_the_width(hermetic_env: Path) -> None:
    done = run_process(FULL.read_bytes(), env={"COLUMNS": "12"})
    assert done.returncode == 0
    assert done.stdout.startswith(b"5h "), done.stdout  # the 5-hour figure is the last to go
    assert len(done.stdout.strip()) <= 12
