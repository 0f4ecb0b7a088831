"""Every benchmark the Makefile and bench/README.md name starts on a fresh clone: it exists, imports
what it needs and parses its options (``--help``). Review finding: `make bench-scan` failed on a
fresh machine while nothing noticed."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def documented_scripts() -> list[str]:
    text = (REPO / "Makefile").read_text("utf-8") + (REPO / "bench" / "README.md").read_text("utf-8")
    return sorted(set(re.findall(r"\bbench/([a-z_]+\.py)\b", text)))


def test_the_makefile_names_benchmarks() -> None:
    assert "bench_tray.py" in documented_scripts()
    assert "bench_soak.py" in documented_scripts()


@pytest.mark.parametrize("script", documented_scripts())
def test_documented_benchmark_starts(script: str) -> None:
    path = REPO / "bench" / script
    assert path.is_file(), f"bench/{script} is documented but missing"
    done = subprocess.run(
        [sys.executable, str(path), "--help"], capture_output=True, text=True, cwd=REPO, timeout=60
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "usage:" in done.stdout
