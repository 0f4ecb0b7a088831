"""``claude-watch status --format waybar|polybar|i3blocks|json``: each line parsed, the app's API read
over a real loopback socket, the stored reading when no app runs, and never a request to the usage
endpoint from the bar formats."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.helpers.status_api_server import TOKEN, ApiStandIn, status_doc
from trayapp import paths
from trayapp.cli import status_formats as sf
from trayapp.cli.status_api import ApiUnavailable, fetch_status
from trayapp.core.models import Level, Source, UsageSnapshot, Window, WindowKind
from trayapp.demo import DemoHandle
from trayapp.store.usage_repo import UsageRepo

NOW = datetime(2030, 1, 1, 11, 0, tzinfo=UTC)
POLYBAR = re.compile(r"^%\{F#[0-9a-f]{6}\}((?:(?!%\{)[^\n])*)%\{F-\}$")  # no other tag inside


def run_status(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "trayapp", "status", *args],
        capture_output=True,
        text=True,
        env=dict(os.environ, HOME=os.environ["CLAUDE_WATCH_HOME"] + "-fakehome"),
        timeout=timeout,
        check=False,
    )


def dark_levels() -> dict[str, str]:
    from trayapp.ui import theme

    return {str(level): colour for level, colour in theme.DARK.levels.items()}


# ----- the lines, from a document -----------------------------------------------------------------


def test_waybar_line_is_one_json_object_with_the_binding_window() -> None:
    line = sf.render("waybar", status_doc(42.4, 18.0), NOW)
    assert "\n" not in line
    data = json.loads(line)
    assert set(data) == {"text", "tooltip", "class", "percentage"}
    assert data["text"] == "5h 42% · wk 18%"
    assert data["class"] == "ok"
    assert data["percentage"] == 42
    tip = data["tooltip"].splitlines()
    assert tip[0] == "Claude Watch · Max 5x"
    assert tip[1].startswith("5-hour: 42%, resets in 1 h · ")
    assert tip[2] == "  on track: about 49% at reset"
    assert tip[3].startswith("Weekly: 18%, resets in 1 h · ")
    assert "Updated just now" in tip


def test_waybar_class_follows_the_binding_window_and_stale_is_said() -> None:
    data = json.loads(sf.render("waybar", status_doc(50.0, 91.0, stale=True), NOW))
    assert data["class"] == ["critical", "stale"]
    assert data["percentage"] == 91
    assert data["text"] == "5h 50% · wk 91% · stale"
    assert "(stale)" in data["tooltip"]


def test_waybar_pace_that_runs_out_before_the_reset() -> None:
    doc = status_doc(80.0, 10.0)
    doc["windows"][0]["projected_full_at"] = "2030-01-01T11:30:00+00:00"
    tip = json.loads(sf.render("waybar", doc, NOW))["tooltip"]
    assert "at this pace 100% at " in tip
    assert "before the reset" in tip


def test_no_reading_yet() -> None:
    data = json.loads(sf.render("waybar", {"windows": [], "stale": True, "error": None}, NOW))
    assert data == {
        "text": "Claude — · stale",
        "tooltip": "Claude Watch\nNo usage reading yet.",
        "class": "stale",
        "percentage": 0,
    }


def test_polybar_line_is_coloured_with_the_theme() -> None:
    palette = sf.theme_palette()
    assert palette == dark_levels()  # the one palette, read without importing Qt
    line = sf.render("polybar", status_doc(76.0, 18.0), NOW)
    assert POLYBAR.match(line), line
    assert line == f"%{{F{dark_levels()['warning']}}}5h 76% · wk 18%%{{F-}}"
    assert sf.polybar(sf.Reading(status_doc(10.0, 1.0)), NOW, None) == "5h 10% · wk 1%"


def test_i3blocks_lines_and_the_persist_object() -> None:
    lines = sf.render("i3blocks", status_doc(95.0, 18.0), NOW).split("\n")
    assert lines == ["5h 95% · wk 18%", "5h 95%", dark_levels()["critical"]]
    persist = json.loads(sf.render("i3blocks", status_doc(95.0, 18.0, stale=True), NOW, watch=True))
    assert persist == {
        "full_text": "5h 95% · wk 18% · stale",
        "short_text": "5h 95% !",
        "color": dark_levels()["stale"],
    }


def test_json_line_in_watch_mode_is_the_document_on_one_line() -> None:
    doc = status_doc(1.0, 2.0)
    assert json.loads(sf.render("json", doc, NOW, watch=True)) == doc
    assert "\n" not in sf.render("json", doc, NOW, watch=True)


def test_levels_are_the_models_levels() -> None:
    assert set(sf.LEVELS) == {str(level) for level in Level}


# ----- untrusted documents ------------------------------------------------------------------------


def test_a_document_that_is_not_an_object_is_refused() -> None:
    for bad in ([], "x", None, 3):
        with pytest.raises(sf.BadDocument):
            sf.Reading(bad)


def test_bad_windows_are_dropped_and_the_rest_shown() -> None:
    doc = status_doc(30.0, 20.0)
    doc["windows"] += [
        {"id": "nan", "utilization": float("nan")},
        {"id": "bool", "utilization": True},
        {"id": "huge", "utilization": 1e9},
        {"utilization": 5},
        "not a window",
        {"id": "odd-level", "label": "Odd", "utilization": 3, "level": "purple", "resets_at": "not a date"},
    ]
    reading = sf.Reading(doc)
    assert [w.id for w in reading.windows] == ["five_hour", "seven_day", "odd-level"]
    assert reading.windows[2].level == "ok"
    assert reading.windows[2].resets_at is None


def test_labels_cannot_inject_polybar_actions_or_waybar_markup() -> None:
    doc = status_doc(10.0, 5.0)
    doc["windows"].append(
        {"id": "x", "label": "%{A1:rm -rf ~:}<b>evil</b>\x1b[31m", "kind": "weekly_scoped", "utilization": 99}
    )
    doc["binding"] = "x"
    line = sf.render("polybar", doc, NOW)
    assert "%{A" not in line
    assert "\x1b" not in line
    waybar = json.loads(sf.render("waybar", doc, NOW))
    assert "<b>" not in waybar["text"] + waybar["tooltip"]
    assert "&lt;b&gt;" in waybar["text"]


def test_the_key_ignores_what_moves_by_itself() -> None:
    a, b = status_doc(40.0, 10.0), status_doc(40.0, 10.0)
    b["age_seconds"] = 300.0
    b["windows"][0]["time_to_reset_seconds"] = 10.0
    assert sf.Reading(a).key() == sf.Reading(b).key()
    b["windows"][0]["utilization"] = 41.0
    assert sf.Reading(a).key() != sf.Reading(b).key()


# ----- the app's API over a real socket -----------------------------------------------------------


@pytest.mark.parametrize("chunked", [False, True])
def test_fetch_status_reads_the_app_with_its_token(hermetic_env: Path, chunked: bool) -> None:
    with ApiStandIn(status_doc(42.0, 18.0), chunked=chunked) as app:
        app.write_state(paths.state_dir())
        assert fetch_status() == status_doc(42.0, 18.0)
    assert app.requests[0][0] == "/v1/status"
    assert app.requests[0][1]["Authorization"] == f"Bearer {TOKEN}"


def test_fetch_status_without_an_app_or_with_a_refused_token(hermetic_env: Path) -> None:
    with pytest.raises(ApiUnavailable):
        fetch_status()  # no state files at all
    assert not paths.state_dir().exists() or not (paths.state_dir() / "api-token").exists()
    with ApiStandIn(status_doc(1.0, 1.0)) as app:
        app.write_state(paths.state_dir(), token="wrong-token-0123456789abcdefghijklmnop")
        with pytest.raises(ApiUnavailable, match="401"):
            fetch_status()
    with pytest.raises(ApiUnavailable):
        fetch_status()  # files there, nobody listening


def test_cli_formats_read_the_running_app(hermetic_env: Path) -> None:
    with ApiStandIn(status_doc(42.0, 18.0)) as app:
        app.write_state(paths.state_dir())
        waybar = run_status("--format", "waybar")
        polybar = run_status("--format", "polybar")
        i3 = run_status("--format", "i3blocks")
        js = run_status("--json")
    assert waybar.returncode == 0, waybar.stderr
    assert json.loads(waybar.stdout)["text"] == "5h 42% · wk 18%"
    assert POLYBAR.match(polybar.stdout.strip())
    assert i3.stdout.splitlines()[:2] == ["5h 42% · wk 18%", "5h 42%"]
    assert js.returncode == 0
    assert json.loads(js.stdout) == status_doc(42.0, 18.0)
    assert [path for path, _ in app.requests] == ["/v1/status"] * 4


# ----- no app: the stored reading, never a fetch --------------------------------------------------


def store_reading(fetched_at: datetime, five: float = 37.0, week: float = 12.0) -> None:
    repo = UsageRepo.open(paths.database_file())
    windows = (
        Window("five_hour", "5-hour", WindowKind.FIVE_HOUR, five, fetched_at + timedelta(hours=4)),
        Window("seven_day", "Weekly", WindowKind.WEEKLY, week, fetched_at + timedelta(days=3), timedelta(7)),
    )
    repo.save_snapshot(UsageSnapshot(fetched_at, Source.API, windows))
    repo.close()


def test_no_app_shows_the_stored_reading_and_never_fetches(
    usage_server: DemoHandle, hermetic_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLAUDE_WATCH_API_BASE", usage_server.base_url)  # credentials are there too
    store_reading(datetime.now(UTC) - timedelta(minutes=1))
    waybar = run_status("--format", "waybar")
    assert waybar.returncode == 0, waybar.stderr
    data = json.loads(waybar.stdout)
    assert data["text"] == "5h 37% · wk 12%"
    assert data["class"] == "ok"
    for fmt in ("polybar", "i3blocks"):
        assert run_status("--format", fmt).returncode == 0
    assert usage_server.simulator.requests == []  # the bar formats never asked the endpoint


def test_an_old_stored_reading_says_stale(hermetic_env: Path) -> None:
    store_reading(datetime.now(UTC) - timedelta(hours=3))
    data = json.loads(run_status("--format", "waybar").stdout)
    assert data["text"] == "5h 37% · wk 12% · stale"
    assert data["class"] == ["ok", "stale"]
    assert "Updated 3 h ago (stale)" in data["tooltip"]


def test_no_app_and_no_reading_creates_nothing(hermetic_env: Path) -> None:
    result = run_status("--format", "i3blocks")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[:2] == ["Claude — · stale", "Claude — !"]
    assert not paths.database_file().exists()
    assert not (paths.state_dir() / "api-token").exists()


def test_json_and_format_must_agree(hermetic_env: Path) -> None:
    result = run_status("--json", "--format", "waybar")
    assert result.returncode == 2
    assert "disagree" in result.stderr


# ----- the real server: claude-watch serve --demo -------------------------------------------------


def test_the_bar_formats_read_a_real_serve_demo(tmp_path: Path) -> None:
    from tests.helpers.serve_process import ServeProcess

    serve = ServeProcess(tmp_path / "serve-home")
    serve.start()
    try:
        before = sf.bar_text(sf.Reading(serve.status()))
        result = serve.cli("status", "--format", "waybar")
        after = sf.bar_text(sf.Reading(serve.status()))  # the demo moves fast: either one
        expected = {before, after}
        assert json.loads(result.stdout)["text"] in expected
        assert json.loads(result.stdout)["text"].startswith("5h ")
        as_json = json.loads(serve.cli("status", "--json").stdout)
        assert as_json["schema_version"] == 1  # the app's document, not a second poll
    finally:
        serve.stop()


def test_the_palette_needs_no_qt() -> None:
    """The colours the bars use import without Qt (a frozen build has no theme.py source to read)."""
    import subprocess
    import sys

    code = (
        "import sys; from trayapp.cli import status_formats as sf; p = sf.theme_palette();"
        "print(sorted(m for m in sys.modules if m.startswith('PySide6')), len(p))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["[]", "6"]
