"""A real Prometheus server scrapes two ``claude-watch serve --demo`` processes (issue 18).

One machine is scraped on its loopback API port, the other through its ``metrics.listen``
listener; each scrape config carries that machine's API token as a ``credentials_file`` and
relabels the target to a ``machine`` label, as ``docs/fleet/prometheus.yml`` does. A third job
with a wrong token shows what an unauthenticated scrape gets: ``up`` 0. The server's query API
must then return the expected series for both machines. Debian's ``prometheus`` package is
required (``packaging/system-deps.sh test``); under CI=true its absence fails the test.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers.otlp_bodies import logs_message
from tests.helpers.prometheus import promtool_check, require, series_keys
from tests.helpers.serve_process import ServeProcess
from trayapp.core.prom_metrics import CONTENT_TYPE

SCRAPE_SECONDS = 1
FLEET = Path(__file__).resolve().parents[2] / "docs" / "fleet"
FLEET_CONFIG = FLEET / "prometheus.yml"
# Two names for this machine, so the relabelling gives each instance its own ``machine``.
HOSTS = {"alpha": "localhost", "beta": "127.0.0.1"}
HOSTILE_MODEL = 'claude-"opus"\\4} 1\\nx{y="1"}'  # printable: the receiver refuses control characters


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def machines(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[ServeProcess, int]]]:
    """alpha: /metrics on its API port; beta: on its metrics.listen port as well."""
    require("prometheus")
    alpha = ServeProcess(tmp_path_factory.mktemp("alpha") / "home")
    beta = ServeProcess(tmp_path_factory.mktemp("beta") / "home")
    listen = free_port()
    beta.cli("config", "set", "metrics.listen", f"0.0.0.0:{listen}")
    started: list[ServeProcess] = []
    try:
        for proc in (alpha, beta):
            proc.start()
            started.append(proc)
        beta.wait_for_line(re.compile(r"serving /metrics to other machines"))
        post_api_request(alpha, HOSTILE_MODEL, cost="0.75", tokens="1200")
        yield {"alpha": (alpha, alpha.port), "beta": (beta, listen)}
    finally:
        for proc in started:
            proc.stop()


def post_api_request(proc: ServeProcess, model: str, cost: str, tokens: str) -> None:
    """One ``claude_code.api_request`` event, as Claude Code's OTLP exporter posts it (protobuf,
    the hook token), so the telemetry counters have a model to show."""
    endpoint = json.loads((proc.home / "state" / "local-server.json").read_text("utf-8"))
    body = logs_message(time.time_ns(), model=model, input_tokens=tokens, output_tokens="10", cost_usd=cost)
    r = httpx.post(
        f"http://127.0.0.1:{proc.port}/v1/logs",
        content=body.SerializeToString(),
        headers={
            "Authorization": f"Bearer {endpoint['hook_token']}",
            "Content-Type": "application/x-protobuf",
        },
        timeout=10,
    )
    assert r.status_code == 200, r.text


def fleet_relabelling() -> list[dict[str, Any]]:
    """The ``machine`` relabelling of docs/fleet/prometheus.yml, taken from that file."""
    text = FLEET_CONFIG.read_text("utf-8")
    regex = re.search(r"regex: '(.+)'", text)
    replacement = re.search(r"replacement: '(.+)'", text)
    assert regex is not None
    assert replacement is not None
    return [{"source_labels": ["__address__"], "regex": regex.group(1), "target_label": "machine",
             "replacement": replacement.group(1)}]  # fmt: skip


def scrape_config(jobs: list[tuple[str, str, Path]]) -> str:
    """Prometheus's YAML (JSON is YAML): one job per machine with its own token file, the target's
    host name relabelled to ``machine`` as in the fleet example."""
    return json.dumps({
        "global": {"scrape_interval": f"{SCRAPE_SECONDS}s", "scrape_timeout": f"{SCRAPE_SECONDS}s"},
        "scrape_configs": [
            {
                "job_name": f"claude-watch-{name}",
                "authorization": {"type": "Bearer", "credentials_file": str(token)},
                "static_configs": [{"targets": [target]}],
                "relabel_configs": fleet_relabelling(),
            }
            for name, target, token in jobs
        ],
    })  # fmt: skip


@pytest.fixture(scope="module")
def prometheus(
    machines: dict[str, tuple[ServeProcess, int]], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    work = tmp_path_factory.mktemp("prometheus")
    jobs: list[tuple[str, str, Path]] = []
    for name, (proc, port) in machines.items():
        token = work / f"{name}.token"
        token.write_text(proc.token() + "\n")
        token.chmod(0o600)
        jobs.append((name, f"{HOSTS[name]}:{port}", token))
    wrong = work / "wrong.token"
    wrong.write_text("not-the-token-not-the-token-not-the-token")
    jobs.append(("intruder", f"127.0.0.1:{machines['alpha'][1]}", wrong))
    config = work / "prometheus.yml"
    config.write_text(scrape_config(jobs))
    check = subprocess.run([require("promtool"), "check", "config", str(config)], capture_output=True,
                           text=True, timeout=30, check=False)  # fmt: skip
    assert check.returncode == 0, check.stdout + check.stderr
    port = free_port()
    log = (work / "prometheus.log").open("w")
    proc = subprocess.Popen(
        [
            require("prometheus"),
            f"--config.file={config}",
            f"--storage.tsdb.path={work / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert proc.poll() is None, (work / "prometheus.log").read_text()
            try:
                if httpx.get(f"{base}/-/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        else:
            raise AssertionError("prometheus never became ready:\n" + (work / "prometheus.log").read_text())
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()


def query(base: str, promql: str) -> list[dict[str, Any]]:
    r = httpx.get(f"{base}/api/v1/query", params={"query": promql}, timeout=10)
    r.raise_for_status()
    body = r.json()
    assert body["status"] == "success", body
    return list(body["data"]["result"])


def by_label(
    base: str, promql: str, want: set[str], label: str = "machine", timeout: float = 45
) -> dict[str, float]:
    """The query's value per ``label`` once every wanted value has a sample."""
    deadline = time.monotonic() + timeout
    got: dict[str, float] = {}
    while time.monotonic() < deadline:
        got = {r["metric"].get(label, "?"): float(r["value"][1]) for r in query(base, promql)}
        if want <= set(got):
            return got
        time.sleep(0.5)
    raise AssertionError(f"{promql}: only {got} after {timeout} s")


