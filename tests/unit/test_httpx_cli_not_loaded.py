"""httpx's command-line client (click, pygments) is never imported by Claude Watch."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest


@pytest.mark.skipif(importlib.util.find_spec("click") is None, reason="click is not installed here")
def test_importing_httpx_through_trayapp_skips_its_cli() -> None:
    probe = "import trayapp, httpx, sys; print('click' in sys.modules, callable(httpx.main))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]
