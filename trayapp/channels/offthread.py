"""Run blocking work (SQLite, keyring) in a daemon thread and await its outcome on the loop.

Why not ``asyncio.to_thread``: under qasync, ``run_in_executor`` goes through ``QThreadExecutor``,
which logs call arguments and results at DEBUG level (a secret value would land in a log), and
handing plain Python results back through its cross-thread signal corrupted reference counts in
our test runs (``bool_dealloc`` at exit). Here the result crosses threads inside a closure, and
the thread is a daemon, so a hung keyring cannot block interpreter exit.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


async def off_thread(fn: Callable[..., T], *args: Any) -> T:
    """``await off_thread(fn, *args)``: ``fn(*args)`` in a new daemon thread."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(outcome: Callable[[], None]) -> None:
        if not future.done():
            outcome()

    def post(outcome: Callable[[], None]) -> None:
        try:
            loop.call_soon_threadsafe(lambda: settle(outcome))
        except RuntimeError:  # the loop closed while we worked (shutdown): nobody is waiting
            pass

    def work() -> None:
        try:
            result = fn(*args)
        except BaseException as exc:
            error = exc  # ``exc`` is unbound once the except block ends
            post(lambda: future.set_exception(error))
        else:
            post(lambda: future.set_result(result))

    threading.Thread(target=work, name="off-thread", daemon=True).start()
    return await future


_ssl_context: Any = None


def http_client(timeout: float) -> Any:
    """A fresh ``httpx.AsyncClient`` sharing one TLS context: building the context (loading the CA
    bundle) costs about 25 ms, the client itself almost nothing. Clients are per call because an
    AsyncClient belongs to one event loop, and alerts are rare."""
    global _ssl_context
    import httpx

    if _ssl_context is None:
        _ssl_context = httpx.create_ssl_context()
    return httpx.AsyncClient(timeout=timeout, verify=_ssl_context)
