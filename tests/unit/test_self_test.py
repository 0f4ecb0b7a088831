"""The self-test's checks: each says what a broken install lacks (real files, real processes)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap

from trayapp import paths, self_test


def test_every_check_passes_in_the_checkout(qapp) -> None:
    assert self_test.run_checks() == []


def test_resources_check_names_each_missing_file(tmp_path) -> None:
    copy = tmp_path / "resources"
    shutil.copytree(paths.resources_dir(), copy)
    assert self_test.check_resources(copy) is None
    (copy / "pricing.json").unlink()
    (copy / "sounds" / "threshold-warning.wav").unlink()
    problem = self_test.check_resources(copy)
    assert problem == f"resources missing in {copy}: sounds/threshold-warning.wav, pricing.json"


def test_self_test_fails_when_the_bundle_has_no_resources(tmp_path) -> None:
    # A frozen app finds its resources under sys._MEIPASS: point that at an empty folder.
    script = textwrap.dedent(
        f"""
        import sys
        sys._MEIPASS = {str(tmp_path)!r}
        from trayapp.__main__ import main
        sys.exit(main(["--self-test"]))
        """
    )
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 1, out.stdout + out.stderr
    assert f"SELF-TEST FAILED: resources missing in {tmp_path / 'resources'}: icons/" in out.stdout


def test_scan_check_counts_the_records_through_the_pool() -> None:
    assert self_test.check_scan(workers=2) is None


def test_version_check_fails_without_the_package_metadata(monkeypatch) -> None:
    import trayapp

    assert self_test.check_version() is None
    monkeypatch.setattr(trayapp, "_version", None)
    monkeypatch.setattr(trayapp, "DIST_NAME", "claude-watch-not-installed")
    assert self_test.check_version() == "package metadata missing: version unknown"
