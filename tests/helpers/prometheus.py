"""The real Prometheus tools for the /metrics tests: ``promtool check metrics`` and the server.

Debian's ``prometheus`` package provides both (``packaging/system-deps.sh test``). Without them
the tests skip with the reason; under ``CI=true`` they fail instead (CI must run them).
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest


def require(tool: str) -> str:
    """The path of ``tool`` (promtool, prometheus); skips, or fails under CI=true, when missing."""
    path = shutil.which(tool)
    if path is not None:
        return path
    reason = f"{tool} not installed (packaging/system-deps.sh test installs Debian's prometheus)"
    if os.environ.get("CI") == "true":
        pytest.fail("CI=true: " + reason)
    pytest.skip(reason)


def promtool_check(text: str) -> subprocess.CompletedProcess[str]:
    """``promtool check metrics`` over ``text`` (exit 0: valid and lint-clean)."""
    return subprocess.run(
        [require("promtool"), "check", "metrics"],
        input=text,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def series_keys(text: str) -> list[tuple[str, tuple[tuple[str, str], ...]]]:
    """Every sample as (name, sorted labels), parsed by prometheus_client's own parser."""
    from prometheus_client.parser import text_string_to_metric_families

    return [
        (s.name, tuple(sorted(s.labels.items())))
        for family in text_string_to_metric_families(text)
        for s in family.samples
    ]
