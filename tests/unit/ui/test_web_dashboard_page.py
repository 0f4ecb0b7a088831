"""The web dashboard page (``resources/web/dashboard.html``) as a file: the popup's colours, no
external assets, data only through textContent, and packaged in the wheel and the bundle.
Its behaviour in a real browser is tested in ``tests/integration/test_web_dashboard.py``."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from trayapp import paths
from trayapp.core.models import Level
from trayapp.ui.theme import DARK, LIGHT, Theme

REPO = Path(__file__).resolve().parents[3]
PAGE = paths.resources_dir() / "web" / "dashboard.html"


def css_block(text: str, dark: bool) -> dict[str, str]:
    """The ``--name: #hex`` custom properties of the light ``:root`` or the dark media block."""
    light_part, _, dark_part = text.partition("@media (prefers-color-scheme: dark)")
    part = dark_part.split("}", 1)[0] if dark else light_part
    return dict(re.findall(r"--([a-z0-9_-]+):\s*(#[0-9a-f]{6})", part))


def expected(theme: Theme) -> dict[str, str]:
    names = {
        "bg": theme.bg,
        "surface": theme.surface,
        "border": theme.border,
        "text": theme.text,
        "muted": theme.muted,
        "track": theme.track,
        "accent": theme.accent,
        "grid": theme.grid,
        "banner-bg": theme.banner_bg,
        "banner-text": theme.banner_text,
        "error-bg": theme.error_bg,
        "error-text": theme.error_text,
    }
    names.update({str(level): theme.levels[level] for level in Level})
    names.update({f"s{i}": colour for i, colour in enumerate(theme.series)})
    return names


def test_the_page_uses_the_popups_colours_light_and_dark() -> None:
    text = PAGE.read_text(encoding="utf-8")
    assert css_block(text, dark=False) == expected(LIGHT)
    assert css_block(text, dark=True) == expected(DARK)


def test_the_page_is_self_contained_and_small() -> None:
    text = PAGE.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 600
    # No external assets: the CSP allows 'self' only, and the page must work offline.
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)
    assert "@import" not in text
    assert "url(" not in text
    # Data from the API (session names, paths) never goes through an HTML parser.
    assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write", text)


def test_the_page_is_packaged_in_the_wheel_and_the_bundle() -> None:
    setup = ast.parse((REPO / "setup.py").read_text(encoding="utf-8"))
    literals = [ast.literal_eval(n) for n in ast.walk(setup) if isinstance(n, ast.Dict | ast.List)]
    package_data = next(d for d in literals if isinstance(d, dict) and "trayapp" in d)
    packages = next(x for x in literals if isinstance(x, list) and "trayapp.resources" in x)
    assert "trayapp.resources.web" in packages
    assert "*.html" in package_data["trayapp.resources.web"]
    spec = (REPO / "packaging" / "pyinstaller" / "claude-watch.spec").read_text(encoding="utf-8")
    assert '(str(RES / "web"), "resources/web")' in spec
