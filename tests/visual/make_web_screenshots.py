"""Render the web dashboard (light and dark) into ./screenshots/ for a person to look at.

The real API routes run in this process (``tests/helpers/api_in_thread``) with the popup
screenshots' made-up "warning" state, their eight days of synthetic history and four sample
sessions, so the pictures never depend on a Claude login; headless Chromium shows the page
(``packaging/system-deps.sh test``). ``make screenshots`` runs it after the Qt pictures.

    python tests/visual/make_web_screenshots.py [--out screenshots]
"""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.helpers.api_in_thread import InProcessApi  # noqa: E402
from tests.helpers.browser import start_browser  # noqa: E402
from tests.visual.make_screenshots import NOW, history, sample_sessions, states  # noqa: E402
from trayapp.services.api_docs import sessions_json  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(REPO / "screenshots"))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = history(NOW - timedelta(days=8), targets=(81.0, 77.0))
    served = InProcessApi(states()["warning"], history=[(t, wid, u) for t, wid, u, _ in rows])
    served.publish_sessions(sessions_json(sample_sessions(4), None, NOW))  # type: ignore[arg-type]
    browser = start_browser()
    saved = []
    try:
        browser.set_size(900, 1400)
        browser.get(served.login_url())
        browser.wait_for("return !!document.querySelector('#timeline path[data-window]')")
        browser.wait_for("return document.querySelectorAll('#sessions .session').length > 0")
        bottom = "return Math.ceil(document.querySelector('main').getBoundingClientRect().bottom)"
        browser.viewport(900, int(browser.run(bottom)))
        for scheme in ("light", "dark"):
            browser.color_scheme(scheme)
            browser.wait_for("return true")
            saved.append(browser.screenshot(out / f"web-dashboard-{scheme}.png"))
    finally:
        browser.quit()
        served.stop()
    for path in saved:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
