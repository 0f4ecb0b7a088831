"""The fleet example (docs/fleet): the Grafana dashboard is loadable JSON whose queries name only
metrics the exporter emits, and the Prometheus configuration passes ``promtool check config``."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

from tests.helpers.prometheus import require
from trayapp.core.prom_metrics import FAMILIES

FLEET = Path(__file__).resolve().parents[2] / "docs" / "fleet"
EMITTED = {f.name for f in FAMILIES} | {"up"}  # up: Prometheus's own, per target
PROMQL_WORDS = {"by", "without", "sum", "max", "min", "avg", "count", "increase", "rate", "time", "on",
                "ignoring", "group_left", "label_values", "topk", "offset", "bool"}  # fmt: skip


def targets(panel: dict[str, Any]) -> list[dict[str, Any]]:
    found = list(panel.get("targets", []))
    for inner in panel.get("panels", []):
        found += targets(inner)
    return found


def dashboard() -> dict[str, Any]:
    return dict(json.loads((FLEET / "grafana-dashboard.json").read_text("utf-8")))


def metric_names(expr: str) -> set[str]:
    """Identifiers that are series names: not inside {...} or "...", not a function or keyword."""
    bare = re.sub(r'"[^"]*"', '""', expr)
    bare = re.sub(r"label_values\((.*),\s*\w+\s*\)", r"label_values(\1)", bare)  # its label argument
    bare = re.sub(r"\{[^}]*\}", "{}", bare)
    bare = re.sub(r"\[[^\]]*\]", "[]", bare)
    bare = re.sub(r"\b(by|without)\s*\([^)]*\)", "", bare)
    names = set(re.findall(r"\b[a-zA-Z_:][a-zA-Z0-9_:]*\b", bare))
    return {n for n in names if n not in PROMQL_WORDS}


def test_dashboard_queries_name_only_emitted_metrics() -> None:
    board = dashboard()
    exprs = [t["expr"] for p in board["panels"] for t in targets(p)]
    exprs += [v["definition"] for v in board["templating"]["list"]]
    assert len(exprs) >= 15
    used: set[str] = set()
    for expr in exprs:
        names = metric_names(expr)
        assert names, expr
        assert names <= EMITTED, f"{expr}: {names - EMITTED}"
        used |= names
    # The panels the issue asks for: limits per machine and account, tokens and cost per day and model.
    assert {"claude_watch_window_utilization_ratio", "claude_watch_telemetry_tokens_total",
            "claude_watch_telemetry_cost_usd_total"} <= used  # fmt: skip
    per_day = [e for e in exprs if "[1d]" in e]
    assert any("telemetry_tokens_total" in e and "by (model)" in e for e in per_day)
    assert any("telemetry_cost_usd_total" in e and "by (model)" in e for e in per_day)


def test_dashboard_is_importable() -> None:
    board = dashboard()
    assert board["uid"] == "claude-watch-fleet"
    assert board["title"]
    assert board["__inputs"][0]["pluginId"] == "prometheus"
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))
    for panel in board["panels"]:
        assert {"x", "y", "w", "h"} <= set(panel["gridPos"])
        for target in targets(panel):
            assert target["datasource"]["uid"] == "${DS_PROMETHEUS}"
    assert {v["name"] for v in board["templating"]["list"]} == {"machine", "account"}


def test_metric_names_finds_what_a_query_names() -> None:
    expr = 'sum by (model) (increase(claude_watch_telemetry_cost_usd_total{machine=~"a|b"}[1d])) / up'
    assert metric_names(expr) == {"claude_watch_telemetry_cost_usd_total", "up"}


def test_the_fleet_scrape_config_passes_promtool(tmp_path: Path) -> None:
    require("promtool")
    config = tmp_path / "prometheus.yml"
    shutil.copy(FLEET / "prometheus.yml", config)
    text = config.read_text("utf-8")
    files = re.findall(r"credentials_file:\s*(\S+)", text)
    assert len(files) >= 2
    assert len(files) == text.count("job_name:")  # one token per machine
    for name in files:
        assert not name.startswith("/")  # next to the config
        token = tmp_path / name
        token.parent.mkdir(exist_ok=True)
        token.write_text("token\n")
    result = subprocess.run([require("promtool"), "check", "config", str(config)], capture_output=True,
                            text=True, timeout=30, check=False)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert text.count("target_label: machine") >= 1
