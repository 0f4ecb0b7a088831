"""``claude-watch telemetry --install/--uninstall/--status`` round trips on copies of real settings
files (tests/fixtures/claude-settings): only the exporter variables, backups, idempotence, exact
restore, another collector refused, ``--alongside`` where the protocol allows."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from trayapp.__main__ import main
from trayapp.services import telemetry_install as ti
from trayapp.store.local_endpoint import LocalEndpoint

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "claude-settings"
ENDPOINT = LocalEndpoint(43210, "h" * 43)


def copy(tmp_path: Path, name: str) -> Path:
    target = tmp_path / "claude" / "settings.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(FIXTURES / name, target)
    return target


def env_of(path: Path) -> dict[str, str]:
    env: dict[str, str] = json.loads(path.read_text())["env"]
    return env


def test_round_trip_writes_only_the_exporter_variables_and_restores_the_bytes(tmp_path: Path) -> None:
    path = copy(tmp_path, "plain.json")
    original = path.read_bytes()
    result = ti.install(path, ENDPOINT)
    assert (result.code, result.changed) == (0, True)
    assert result.backup is not None
    assert result.backup.read_bytes() == original
    env = env_of(path)
    assert env == {"BASH_DEFAULT_TIMEOUT_MS": "120000", "DISABLE_TELEMETRY": "1", **ti.our_values(ENDPOINT)}
    assert env["OTEL_EXPORTER_OTLP_HEADERS"] == f"Authorization=Bearer {ENDPOINT.hook_token}"
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://127.0.0.1:43210"
    assert not set(ti.NEVER_SET) & set(env)
    data = json.loads(path.read_text())
    assert list(data) == list(json.loads(original))  # key order kept
    assert '\n    "model"' in path.read_text()  # the file's 4-space indentation
    installed = path.read_bytes()
    again = ti.install(path, ENDPOINT)
    assert (again.code, again.changed, path.read_bytes()) == (0, False, installed)
    status = ti.status(path, ENDPOINT, probe=False)
    assert status.details["installed"]
    assert status.details["up_to_date"]
    assert status.details["signals"] == ["metrics", "logs"]
    assert status.details["other_collector"] is None
    moved = LocalEndpoint(43999, ENDPOINT.hook_token)
    assert not ti.status(path, moved, probe=False).details["up_to_date"]
    assert ti.install(path, moved).changed  # a new port updates our values in place
    assert env_of(path)["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://127.0.0.1:43999"
    removed = ti.uninstall(path, moved)
    assert (removed.code, removed.changed) == (0, True)
    assert path.read_bytes() == original
    assert not ti.sidecar_for(path).exists()
    assert not ti.status(path, moved, probe=False).details["installed"]


def test_uninstall_after_the_user_edited_removes_only_ours(tmp_path: Path) -> None:
    path = copy(tmp_path, "plain.json")
    ti.install(path, ENDPOINT)
    data = json.loads(path.read_text())
    data["env"]["MY_VAR"] = "mine"
    data["theme"] = "dark"
    path.write_text(json.dumps(data, indent=4) + "\n")
    ti.uninstall(path, ENDPOINT)
    after = json.loads(path.read_text())
    assert after["env"] == {"BASH_DEFAULT_TIMEOUT_MS": "120000", "DISABLE_TELEMETRY": "1", "MY_VAR": "mine"}
    assert after["theme"] == "dark"
    assert after["hooks"] == json.loads((FIXTURES / "plain.json").read_text())["hooks"]


def test_a_company_collector_for_both_signals_is_refused_even_alongside(tmp_path: Path) -> None:
    path = copy(tmp_path, "company-collector.json")
    original = path.read_bytes()
    for alongside in (False, True):
        result = ti.install(path, ENDPOINT, alongside=alongside)
        assert result.code == ti.EXIT_REFUSED
        assert "https://otel-collector.corp.example:4317" in result.message
        assert path.read_bytes() == original
    assert "one OTLP exporter per signal" in result.message
    assert not list(path.parent.glob("*backup*"))
    status = ti.status(path, ENDPOINT, probe=False)
    assert not status.details["installed"]
    assert "otel-collector.corp.example" in status.details["other_collector"]


def test_alongside_a_metrics_only_collector_takes_the_logs(tmp_path: Path) -> None:
    path = copy(tmp_path, "company-metrics-only.json")
    original = path.read_bytes()
    assert ti.install(path, ENDPOINT).code == ti.EXIT_REFUSED
    result = ti.install(path, ENDPOINT, alongside=True)
    assert (result.code, result.details["signals"]) == (0, ["logs"])
    env = env_of(path)
    theirs = json.loads(original)["env"]
    assert {k: env[k] for k in theirs} == theirs  # the company's variables untouched
    assert env["OTEL_LOGS_EXPORTER"] == "otlp"
    assert env["OTEL_EXPORTER_OTLP_LOGS_ENDPOINT"] == "http://127.0.0.1:43210/v1/logs"
    assert env["OTEL_EXPORTER_OTLP_LOGS_HEADERS"] == f"Authorization=Bearer {ENDPOINT.hook_token}"
    assert env["OTEL_EXPORTER_OTLP_LOGS_PROTOCOL"] == ti.PROTOCOL
    assert "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT" not in env
    before = path.read_bytes()
    assert not ti.install(path, ENDPOINT, alongside=True).changed  # idempotent
    assert path.read_bytes() == before
    status = ti.status(path, ENDPOINT, probe=False)
    assert (status.details["installed"], status.details["signals"]) == (True, ["logs"])
    assert "metrics to http://otel-collector.corp.example:4318" in status.details["other_collector"]
    ti.uninstall(path, ENDPOINT)
    assert path.read_bytes() == original


def test_invalid_settings_are_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text('{"env": {"A": 1},}')
    assert ti.install(path, ENDPOINT).code == 2
    assert path.read_text() == '{"env": {"A": 1},}'
    path.write_text('{"env": []}')
    assert ti.install(path, ENDPOINT).code == 2


def test_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = copy(tmp_path, "company-collector.json")
    assert main(["telemetry", "--install", "--settings", str(path)]) == ti.EXIT_REFUSED
    assert "another collector" in capsys.readouterr().err
    path = copy(tmp_path, "plain.json")
    assert main(["telemetry", "--install", "--settings", str(path)]) == 0
    assert "telemetry installed" in capsys.readouterr().out
    assert main(["telemetry", "--status", "--json", "--settings", str(path)]) == 0
    status = json.loads(capsys.readouterr().out)
    assert (status["installed"], status["up_to_date"], status["last_received_at"]) == (True, True, None)
    assert main(["telemetry", "--uninstall", "--settings", str(path)]) == 0
    assert path.read_bytes() == (FIXTURES / "plain.json").read_bytes()


def test_status_names_managed_settings_that_override_the_users(tmp_path: Path) -> None:
    path = copy(tmp_path, "plain.json")
    ti.install(path, ENDPOINT)
    managed = tmp_path / "managed-settings.json"
    assert ti.status(path, ENDPOINT, probe=False, managed=managed).details["managed_settings"] is None
    shutil.copy(FIXTURES / "company-collector.json", managed)
    status = ti.status(path, ENDPOINT, probe=False, managed=managed)
    assert "OTEL_EXPORTER_OTLP_ENDPOINT" in status.details["managed_settings"]["telemetry_variables"]
    assert "managed settings" in status.message
