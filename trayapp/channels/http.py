"""The HTTP client the remote channels (Telegram, Slack) post with.

One place that knows how a channel's ``httpx.AsyncClient`` is made: a timeout on every request
(house style #7) and one shared TLS context. httpx is imported on first use, so building the
channels costs nothing until an alert really goes out.
"""

from __future__ import annotations

from typing import Any

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
