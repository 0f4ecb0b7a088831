"""The README's pictures, taken from the seeded demo (``claude-watch --demo``) as the app runs it.

:func:`shoot_demo` runs the real composition root with the demo twice (a relaxed account and one
near its limits), each in a fresh demo folder, waits until the chart, the sessions panel and the
local-usage panel are filled, and saves the popup (its top, and scrolled to the panels) in light
and dark, the 7-day view, and, on a display with a tray (``make screenshots`` runs under
``tests/integration/with-services.sh``), the tray icon with the popup opened below it. Called by
``make_screenshots.py``. Each popup picture is saved at 1x and at 2x (``@2x``: rendered at device
pixel ratio 2, as a HiDPI screen shows it).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.helpers.async_wait import until

RELAXED: dict[str, Any] = {}  # the demo as it starts: 37 % of the 5-hour window, 27 % of the week
# A heavy user at real speed: 86 % with 1.5 h to go (the pace runs out first), 73 % of the week.
NEAR_LIMIT: dict[str, Any] = {"speed": 1.0, "phases": (0.7, 0.9), "peaks": (140.0, 95.0)}


async def demo_app(app: Any, account: dict[str, Any], theme: str) -> Any:
    """The app with a freshly seeded demo (``account``: ``start_demo``'s options), its services
    started and its data in."""
    from trayapp import runtime
    from trayapp.app import ClaudeWatch
    from trayapp.demo import DEMO_ROOT_ENV, enter_demo_home
    from trayapp.services.demo_seed import start_seeded_demo
    from trayapp.ui.panels.local_usage import LocalUsagePanel

    os.environ[DEMO_ROOT_ENV] = ""  # a new demo folder for each account
    enter_demo_home()
    cw = ClaudeWatch(app, demo=True, self_test=True)
    cw.build()  # the demo feature swaps the sessions reader here
    cw.settings.update({"ui.theme": theme, "ui.timeline_range": "24h"})
    cw.demo = False  # this account's own options: seeded here instead of in start_usage
    cw.demo_handle = await runtime.run_blocking(lambda: start_seeded_demo(None, **account))
    cw.on_stop_sync("demo server", cw.demo_handle.stop)
    await cw.start_usage()
    cw.start_tracking()
    cw.on_stop("sessions", await cw.sessions.start(cw.usage))
    await until(lambda: cw.state is not None and cw.state.snapshot is not None)
    popup = cw.popup
    local = next(p for p in popup._panels if isinstance(p, LocalUsagePanel))
    await until(lambda: len(cw.sessions_panel.rows) >= 3 and "tokens" in local.today.text())
    return cw


async def show(cw: Any, anchor: Any = None) -> Any:
    popup = cw.popup
    popup.show_at(anchor)
    await until(lambda: all(sum(map(len, s.segments)) > 50 for s in popup.timeline.series[:2]), 10)
    await asyncio.sleep(0.4)
    return popup


async def shots(app: Any, out: Path, suffix: str, tray_capture: Callable[..., bool] | None) -> list[Path]:
    saved: list[Path] = []

    def save(widget: Any, name: str) -> None:
        """``name.png`` and ``name@2x.png`` (rendered at device pixel ratio 2, as on a HiDPI screen)."""
        from PySide6.QtGui import QPixmap

        path = out / f"{name}{suffix}.png"
        widget.grab().save(str(path))
        double = QPixmap(widget.size() * 2)
        double.setDevicePixelRatio(2.0)
        widget.render(double)
        double.save(str(out / f"{name}{suffix}@2x.png"))
        saved.extend([path, out / f"{name}{suffix}@2x.png"])

    for name, account in (("relaxed", RELAXED), ("near-limit", NEAR_LIMIT)):
        for theme in ("light", "dark"):
            cw = await demo_app(app, account, theme)
            try:
                if name == "relaxed" and theme == "light" and tray_capture is not None:
                    saved += await tray_and_popup(cw, out, suffix, tray_capture)  # first: placed fresh
                popup = await show(cw)
                save(popup, f"demo-{theme}-{name}")
                # The panels: the sessions panel at the top of the scrolled body.
                popup.body_scroll.verticalScrollBar().setValue(cw.sessions_panel.y() - 2)
                await asyncio.sleep(0.3)
                save(popup, f"demo-{theme}-{name}-panels")
                popup.body_scroll.verticalScrollBar().setValue(0)
                if name == "relaxed":
                    popup.set_range("7d", emit=True)
                    await show(cw)
                    save(popup, f"demo-{theme}-7d")
                popup.hide()
            finally:
                cw.tray.hide()
                await cw.shutdown()
    return saved


async def tray_and_popup(cw: Any, out: Path, suffix: str, capture: Callable[..., bool]) -> list[Path]:
    """The tray icon in trayer with the popup opened below it, as a user sees it."""
    cw.tray.show()
    # Embedded at (0, 0) first, then moved into trayer's panel: wait for its real place.
    if not await until(lambda: cw.tray.icon.geometry().x() > 0, 5):
        print("skip: the tray icon did not embed")
        return []
    await asyncio.sleep(0.4)
    popup = await show(cw, cw.tray.anchor())
    await asyncio.sleep(0.5)
    g, icon = popup.frameGeometry(), cw.tray.icon.geometry()
    left = max(0, min(g.left(), icon.left()) - 20)
    right = max(g.right(), icon.right()) + 20
    path = out / f"tray-and-popup{suffix}.png"
    ok = capture(path, f"{right - left}x{g.bottom() + 20}+{left}+0")
    popup.hide()
    return [path] if ok else []


def shoot_demo(
    app: Any, out: Path, suffix: str = "", tray_capture: Callable[..., bool] | None = None
) -> list[Path]:
    """Run :func:`shots` on a qasync loop (the app's services need one); returns the files."""
    import qasync

    with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
        return runner.run(shots(app, out, suffix, tray_capture))
