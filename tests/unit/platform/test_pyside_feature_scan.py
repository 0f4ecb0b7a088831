"""PySide6's feature hook must not keep the source of imported modules (about 10 MB in the app)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

PROBE = textwrap.dedent(
    """
    import linecache, sys
    sys.path.insert(0, sys.argv[1])
    import PySide6.QtCore
    if sys.argv[2] == "patched":
        from trayapp.platform import pyside_feature_scan
        assert pyside_feature_scan.install()
    import uses_qt, plain  # imported after Qt: PySide6's hook looks at both
    cached = [name for name in linecache.cache if name.endswith(("uses_qt.py", "plain.py"))]
    feature = sys.modules["shibokensupport.feature"]
    print(len(cached), feature.pyside_feature_dict.get("uses_qt"), feature.pyside_feature_dict.get("plain"))
    """
)


def _run(tmp_path: Path, mode: str) -> list[str]:
    (tmp_path / "uses_qt.py").write_text("from PySide6.QtCore import QObject\n" + "# filler\n" * 5000)
    (tmp_path / "plain.py").write_text("X = 1\n" + "# filler\n" * 5000)
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path), mode],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[3],
    )
    return out.stdout.split()


def test_imports_after_the_patch_leave_no_source_in_memory(tmp_path: Path) -> None:
    assert _run(tmp_path, "patched")[0] == "0"


def test_the_patch_gives_pyside_the_same_answer(tmp_path: Path) -> None:
    # 0: the module uses PySide6 (features may apply); -1: it does not.
    assert _run(tmp_path, "patched")[1:] == _run(tmp_path, "plain")[1:] == ["0", "-1"]


def test_without_the_patch_pyside_caches_the_sources(tmp_path: Path) -> None:
    """The problem the patch exists for; when PySide6 stops doing this, the patch can go."""
    assert _run(tmp_path, "plain")[0] == "2"
