"""Widget tests share one QApplication: a test that gave it Claude Watch's dark palette and style
sheet (the app's theme feature, a Settings test) hands the next one the platform's again."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _platform_theme_after_each_test() -> Iterator[None]:
    yield
    from trayapp.ui import theme

    theme.reset_app()
