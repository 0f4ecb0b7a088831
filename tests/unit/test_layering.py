"""The house's arrows (ARCHITECTURE.md): no room imports a room above it, and no module is huge.

Reads every module's imports with ``ast`` (top level and inside functions alike: a lazy import is
still an arrow) and checks them against the rules, so a new back-arrow fails here, not in review.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "trayapp"
MAX_LINES = 450

# room -> rooms it must never import
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "core": (
        "cli",
        "ui",
        "app",
        "features",
        "services",
        "channels",
        "platform",
        "store",
        "sources",
        "statusline",
    ),
    "sources": ("cli", "ui", "app", "features", "services", "channels"),
    "store": ("cli", "ui", "app", "features", "services", "channels"),
    "platform": ("cli", "ui", "app", "features", "services", "channels"),
    "channels": ("cli", "ui", "app", "features"),
    "services": ("cli", "ui", "app", "features"),
    "statusline": ("cli", "ui", "app", "features"),
    "runtime": ("cli", "ui", "app", "features", "services", "channels", "sources"),
    "ui": ("cli", "features"),
    # Feature modules (trayapp/features, listed in app_features) wire services to views, like app.
    "features": ("cli",),
}


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def room_of(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0].removesuffix(".py") if len(rel.parts) > 1 or rel.stem != "__init__" else ""


def imported_rooms(path: Path) -> set[tuple[str, int]]:
    tree = ast.parse(path.read_text("utf-8"))
    found: set[tuple[str, int]] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
            if node.module == "trayapp":
                names += [f"trayapp.{alias.name}" for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "trayapp" and len(parts) > 1:
                found.add((parts[1], node.lineno))
    return found


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_room_imports_a_room_above_it(path: Path) -> None:
    room = room_of(path)
    forbidden = FORBIDDEN.get(room, ())
    bad = sorted((target, line) for target, line in imported_rooms(path) if target in forbidden)
    assert not bad, f"{path.relative_to(PACKAGE)} ({room}) imports {bad}"


def test_nothing_imports_cli_but_the_entry_point() -> None:
    importers = [
        str(p.relative_to(PACKAGE))
        for p in modules()
        if room_of(p) not in ("cli", "__main__") and any(target == "cli" for target, _ in imported_rooms(p))
    ]
    assert importers == []


def test_every_module_is_under_the_size_limit() -> None:
    sizes = {str(p.relative_to(PACKAGE)): len(p.read_text("utf-8").splitlines()) for p in modules()}
    too_big = {name: n for name, n in sizes.items() if n >= MAX_LINES}
    assert not too_big, f"modules of {MAX_LINES} lines or more: {too_big}"


def test_the_checker_sees_a_back_arrow(tmp_path: Path) -> None:
    # The rule is only as good as the import reader: a lazy import inside a function counts.
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from trayapp.cli.export import export_csv\n    import trayapp.ui.tray\n")
    assert {room for room, _ in imported_rooms(sample)} == {"cli", "ui"}
