"""Refresh from the tray menu (issue 20: "When the popup's ⟳ or the menu's 'Refresh now' is
throttled (30 s), nothing visibly happens"): the real app with the demo account, its menu's
refresh signal, the usage engine's real throttle."""

from __future__ import annotations

import pytest

from tests.helpers.async_wait import until
from trayapp.demo import DEMO_ROOT_ENV, enter_demo_home

pytestmark = pytest.mark.qt_loop


async def test_a_throttled_menu_refresh_says_so_and_an_open_dashboard_looks_busy(qapp, monkeypatch) -> None:
    from trayapp.app import ClaudeWatch

    monkeypatch.setenv(DEMO_ROOT_ENV, "")
    enter_demo_home()
    cw = ClaudeWatch(qapp, demo=True, self_test=True)
    cw.build()
    cw.tray_available = True  # offscreen has no tray: its messages are caught below
    messages: list[str] = []
    monkeypatch.setattr(cw.tray.icon, "showMessage", lambda title, body, *rest: messages.append(body))
    try:
        await cw.start_usage()  # polls the demo server at once
        sim = cw.demo_handle.simulator
        assert await until(lambda: len(sim.requests) == 1)
        assert await until(lambda: cw.usage.engine.policy.last_attempt is not None)
        requests = len(sim.requests)
        cw.tray.refresh_requested.emit()  # "Refresh now" in the menu, seconds after that poll
        assert await until(lambda: bool(messages), 10)
        assert "refresh is allowed in" in messages[0]
        assert len(sim.requests) == requests  # not sent
        popup = cw.popup
        popup.show_at(None)
        cw.tray.refresh_requested.emit()  # again, with the dashboard open
        assert popup.refreshing  # busy at once
        assert not popup.refresh_button.isEnabled()
        assert await until(lambda: not popup.refreshing, 10)  # until its answer
        assert "refresh is allowed in" in popup.banner.text()
        assert len(messages) == 1  # the open dashboard says it; no second message
    finally:
        await cw.shutdown()