BOTH = set(HOSTS.values())


def query_until(base: str, promql: str, timeout: float = 45) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = query(base, promql)
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"{promql}: nothing after {timeout} s")


def test_prometheus_scrapes_both_machines(prometheus: str) -> None:
    jobs = {"claude-watch-alpha", "claude-watch-beta", "claude-watch-intruder"}
    up = by_label(prometheus, "up", jobs, label="job")
    # The wrong token's scrape is refused (401): that job is down, the two machines are up.
    assert up == {"claude-watch-alpha": 1.0, "claude-watch-beta": 1.0, "claude-watch-intruder": 0.0}
    info = by_label(prometheus, "claude_watch_build_info", BOTH)
    assert set(info) == BOTH
    assert all(
        r["metric"]["version"] and r["metric"]["qt"] for r in query(prometheus, "claude_watch_build_info")
    )
    five = by_label(
        prometheus, 'claude_watch_window_utilization_ratio{window="five_hour",account="default"}', BOTH
    )
    assert all(0.0 <= v <= 1.5 for v in five.values()), five
    resets = by_label(prometheus, 'claude_watch_window_time_to_reset_seconds{window="five_hour"}', BOTH)
    assert all(v > 0 for v in resets.values()), resets
    polls = by_label(prometheus, 'sum by (machine) (claude_watch_polls_total{outcome="ok"})', BOTH)
    assert all(v >= 1 for v in polls.values()), polls  # the demo account answered at least once
    assert set(by_label(prometheus, "sum by (machine) (claude_watch_sessions)", BOTH)) == BOTH
    assert set(by_label(prometheus, 'claude_watch_hook_events_total{event="Stop"}', BOTH)) == BOTH
    # Telemetry from alpha: the hostile model name arrives intact, as one label value.
    cost = query_until(prometheus, "claude_watch_telemetry_cost_usd_total")
    assert [(r["metric"]["machine"], r["metric"]["model"], r["value"][1]) for r in cost] == [
        ("localhost", HOSTILE_MODEL, "0.75")
    ]
    tokens = query(prometheus, 'claude_watch_telemetry_tokens_total{type="input"}')
    assert [(r["metric"]["model"], r["value"][1]) for r in tokens] == [(HOSTILE_MODEL, "1200")]


def test_every_dashboard_query_runs_and_the_limits_show_both_machines(prometheus: str) -> None:
    by_label(prometheus, "claude_watch_window_utilization_ratio", BOTH)  # both scraped by now
    board = json.loads((FLEET / "grafana-dashboard.json").read_text("utf-8"))
    exprs = [t["expr"] for p in board["panels"] for t in p.get("targets", [])]
    for expr in exprs:
        promql = expr.replace("$machine", ".*").replace("$account", ".*")
        query(prometheus, promql)  # status success, or it raises
    limits = next(e for e in exprs if "utilization_ratio" in e and "by (machine, account, window)" in e)
    shown = {
        r["metric"]["machine"]
        for r in query(prometheus, limits.replace("$machine", ".*").replace("$account", ".*"))
    }
    assert shown == BOTH


def test_served_metrics_pass_promtool_and_refuse_without_the_token(
    machines: dict[str, tuple[ServeProcess, int]],
) -> None:
    for name, (proc, port) in machines.items():
        url = f"http://127.0.0.1:{port}/metrics"
        r = httpx.get(url, headers={"Authorization": f"Bearer {proc.token()}"}, timeout=10)
        assert r.status_code == 200, name
        assert r.headers["content-type"] == CONTENT_TYPE
        result = promtool_check(r.text)
        assert result.returncode == 0, result.stdout + result.stderr
        keys = series_keys(r.text)
        assert len(keys) == len(set(keys))
        assert httpx.get(url, timeout=10).status_code == 401, name
    beta, listen = machines["beta"]
    # The listener serves /metrics only; the API stays on loopback behind its own port.
    auth = {"Authorization": f"Bearer {beta.token()}"}
    assert httpx.get(f"http://127.0.0.1:{listen}/v1/status", headers=auth, timeout=10).status_code == 404
