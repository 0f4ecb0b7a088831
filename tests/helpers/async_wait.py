"""Waiting for a condition inside a running event loop (the app's services fill the popup over a
few loop turns): poll ``check`` every 50 ms until it holds or the time is up."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


async def until(check: Callable[[], bool], timeout: float = 20.0) -> bool:
    """True as soon as ``check()`` is; after ``timeout`` seconds, its last answer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        await asyncio.sleep(0.05)
    return check()
